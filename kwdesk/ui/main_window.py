"""The main window: one place per step of the flow, and a status bar that says what runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QMainWindow, QMessageBox, QStackedWidget, QWidget

from kwdesk.core.workspace import Workspace
from kwdesk.ui.data_page import DataPage
from kwdesk.ui.documents_page import DocumentsPage


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, model_name: str) -> None:
        super().__init__()
        self.workspace = workspace
        self.setWindowTitle(f"kwdesk — {workspace.root}")
        self.setAcceptDrops(True)

        self.documents = DocumentsPage(workspace)
        self.documents.busy_changed.connect(self._show_busy)
        self.data = DataPage(workspace)

        self.steps = QListWidget()
        self.steps.setObjectName("steps")
        self.steps.setFixedWidth(170)
        self.pages = QStackedWidget()
        for title, page in (("1  Documents", self.documents), ("2  Data (Q&A)", self.data)):
            self.steps.addItem(title)
            self.pages.addWidget(page)
        self.steps.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.steps.currentRowChanged.connect(lambda row: row == 1 and self.data.apply_filters())
        self.steps.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.steps)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.running_label = QLabel("Ready")
        self.statusBar().addWidget(self.running_label, 1)
        where = QLabel(f"Workspace: {workspace.root}   ·   Model: {model_name}")
        where.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(where)

        self.resize(1100, 700)
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def _show_busy(self, what: str) -> None:
        self.running_label.setText(what or "Ready")

    # --- drag and drop anywhere on the window -------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.steps.setCurrentRow(0)
            self.documents.import_paths(paths)

    # --- closing -------------------------------------------------------------------------

    def confirm_cancel_on_close(self) -> bool:
        answer = QMessageBox.question(
            self,
            "A job is running",
            "kwdesk is still importing. Cancel it and close? What is already imported is kept.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.documents.is_busy():
            if not self.confirm_cancel_on_close():
                event.ignore()
                return
        QSettings().setValue("main_window/geometry", self.saveGeometry())
        self.documents.shutdown()
        self.data.shutdown()
        event.accept()
