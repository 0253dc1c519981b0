"""The Models page: the expert's personal models, one entry each ("Contracts, version 2"),
with what each knows from its newest evaluation; its files and formats under Details."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.app.settings import load_settings
from kwdesk.core.app.teacher import teacher_choice
from kwdesk.core.evaluation.job import EvaluateJob, plan_evaluation
from kwdesk.core.evaluation.report import report_svg, summary_in_words, write_report
from kwdesk.core.evaluation.results import EvalResult
from kwdesk.core.export.publish import PublishJob, lmstudio_models_dir
from kwdesk.core.store.evals import load_eval
from kwdesk.core.store.models import adapter_savings, delete_model
from kwdesk.core.store.personal import (
    FILE_KINDS,
    PersonalModel,
    PersonalModelError,
    personal_models,
    rename_personal_model,
)
from kwdesk.core.store.workspace import Workspace
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.report_image import save_png, svg_to_image
from kwdesk.ui.serve_bar import ServeBar
from kwdesk.ui.sizing import WrappedLabel, scrolling


def _size(size_bytes: int | None) -> str:
    if not size_bytes:
        return ""
    return f"{size_bytes / 1e9:.2f} GB" if size_bytes >= 1e9 else f"{size_bytes / 1e6:.0f} MB"


class LibraryPage(QWidget):
    chat_requested = Signal(int)
    models_changed = Signal()
    busy_changed = Signal(str)
    probe_limit: int | None = None  # all the general questions (tests ask fewer)

    COLUMNS = ("Model", "What it knows", "Trained", "On disk")
    FILE_COLUMNS = ("#", "File", "Kind", "Quantization", "Size", "Verified", "Made")

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.db = workspace.connect()
        self.models: list[PersonalModel] = []  # newest first, as the table shows them
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _: self.selected() and self._chat())
        # The files of the selected model, for whoever wants to know (one click away).
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.toggled.connect(self._toggle_details)
        self.files = QTableWidget(0, len(self.FILE_COLUMNS))
        self.files.setHorizontalHeaderLabels(self.FILE_COLUMNS)
        self.files.verticalHeader().hide()
        self.files.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.files.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        files_header = self.files.horizontalHeader()
        files_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        files_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.files.setVisible(False)
        self.empty = WrappedLabel("No models yet. Train on your pairs (step 3) and your model appears here, "
                                  "ready to chat with.")
        self.savings = WrappedLabel()  # what adapter files on one base save against merged files
        self.details = WrappedLabel()
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chat_button = QPushButton("Chat with it")
        self.chat_button.clicked.connect(self._chat)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.clicked.connect(self._ask_rename)
        self.folder_button = QPushButton("Show in folder")
        self.folder_button.clicked.connect(self._show_in_folder)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Ask held-out questions about your documents and general questions, "
                                        "with and without sources, of this model and its base")
        self.evaluate_button.clicked.connect(self.evaluate_selected)
        self.open_report_button = QPushButton("Open report")
        self.open_report_button.setToolTip("Every question with the reference, the model's answer and the verdict")
        self.open_report_button.clicked.connect(self._open_report)
        self.report_button = QPushButton("Export report…")
        self.report_button.clicked.connect(self._choose_report_file)
        # Hand the model to the tools people already use (the Ollama Modelfile and the model
        # card are beside every model file already).
        self.share_button = QPushButton("Use elsewhere")
        share_menu = QMenu(self.share_button)
        self.lmstudio_action = share_menu.addAction("Add to LM Studio", self.add_to_lmstudio)
        self.adapter_action = share_menu.addAction("Save the adapter for a server (PEFT)…", self._choose_adapter_folder)
        self.share_button.setMenu(share_menu)
        self.share_bar = JobBar()
        self.share_bar.succeeded.connect(self._shared)
        self.eval_bar = JobBar()
        self.eval_bar.busy_changed.connect(self.busy_changed)
        self.eval_bar.succeeded.connect(self._evaluated)
        self.eval_bar.finished.connect(self._update_buttons)
        self.chart = QLabel()
        self.chart.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.eval_summary = QLabel()
        self.eval_summary.setTextFormat(Qt.TextFormat.PlainText)
        self.eval_summary.setWordWrap(True)
        self.eval_summary.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        for button in (self.chat_button, self.evaluate_button, self.open_report_button, self.report_button, self.share_button,
                       self.rename_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        report = QWidget()
        report_layout = QHBoxLayout(report)
        report_layout.setContentsMargins(0, 0, 0, 0)
        report_layout.addWidget(self.chart)
        report_layout.addWidget(self.eval_summary, 1)
        self.chart.setMinimumSize(560, 240)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.empty)
        top_layout.addWidget(self.savings)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.details)
        top_layout.addLayout(buttons)
        details_row = QHBoxLayout()
        details_row.addWidget(self.details_button)
        details_row.addStretch(1)
        details_row.addWidget(self.folder_button)
        top_layout.addLayout(details_row)
        top_layout.addWidget(self.files)
        top_layout.addWidget(self.eval_bar)
        top_layout.addWidget(self.share_bar)
        self.serve_bar = ServeBar(workspace)
        top_layout.addWidget(self.serve_bar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        # Long details and messages scroll within the top part instead of growing the window.
        splitter.addWidget(scrolling(top))
        splitter.addWidget(report)
        splitter.setSizes([420, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.refresh()

    def refresh(self) -> None:
        selected = self.selected()
        self.models = list(reversed(personal_models(self.db)))
        self.table.setRowCount(len(self.models))
        for row, model in enumerate(self.models):
            name = QTableWidgetItem(model.name)
            name.setToolTip(f"Trained on {model.knowledge}" + ("" if model.renamed else f" (version {model.version})"))
            knows = QTableWidgetItem(model.quality_in_words if model.chat_file else
                                     "no usable model file: see Details")
            values = (name, knows, QTableWidgetItem(model.trained_on.removeprefix("trained ")),
                      QTableWidgetItem(_size(model.size_bytes)))
            for column, item in enumerate(values):
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        self.empty.setVisible(not self.models)
        groups = adapter_savings(self.db)
        self.savings.setText("\n".join(group.describe() for group in groups if group.adapters > 1))
        self.savings.setVisible(any(group.adapters > 1 for group in groups))
        if not (selected is not None and self.select_run(selected.run_id)) and self.models:
            self.table.selectRow(0)  # the newest: its buttons ready, its evaluation plan shown
        self._update_buttons()

    def selected(self) -> PersonalModel | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()] if rows else None

    def select_run(self, run_id: int) -> bool:
        for row, model in enumerate(self.models):
            if model.run_id == run_id:
                self.table.selectRow(row)
                return True
        return False

    def select_model(self, model_id: int) -> bool:
        """Select the personal model that file MODEL_ID belongs to."""
        for row, model in enumerate(self.models):
            if model_id in model.ids:
                self.table.selectRow(row)
                return True
        return False

    def _chat(self) -> None:
        model = self.selected()
        if model is not None and model.chat_file is not None:
            self.chat_requested.emit(model.chat_file.id)

    def _update_buttons(self) -> None:
        model = self.selected()
        usable = model is not None and model.chat_file is not None
        self.chat_button.setEnabled(usable)
        self.evaluate_button.setEnabled(usable and not self.eval_bar.is_busy())
        self._show_report(model)
        for button in (self.folder_button, self.delete_button, self.rename_button):
            button.setEnabled(model is not None)
        self.share_button.setEnabled(model is not None and model.file("gguf") is not None
                                     and bool(model.file("gguf").verified))
        self._show_files(model)
        if model is None:
            self.details.setText("")
            return
        about = (f"{model.name}: trained on {model.knowledge}, {model.trained_on}. " +
                 (f"It {model.quality_in_words}." if model.quality else "Not evaluated yet."))
        if usable and not self.eval_bar.is_busy():
            # What Evaluate will ask and add, and its time, before the expert starts it.
            about += "\n" + plan_evaluation(self.db, self.probe_limit).in_words()
        self.details.setText(about)

    def _toggle_details(self, shown: bool) -> None:
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.files.setVisible(shown)

    def _show_files(self, model: PersonalModel | None) -> None:
        files = model.files if model is not None else []
        self.files.setRowCount(len(files))
        for row, entry in enumerate(files):
            verification = entry.meta.get("verification") or {}
            kind = QTableWidgetItem(FILE_KINDS.get(entry.kind, entry.kind))
            if entry.kind == "gguf-lora" and entry.meta.get("base_gguf"):
                kind.setToolTip(f"Applied at load time to the shared base {entry.meta['base_gguf']}")
            verified = {True: "yes", False: "FAILED", None: ""}[entry.verified]
            item = QTableWidgetItem(verified)
            if verification:
                item.setToolTip(f"{verification.get('agreement', 0):.0%} next-token agreement with the trained model "
                                f"(needed {verification.get('tolerance', 0):.0%})")
            path = QTableWidgetItem(entry.path)
            path.setToolTip(entry.path)
            values = (QTableWidgetItem(str(entry.id)), path, kind, QTableWidgetItem(entry.quantization or ""),
                      QTableWidgetItem(_size(entry.size_bytes)), item,
                      QTableWidgetItem(entry.created_at[:16].replace("T", " ")))
            for column, value in enumerate(values):
                self.files.setItem(row, column, value)

    def _ask_rename(self) -> None:
        model = self.selected()
        if model is None:
            return
        name, ok = QInputDialog.getText(self, "Rename the model", "Name (empty: the name kwdesk gives it):",
                                        text=model.name if model.renamed else "")
        if ok:
            self.rename(name)

    def rename(self, name: str) -> None:
        model = self.selected()
        if model is None:
            return
        try:
            rename_personal_model(self.db, model.run_id, name)
        except PersonalModelError as exc:
            QMessageBox.warning(self, "Rename the model", str(exc))
            return
        self.refresh()
        self.models_changed.emit()

    # --- evaluation ----------------------------------------------------------------------------

    def evaluate_selected(self) -> None:
        model = self.selected()
        if model is None or model.chat_file is None:
            return
        # llama.cpp only (no torch), so a worker thread keeps the window responsive.
        job = EvaluateJob(self.workspace, str(model.chat_file.id), probe_limit=self.probe_limit,
                          teacher=teacher_choice(load_settings()))
        if self.eval_bar.start(job, f"Evaluating {model.name}"):
            self.evaluate_button.setEnabled(False)

    def _evaluated(self, result: EvalResult) -> None:
        self.eval_bar.show_message(f"Evaluation {result.eval_id} done; the report is in {result.report_path}")
        self.refresh()

    def _eval_for(self, model: PersonalModel | None) -> dict | None:
        if model is None or model.eval_id is None:
            return None
        return load_eval(self.db, model.eval_id)

    def _show_report(self, model: PersonalModel | None) -> None:
        report = self._eval_for(model)
        self.report_button.setEnabled(report is not None)
        self.open_report_button.setEnabled(report is not None)
        if report is None:
            self.chart.clear()
            self.eval_summary.setText("Not evaluated yet." if model is not None and model.chat_file else "")
            return
        s = report["summary"]
        self.chart.setPixmap(QPixmap.fromImage(svg_to_image(report_svg(s, width=560, height=240))))
        self.eval_summary.setText(summary_in_words(s))

    def _open_report(self) -> None:
        from kwdesk.core.evaluation.report import save_report

        report = self._eval_for(self.selected())
        if report is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(save_report(self.workspace, self.db, report["id"]))))

    def _choose_report_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the report", str(Path.home() / "kwdesk-report.html"),
                                              "Web page (*.html);;Image (*.png)")
        if path:
            self.export_report(Path(path))

    def export_report(self, path: Path) -> Path:
        report = self._eval_for(self.selected())
        if report is None:
            raise ValueError("This model has not been evaluated.")
        return write_report(report, path, save_png)

    # --- use elsewhere ---------------------------------------------------------------------------

    def add_to_lmstudio(self, folder: Path | None = None) -> None:
        model = self.selected()
        entry = model.file("gguf") if model is not None else None
        if entry is None:
            return
        if folder is None and lmstudio_models_dir() is None:
            chosen = QFileDialog.getExistingDirectory(self, "LM Studio's models folder (not found in ~/.lmstudio/models)",
                                                      str(Path.home()))
            if not chosen:
                return
            folder = Path(chosen)
        self.share_bar.start(PublishJob(self.workspace, "lmstudio", entry.id, folder), "Adding to LM Studio")

    def _choose_adapter_folder(self) -> None:
        model = self.selected()
        if model is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "A new folder for the adapter", str(Path.home() / f"kwdesk-adapter-run{model.run_id}"))
        if path:
            self.save_adapter(Path(path))

    def save_adapter(self, folder: Path) -> None:
        model = self.selected()
        if model is not None:
            self.share_bar.start(PublishJob(self.workspace, "adapter", folder=folder, run_id=model.run_id),
                                 "Saving the adapter")

    def _shared(self, result: dict) -> None:
        if result["target"] == "lmstudio":
            self.share_bar.show_message(f"In LM Studio's list now (restart it if it is open): {result['path']}")
        else:
            self.share_bar.show_message(f"Adapter saved in PEFT format, with its model card: {result['path']}")

    def _show_in_folder(self) -> None:
        model = self.selected()
        entry = (model.chat_file or model.files[-1]) if model is not None and model.files else None
        if entry is not None:
            path = Path(entry.path)
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path if path.is_dir() else path.parent)))

    def delete_selected(self, *, confirm: bool = True) -> None:
        model = self.selected()
        if model is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self, "Delete a model",
                f"Delete {model.name} ({_size(model.size_bytes)})? Its files inside the workspace are removed; "
                "files elsewhere (LM Studio, a saved adapter) are kept. Your documents and pairs stay.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        for entry in reversed(model.files):  # files made from others first
            delete_model(self.workspace, self.db, entry.id)
        self.refresh()
        self.models_changed.emit()

    def is_busy(self) -> bool:
        return self.eval_bar.is_busy() or self.share_bar.is_busy()

    def shutdown(self) -> None:
        self.eval_bar.shutdown()
        self.share_bar.shutdown()
        self.serve_bar.shutdown()
        self.db.close()
