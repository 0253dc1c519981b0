"""Data: review the Q&A pairs beside their source passages, from the keyboard.

y accepts, n rejects, u resets, arrows move; the next pair is selected after a verdict so
that a thousand pairs can be reviewed without the mouse. Every change is saved at once.
Text from documents and models is shown as plain text; the answer's words are highlighted
in the passage with character formats, never with HTML.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.pair_quality import content_words
from kwdesk.core.pairs import TABLE_COLUMNS, provenance, set_status
from kwdesk.core.workspace import Workspace
from kwdesk.ui.pairs_model import PairsTableModel


class DataPage(QWidget):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db = workspace.connect()
        self.model = PairsTableModel(self._db)

        self.status_filter = QComboBox()
        self.status_filter.addItems(["all", "new", "accepted", "edited", "rejected"])
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search questions and answers")
        self.status_filter.currentTextChanged.connect(self.apply_filters)
        self.search.textChanged.connect(self.apply_filters)
        self.count_label = QLabel()

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for column, name in enumerate(TABLE_COLUMNS):
            mode = QHeaderView.ResizeMode.Stretch if name in ("question", "answer") else QHeaderView.ResizeMode.ResizeToContents
            header.setSectionResizeMode(column, mode)
        self.table.selectionModel().currentRowChanged.connect(self._show_source)

        buttons = QHBoxLayout()
        for label, status, key in (("Accept (y)", "accepted", "Y"), ("Reject (n)", "rejected", "N"), ("Reset (u)", "new", "U")):
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, s=status: self.set_selected_status(s))
            buttons.addWidget(button)
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda s=status: self.set_selected_status(s))
        buttons.addStretch(1)

        self.source_title = QLabel()
        self.source_title.setTextFormat(Qt.TextFormat.PlainText)
        self.source_title.setWordWrap(True)
        self.source_view = QPlainTextEdit()
        self.source_view.setReadOnly(True)
        source = QWidget()
        source_layout = QVBoxLayout(source)
        source_layout.setContentsMargins(0, 0, 0, 0)
        source_layout.addWidget(QLabel("Source passage"))
        source_layout.addWidget(self.source_title)
        source_layout.addWidget(self.source_view, 1)

        splitter = QSplitter()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Status"))
        filters.addWidget(self.status_filter)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.count_label)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(buttons)
        splitter.addWidget(left)
        splitter.addWidget(source)
        splitter.setSizes([700, 350])

        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.apply_filters()

    def apply_filters(self, *_args) -> None:
        status = self.status_filter.currentText()
        self.model.set_filters(status=None if status == "all" else status, text=self.search.text() or None)
        count = self.model.rowCount()
        self.count_label.setText(f"{count} pair{'' if count == 1 else 's'}")
        if self.model.rowCount():
            self.table.selectRow(0)

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [self.model.pair_id(row) for row in rows]

    def set_selected_status(self, status: str) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        set_status(self._db, ids, status)
        self.model.refresh_rows(ids)
        current = self.table.currentIndex().row()
        if len(ids) == 1 and current + 1 < self.model.rowCount():
            self.table.selectRow(current + 1)  # on to the next pair

    def _show_source(self, *_args) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            self.source_view.setPlainText("")
            self.source_title.setText("")
            return
        info = provenance(self._db, self.model.pair_id(index.row()))
        passage = info.get("passage") or "(written by hand: no source passage)"
        pages = ""
        if info.get("page_start"):
            pages = f", p. {info['page_start']}" + (f"-{info['page_end']}" if info["page_end"] != info["page_start"] else "")
        self.source_title.setText(
            f"{info.get('document') or 'no document'}{pages} · {info.get('strategy')} · made by {info.get('made_by')}"
        )
        self.source_view.setPlainText(passage)
        self._highlight(content_words(info.get("answer") or ""))

    def _highlight(self, words: set[str]) -> None:
        document = self.source_view.document()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#fff3a0"))
        for word in words:
            cursor = QTextCursor(document)
            while True:
                cursor = document.find(word, cursor)
                if cursor.isNull():
                    break
                cursor.mergeCharFormat(fmt)

    def shutdown(self) -> None:
        self._db.close()
