"""The main window: one place per step of the flow, and a status bar that says what runs."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.app.overview import STEPS
from kwdesk.core.app.settings import update_setting
from kwdesk.core.store.workspace import Workspace
from kwdesk.ui.chat_page import ChatPage
from kwdesk.ui.data_page import DataPage
from kwdesk.ui.documents_page import DocumentsPage
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.library_page import LibraryPage
from kwdesk.ui.overview_watch import OverviewWatcher
from kwdesk.ui.settings_dialog import SettingsDialog
from kwdesk.ui.sizing import WrappedLabel
from kwdesk.ui.teach_panel import TeachPanel
from kwdesk.ui.theme import follow_palette_changes, themed
from kwdesk.ui.train_page import TrainPage

DOCUMENTS, DATA, TRAIN, CHAT, MODELS = range(5)
STEP_COLUMN_WIDTH = 190
# Where each page's job runs, for the Next line while it runs (None: the Teach panel, above
# every step: Go there keeps to the next action's step).
JOB_STEPS = {"documents": "documents", "data": "data", "train": "train", "library": "models", "teach": None}
TEACH_THEN = "Ask the model it makes about your documents (step 4, Chat)."
STEP_TITLES = ("1  Documents", "2  Data (Q&A)", "3  Train", "4  Chat", "Models")


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, model_name: str) -> None:
        super().__init__()
        self.workspace = workspace
        self.setWindowTitle(f"kwdesk — {workspace.root}")
        self.setAcceptDrops(True)
        self._busy: dict[str, str] = {}
        self._overview = None  # the steps' states as last read
        follow_palette_changes(QApplication.instance())  # a switch to dark while it runs redraws the icons

        self.documents = DocumentsPage(workspace)
        self.data = DataPage(workspace)
        self.train = TrainPage(workspace)
        self.chat = ChatPage(workspace)
        self.library = LibraryPage(workspace)
        self.teach = TeachPanel(workspace)
        self._teach_after_import = False  # the sample: teach it once it is imported
        self.all_pages = {"documents": self.documents, "data": self.data, "train": self.train, "chat": self.chat,
                          "library": self.library, "teach": self.teach}
        for name, page in self.all_pages.items():
            if hasattr(page, "busy_changed"):
                page.busy_changed.connect(lambda what, n=name: self._show_busy(n, what))

        # Each step's state under its name, and the one thing to do next (core.app.overview).
        # Read again whenever anything wrote to the workspace (ui/overview_watch.py).
        self.overview = OverviewWatcher(workspace, self)
        self.overview.changed.connect(self._show_overview)
        self.next_label = WrappedLabel()  # whole on a short screen: the steps list gives way
        self.next_label.setObjectName("next_action")
        self.next_label.setFixedWidth(STEP_COLUMN_WIDTH)
        self.next_button = themed(QPushButton("Go there"), "next")
        self.next_button.clicked.connect(lambda: self.steps.setCurrentRow(STEPS.index(self._next_step)))
        self._next_step = "documents"
        self.overview.start()
        self.steps = QListWidget()
        self.steps.setObjectName("steps")
        self.steps.setFixedWidth(STEP_COLUMN_WIDTH)
        self.steps.setSpacing(2)
        self.steps.setWordWrap(True)  # a long state wraps under its step, never a scroll bar
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pages = QStackedWidget()
        self.steps.setIconSize(QSize(22, 22))
        for title, step, page in zip(STEP_TITLES, STEPS, (self.documents, self.data, self.train, self.chat, self.library)):
            self.steps.addItem(themed(QListWidgetItem(title), step))
            self.pages.addWidget(page)
        self.steps.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.steps.currentRowChanged.connect(self._step_shown)
        self.settings_button = themed(QPushButton("Settings…"), "settings")
        self.settings_button.clicked.connect(self.open_settings)
        self.backup_button = themed(QPushButton("Back up…"), "backup")
        self.backup_button.setToolTip("Write the whole workspace (documents, pairs, runs, models) into one .zip file")
        self.backup_button.clicked.connect(lambda: self.back_up())
        self.restore_button = themed(QPushButton("Restore…"), "restore")
        self.restore_button.setToolTip("Unpack a backup into a new workspace folder")
        self.restore_button.clicked.connect(lambda: self.restore())
        # Backups run beside everything else; their progress shows in the status bar.
        self.backup_bar = JobBar(show_idle_message=False)
        self.backup_bar.setVisible(False)
        self.backup_bar.busy_changed.connect(self._backup_busy)
        self.backup_bar.succeeded.connect(self._backup_done)
        self.backup_bar.failed.connect(lambda message: QMessageBox.warning(self, "kwdesk", message))

        # What one step does concerns the others.
        self.documents.import_finished.connect(lambda _results: self.data.reload())
        self.documents.generate_requested.connect(self.generate_for_chunks)
        self.documents.collections_changed.connect(self.train.refresh_collections)
        self.documents.documents_removed.connect(self.data.reload)
        self.documents.documents_removed.connect(self.train.refresh_collections)
        self.train.model_ready.connect(self._model_ready)
        self.train.chat_requested.connect(self.chat_with)
        self.library.chat_requested.connect(self.chat_with)
        self.library.models_changed.connect(self.chat.refresh_models)
        self.chat.source_requested.connect(self.show_source)
        self.documents.sample_requested.connect(self.try_sample)
        self.documents.import_finished.connect(self._imported)
        self.teach.taught.connect(self._taught)
        self.teach.chat_requested.connect(self.chat_with)

        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(self.steps, 1)
        column_layout.addWidget(self.next_label)
        column_layout.addWidget(self.next_button)
        column_layout.addSpacing(12)
        column_layout.addWidget(self.backup_button)
        column_layout.addWidget(self.restore_button)
        column_layout.addWidget(self.settings_button)
        work = QWidget()
        work_layout = QVBoxLayout(work)
        work_layout.setContentsMargins(0, 0, 0, 0)
        work_layout.addWidget(self.teach)
        work_layout.addWidget(self.pages, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(column)
        layout.addWidget(work, 1)
        self.setCentralWidget(central)

        settings_action = themed(QAction("Settings…", self), "settings")
        settings_action.setShortcut(QKeySequence.StandardKey.Preferences)
        settings_action.triggered.connect(self.open_settings)
        # Quit (Ctrl+Q) closes the window the way its close button does: a running job asks first.
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))  # the standard key is empty on some platforms
        self.quit_action.triggered.connect(self.close)
        file_menu = self.menuBar().addMenu("&File")
        themed(file_menu.addAction("Add documents…", self._add_documents), "add")
        themed(file_menu.addAction("Try it on a sample", self.try_sample), "sample")
        file_menu.addSeparator()
        themed(file_menu.addAction("Back up…", lambda: self.back_up()), "backup")
        themed(file_menu.addAction("Restore…", lambda: self.restore()), "restore")
        file_menu.addAction(settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        go_menu = self.menuBar().addMenu("&Go")
        for row, (title, step) in enumerate(zip(STEP_TITLES, STEPS)):
            action = themed(go_menu.addAction(title.split("  ")[-1], lambda r=row: self.steps.setCurrentRow(r)), step)
            action.setShortcut(QKeySequence(f"Ctrl+{row + 1}"))
        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = help_menu.addAction("Keyboard shortcuts", self.show_shortcuts)
        self.shortcuts_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        help_menu.addAction("About kwdesk", self.show_about)
        for action in (settings_action, self.quit_action, self.shortcuts_action, *go_menu.actions()):
            self.addAction(action)  # the keys work while the menu bar is hidden (offscreen, some desktops)

        self.running_label = QLabel("Ready")
        self.statusBar().addWidget(self.running_label, 1)
        self.statusBar().addWidget(self.backup_bar, 1)
        where = QLabel(f"Workspace: {workspace.root}   ·   Model: {model_name}")
        where.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(where)

        self.resize(1200, 760)
        saved = QSettings()
        geometry = saved.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        # Back on the step the user left, except on a first run (Documents says what to do).
        step = int(saved.value("main_window/step", DOCUMENTS) or 0)
        self.steps.setCurrentRow(step if self.documents.model.rows and 0 <= step <= MODELS else DOCUMENTS)
        self.refresh_steps()

    # --- steps --------------------------------------------------------------------------------

    def refresh_steps(self) -> None:
        """Each step's state under its name, and the next action, read now."""
        self.overview.refresh_now()

    def _show_overview(self, overview) -> None:
        for row, (title, step) in enumerate(zip(STEP_TITLES, STEPS)):
            state = overview.state(step)
            item = self.steps.item(row)
            if item is None:  # still being built
                continue
            item.setText(f"{title}\n      {state}")
            item.setToolTip(state)
        self._overview = overview
        self.teach.set_documents(overview.documents)
        action = overview.next_action()
        self._next_step = action.step
        running = [(source, what) for source, what in self._busy.items() if source in JOB_STEPS]
        if running:  # what runs comes first; the next action waits for it
            source, what = running[0]
            self._next_step = JOB_STEPS[source] or action.step
            # Teaching writes the pairs, trains and tests in one go: what the data says now
            # ("Write questions and answers...") is what it does, not what comes after it.
            then = TEACH_THEN if source == "teach" else action.words
            words = f"<b>Now:</b> {what.rstrip('.…')}. <b>Then:</b> {then}"
        else:
            words = f"<b>Next:</b> {action.words}"
        self.next_label.setText(words)
        self.next_label.setToolTip(action.words)
        self.next_button.setVisible(self.steps.currentRow() != STEPS.index(action.step))

    def _step_shown(self, row: int) -> None:
        self.refresh_steps()
        if row == DATA:
            self.data.reload()
        elif row == TRAIN:
            if not self.train.is_busy():
                self.train.refresh_runs()
                self.train.refresh_plan()
        elif row == CHAT:
            self.chat.ensure_loaded()
        elif row == MODELS:
            self.library.refresh()

    def _model_ready(self, model_id: int) -> None:
        self.library.refresh()
        self.chat.refresh_models(select_model_id=model_id)

    def chat_with(self, model_id: int) -> None:
        self.chat.refresh_models(select_model_id=model_id)
        self.steps.setCurrentRow(CHAT)

    # --- teach my documents, and the sample --------------------------------------------------

    def try_sample(self) -> None:
        """Import the sample that ships with kwdesk and teach it with the settings' preset (on
        the sample, Quick try learned 0 of 8 test questions and the recommended preset 4 of 8,
        in 4 and 7 minutes here: BENCHMARKS.md)."""
        from kwdesk.core.ingest.sample import sample_document

        self._teach_after_import = True
        self.documents.import_paths([sample_document()])

    def _imported(self, results) -> None:
        self.refresh_steps()
        if self._teach_after_import:
            self._teach_after_import = False
            if any(r.status in ("imported", "duplicate") for r in results):
                self.teach.start()

    def _taught(self, taught) -> None:
        self.data.reload()
        self.train.refresh_runs()
        self.train.refresh_collections()
        self.library.refresh()
        self.chat.refresh_models(select_model_id=self.teach.chat_model_id)
        self.refresh_steps()

    def generate_for_chunks(self, chunk_ids: list) -> None:
        """Write pairs for new passages of a changed document (Documents > What changed)."""
        from kwdesk.core.data.generate import GenerateOptions

        self.steps.setCurrentRow(DATA)
        self.data.start_generation(GenerateOptions(strategies=("qa",), chunk_ids=list(chunk_ids)))

    def show_source(self, document_id: int, page: int) -> None:
        self.steps.setCurrentRow(DOCUMENTS)
        self.documents.show_page(document_id, page)

    def open_settings(self) -> None:
        SettingsDialog(self).exec()

    def _add_documents(self) -> None:
        self.steps.setCurrentRow(DOCUMENTS)
        self.documents.add_button.click()

    def show_shortcuts(self):
        from kwdesk.ui.help_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.open()
        return dialog

    def show_about(self):
        from kwdesk.ui.help_dialog import AboutDialog

        dialog = AboutDialog(self)
        dialog.open()
        return dialog

    # --- backups ---------------------------------------------------------------------------

    def back_up(self, archive: str | None = None) -> None:
        from kwdesk.core.store.backup import BackupJob

        if archive is None:
            suggested = Path.home() / f"kwdesk-backup-{time.strftime('%Y-%m-%d')}.zip"
            archive, _ = QFileDialog.getSaveFileName(self, "Back up the workspace", str(suggested), "kwdesk backup (*.zip)")
        if archive:
            self.backup_bar.start(BackupJob(self.workspace, archive), "Backing up the workspace")

    def restore(self, archive: str | None = None, folder: str | None = None) -> None:
        from kwdesk.core.store.backup import RestoreJob

        if archive is None:
            archive, _ = QFileDialog.getOpenFileName(self, "Restore a backup", str(Path.home()), "kwdesk backup (*.zip)")
        if archive and folder is None:
            folder = QFileDialog.getExistingDirectory(self, "An empty folder for the restored workspace", str(Path.home()))
        if archive and folder:
            self.backup_bar.start(RestoreJob(archive, folder), "Restoring a backup")

    def _backup_busy(self, what: str) -> None:
        self.backup_bar.setVisible(bool(what))
        self.backup_button.setEnabled(not what)
        self.restore_button.setEnabled(not what)
        self._show_busy("backup", what)

    def _backup_done(self, result) -> None:
        from kwdesk.core.store.backup import BackupResult

        if isinstance(result, BackupResult):
            self.statusBar().showMessage(f"Backed up to {result.path} ({result.files} file{'' if result.files == 1 else 's'})", 15_000)
            return
        self.restored_workspace = result.root
        answer = QMessageBox.question(
            self, "Backup restored",
            f"The backup is restored in {result.root}. Open that workspace the next time kwdesk starts?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            update_setting("workspace", str(result.root))

    def _show_busy(self, source: str, what: str) -> None:
        if what:
            self._busy[source] = what
        else:
            self._busy.pop(source, None)
            # A job ended: the counts it changed as soon as they are read (off this thread:
            # on a large workspace they take tens of ms, bench_ui_responsiveness).
            self.overview.refresh_soon()
        if self._overview is not None:
            self._show_overview(self._overview)  # the Next line says what runs now, at once
        self.running_label.setText("   ·   ".join(self._busy.values()) or "Ready")

    def is_busy(self) -> bool:
        pages = any(page.is_busy() for page in self.all_pages.values() if hasattr(page, "is_busy"))
        return pages or self.backup_bar.is_busy()

    # --- drag and drop anywhere on the window -------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.steps.setCurrentRow(DOCUMENTS)
            self.documents.import_paths(paths)

    # --- closing -------------------------------------------------------------------------

    def confirm_cancel_on_close(self) -> bool:
        running = ", ".join(what.rstrip("…").lower() for what in self._busy.values()) or "working"
        answer = QMessageBox.question(
            self,
            "A job is running",
            f"kwdesk is still {running}. Cancel it and close? Finished work is kept, and an interrupted "
            "training run can be resumed.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_busy() and not self.confirm_cancel_on_close():
            event.ignore()
            return
        QSettings().setValue("main_window/geometry", self.saveGeometry())
        QSettings().setValue("main_window/step", self.steps.currentRow())
        self.overview.shutdown()  # first: the jobs' ends reported below need no new counts
        for page in self.all_pages.values():
            page.shutdown()
        self.backup_bar.shutdown()
        event.accept()
