"""The pairs review table over SQLite: fast at 100,000 rows.

The model holds only the ids that pass the filters (one query); the content of a row is
read when the view asks for it, a block of rows at a time, and kept in a small cache
(after Anki's browser table model). Edits go to the database at once.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from kwdesk.core.store.pairs import (
    TABLE_COLUMNS,
    PairEditError,
    PairFilter,
    edit_pair,
    filtered_pair_ids,
    snapshot,
    table_rows,
)

HEADERS = {"id": "#", "status": "Status", "question": "Question", "answer": "Answer", "strategy": "Strategy",
           "kind": "Kind", "document": "Document", "pages": "Pages", "learned": "Learned"}
EDITABLE = {"question": "question", "answer": "answer"}
BLOCK = 200  # rows read at once
CACHE_ROWS = 5_000


class PairsTableModel(QAbstractTableModel):
    # An edit in place: the pair's state before and after (core.pairs.snapshot), for undo.
    edited = Signal(list, list)

    def __init__(self, db) -> None:
        super().__init__()
        self.db = db
        self.ids: list[int] = []
        self.filters: dict = {}
        self._cache: OrderedDict[int, tuple] = OrderedDict()

    # --- loading ---------------------------------------------------------------------------

    def set_filters(self, **filters) -> None:
        self.beginResetModel()
        self.filters = filters
        self.ids = filtered_pair_ids(self.db, PairFilter(**filters))
        self._cache.clear()
        self.endResetModel()

    def refresh_rows(self, pair_ids: list[int]) -> None:
        """Re-read rows that changed outside the model (a status set by a button)."""
        for pair_id in pair_ids:
            self._cache.pop(pair_id, None)
        positions = {pair_id: i for i, pair_id in enumerate(self.ids)}
        rows = [positions[p] for p in pair_ids if p in positions]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(TABLE_COLUMNS) - 1))

    def _row(self, row: int) -> tuple | None:
        pair_id = self.ids[row]
        cached = self._cache.get(pair_id)
        if cached is not None:
            self._cache.move_to_end(pair_id)
            return cached
        start = (row // BLOCK) * BLOCK
        block = self.ids[start : start + BLOCK]
        for key, value in table_rows(self.db, block).items():
            self._cache[key] = value
        while len(self._cache) > CACHE_ROWS:
            self._cache.popitem(last=False)
        return self._cache.get(pair_id)

    # --- Qt model ------------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(TABLE_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[TABLE_COLUMNS[section]]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.ToolTipRole):
            return None
        row = self._row(index.row())
        if row is None:
            return None
        value = row[index.column()]
        if role == Qt.ItemDataRole.DisplayRole and isinstance(value, str):
            # One line per cell; the full text is in the editor and the tooltip.
            return value.replace("\n", " ⏎ ")[:300]
        return value

    def flags(self, index):
        base = super().flags(index)
        if index.isValid() and TABLE_COLUMNS[index.column()] in EDITABLE:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        column = TABLE_COLUMNS[index.column()]
        if role != Qt.ItemDataRole.EditRole or column not in EDITABLE:
            return False
        pair_id = self.ids[index.row()]
        before = snapshot(self.db, [pair_id])
        try:
            saved = edit_pair(self.db, pair_id, **{EDITABLE[column]: str(value)})
        except PairEditError:
            return False  # an empty answer teaches nothing: the cell keeps its text
        if not saved:
            return False  # nothing changed: no save, no undo step
        self.refresh_rows([pair_id])
        self.edited.emit(before, snapshot(self.db, [pair_id]))
        return True

    def pair_id(self, row: int) -> int:
        return self.ids[row]
