"""The model library: bases, adapters, merged models and GGUF files, with where each came from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.library import ModelEntry, delete_model, list_models
from kwdesk.core.workspace import Workspace

KIND_LABELS = {"base": "base model", "adapter": "adapter (LoRA)", "merged": "merged model", "gguf": "model file (GGUF)"}


def _size(size_bytes: int | None) -> str:
    if not size_bytes:
        return ""
    return f"{size_bytes / 1e9:.2f} GB" if size_bytes >= 1e9 else f"{size_bytes / 1e6:.0f} MB"


class LibraryPage(QWidget):
    chat_requested = Signal(int)
    models_changed = Signal()

    COLUMNS = ("#", "Kind", "Name", "From", "Quantization", "Size", "Verified", "Made")

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.db = workspace.connect()
        self.entries: list[ModelEntry] = []
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.empty = QLabel("No models yet. Train on your pairs (step 3) and the adapters and model files appear here.")
        self.empty.setWordWrap(True)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chat_button = QPushButton("Chat with it")
        self.chat_button.clicked.connect(lambda: self.selected() and self.chat_requested.emit(self.selected().id))
        self.folder_button = QPushButton("Show in folder")
        self.folder_button.clicked.connect(self._show_in_folder)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        buttons = QHBoxLayout()
        for button in (self.chat_button, self.folder_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.entries = list(reversed(list_models(self.db)))
        names = {entry.id: entry.name for entry in self.entries}
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            parent = names.get(entry.parent_model_id, "") if entry.parent_model_id else (
                f"run {entry.run_id}" if entry.run_id else entry.meta.get("source", ""))
            values = (str(entry.id), KIND_LABELS.get(entry.kind, entry.kind), entry.name, parent, entry.quantization or "",
                      _size(entry.size_bytes), {True: "yes", False: "FAILED", None: ""}[entry.verified], entry.created_at[:16].replace("T", " "))
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.empty.setVisible(not self.entries)
        self._update_buttons()

    def selected(self) -> ModelEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        entry = self.selected()
        self.chat_button.setEnabled(entry is not None and entry.kind == "gguf" and bool(entry.verified))
        self.folder_button.setEnabled(entry is not None)
        self.delete_button.setEnabled(entry is not None)
        if entry is None:
            self.details.setText("")
            return
        verification = entry.meta.get("verification") or {}
        self.details.setText(
            f"{entry.path}"
            + (f"\nTrained from {entry.meta.get('base_name') or entry.meta.get('base')}" if entry.meta.get("base") else "")
            + (f"\nVerified: {verification.get('agreement', 0):.0%} next-token agreement with the trained model "
               f"(needed {verification.get('tolerance', 0):.0%})" if verification else "")
        )

    def _show_in_folder(self) -> None:
        entry = self.selected()
        if entry is not None:
            path = Path(entry.path)
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path if path.is_dir() else path.parent)))

    def delete_selected(self, *, confirm: bool = True) -> None:
        entry = self.selected()
        if entry is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self, "Delete a model",
                f"Delete {entry.name}? Its files inside the workspace are removed; files elsewhere are kept.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        delete_model(self.workspace, self.db, entry.id)
        self.refresh()
        self.models_changed.emit()

    def shutdown(self) -> None:
        self.db.close()
