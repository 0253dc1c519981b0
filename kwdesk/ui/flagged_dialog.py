"""Sentences of the documents addressed to a model ("ignore previous instructions"), with
their source: the expert keeps one (ordinary text after all) or keeps it out of training.
The finding is core's (text/instructions.py at import); this dialog shows and asks."""

from __future__ import annotations

from PySide6.QtCore import Qt
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

from kwdesk.core.store.documents import cite_pages
from kwdesk.core.store.flagged import (
    KEEP,
    OUT,
    FlaggedText,
    decide_flagged,
    list_flagged,
)

_STATE = {KEEP: "kept: used for training data", OUT: "kept out", None: "held out until you decide"}


class FlaggedDialog(QDialog):
    def __init__(self, db, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setWindowTitle("Sentences addressed to a model")
        self.resize(900, 460)
        self.header = QLabel(
            "These sentences speak to an AI model rather than to a reader, or ask to open a link. A file meant to "
            "change what a model says can hide them among real text. They are left out of generated questions and "
            "training until you decide."
        )
        self.header.setWordWrap(True)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.keep_button = QPushButton("It is ordinary text: use it")
        self.keep_button.clicked.connect(lambda: self.decide(KEEP))
        self.out_button = QPushButton("Keep it out")
        self.out_button.clicked.connect(lambda: self.decide(OUT))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.out_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.flagged: list[FlaggedText] = []
        self.reload()

    def reload(self) -> None:
        row = max(0, self.list.currentRow())
        self.flagged = list_flagged(self.db)
        self.list.clear()
        for item in self.flagged:
            where = f"{item.document}, {cite_pages(item.page, item.page)}" if item.page else item.document
            # Plain text: the sentence is the file's, never markup.
            entry = QListWidgetItem(f"{item.text}\n    {where} · {item.reason} · {_STATE.get(item.decision)}")
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            self.list.addItem(entry)
        if self.flagged:
            self.list.setCurrentRow(min(row, len(self.flagged) - 1))
        for button in (self.keep_button, self.out_button):
            button.setEnabled(bool(self.flagged))

    def decide(self, decision: str) -> None:
        entry = self.list.currentItem()
        if entry is None:
            return
        decide_flagged(self.db, entry.data(Qt.ItemDataRole.UserRole), decision)
        self.reload()
