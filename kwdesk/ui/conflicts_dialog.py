"""Pairs that contradict each other, side by side with their sources; the expert keeps one
side or says both are right. The finding is core.conflicts'; this dialog shows and asks."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.data.conflicts import (
    Conflict,
    ConflictSide,
    find_conflicts,
    keep_both,
    keep_one,
)


def _side_text(side: ConflictSide) -> str:
    where = f"{side.document} (version {side.version}), page {side.page}" if side.document else "added by hand"
    return (f"Pair {side.pair_id}  ·  {where}\n\nQ: {side.question}\nA: {side.answer}\n\n"
            f"Key facts: {', '.join(side.facts) or '(none)'}\n\nSource passage:\n{side.source_span or '(none kept)'}")


class ConflictsDialog(QDialog):
    def __init__(self, db, collection_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.collection_id = collection_id
        self.setWindowTitle("Answers that contradict each other")
        self.resize(1000, 560)
        self.conflicts: list[Conflict] = []
        self.index = 0
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.views = [QPlainTextEdit(), QPlainTextEdit()]
        for view in self.views:
            view.setReadOnly(True)
        self.keep_buttons = [QPushButton("Keep this one"), QPushButton("Keep this one")]
        self.keep_buttons[0].clicked.connect(lambda: self.keep(0))
        self.keep_buttons[1].clicked.connect(lambda: self.keep(1))
        grid = QGridLayout()
        for column in (0, 1):
            grid.addWidget(self.views[column], 0, column)
            grid.addWidget(self.keep_buttons[column], 1, column)
        self.both_button = QPushButton("Both are right")
        self.both_button.setToolTip("They are about different things after all: keep both and stop flagging them")
        self.both_button.clicked.connect(self.both)
        self.skip_button = QPushButton("Next")
        self.skip_button.clicked.connect(self._next)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.both_button)
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(grid, 1)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        self.conflicts = find_conflicts(self.db, self.collection_id)
        self.index = min(self.index, max(0, len(self.conflicts) - 1))
        self._show()

    def current(self) -> Conflict | None:
        return self.conflicts[self.index] if self.conflicts else None

    def _show(self) -> None:
        conflict = self.current()
        for widget in (*self.keep_buttons, self.both_button, self.skip_button):
            widget.setEnabled(conflict is not None)
        if conflict is None:
            self.header.setText("No pairs contradict each other. Training can go ahead.")
            for view in self.views:
                view.setPlainText("")
            return
        self.header.setText(
            f"Conflict {self.index + 1} of {len(self.conflicts)}: the questions ask the same thing, the answers disagree. "
            "Training both would teach the model two answers; choose the one that is right."
        )
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        for view, side in zip(self.views, (conflict.a, conflict.b)):
            view.setPlainText(_side_text(side))

    def keep(self, column: int) -> None:
        conflict = self.current()
        if conflict is None:
            return
        kept, rejected = (conflict.a, conflict.b) if column == 0 else (conflict.b, conflict.a)
        keep_one(self.db, kept.pair_id, rejected.pair_id)
        self.reload()

    def both(self) -> None:
        conflict = self.current()
        if conflict is not None:
            keep_both(self.db, conflict.a.pair_id, conflict.b.pair_id)
            self.reload()

    def _next(self) -> None:
        if self.conflicts:
            self.index = (self.index + 1) % len(self.conflicts)
            self._show()
