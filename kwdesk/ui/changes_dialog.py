"""What a new version of a document changed: the passages removed and added, the pairs to
retire and the passages to generate for, and the choice of how to train the next adapter.
The lists come from core.versions; this dialog only shows them and asks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.data.versions import (
    TRAINING_CHOICE,
    DocumentChanges,
    apply_changes,
    document_changes,
)
from kwdesk.ui.theme import error_color, good_color


def _passages(title: str, items, colour: str) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(f"{title} ({len(items)})")
    label.setStyleSheet(f"font-weight: bold; color: {colour}")
    listing = QListWidget()
    listing.setWordWrap(True)
    for change in items:
        item = QListWidgetItem(f"p. {change.page_start}: {change.text[:300]}")
        item.setToolTip(change.text)
        listing.addItem(item)
    layout.addWidget(label)
    layout.addWidget(listing)
    return box


class ChangesDialog(QDialog):
    generate_requested = Signal(list)  # chunk ids of new passages without pairs

    def __init__(self, db, document_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.changes: DocumentChanges = document_changes(db, document_id)
        c = self.changes
        self.setWindowTitle(f"What changed in {c.name}")
        self.resize(980, 620)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        lists = QHBoxLayout()
        lists.addWidget(_passages("Removed or changed passages: their pairs are to retire", c.removed, error_color()))
        lists.addWidget(_passages("New passages: pairs to generate", c.added, good_color()))
        self.apply_button = QPushButton("Retire and move pairs")
        self.apply_button.setToolTip("Pairs of unchanged passages move to the new version; pairs of removed passages "
                                     "are rejected (they stay in the table, marked retired)")
        self.apply_button.clicked.connect(self.apply)
        self.generate_button = QPushButton("Write pairs for the new passages")
        self.generate_button.clicked.connect(self._generate)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.generate_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        choice = QLabel(
            "Then train the next adapter (step 3):\n"
            f"• {TRAINING_CHOICE['previous']}\n• {TRAINING_CHOICE['scratch']}"
        )
        choice.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(lists, 1)
        layout.addWidget(choice)
        layout.addLayout(buttons)
        self._update()

    def _update(self) -> None:
        c = self.changes
        self.summary.setText(
            f"Version {c.version} against the version before it: {len(c.unchanged)} passages unchanged, "
            f"{len(c.removed)} removed or changed, {len(c.added)} new.\n"
            f"{len(c.pairs_to_retire)} pair(s) come from passages that are gone (to retire); "
            f"{len(c.pairs_to_carry)} pair(s) of unchanged passages still point at the old version (to move); "
            f"{len(c.chunks_to_generate)} new passage(s) have no pairs yet (to generate)."
        )
        self.apply_button.setEnabled(bool(c.pairs_to_retire or c.pairs_to_carry))
        self.generate_button.setEnabled(bool(c.chunks_to_generate))

    def apply(self) -> dict:
        done = apply_changes(self.db, self.changes)
        self.changes = document_changes(self.db, self.changes.document_id)
        self._update()
        return done

    def _generate(self) -> None:
        self.generate_requested.emit(list(self.changes.chunks_to_generate))
        self.accept()
