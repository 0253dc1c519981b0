"""The model library: bases, adapters, merged models and GGUF files, with where each came from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.app.settings import load_settings
from kwdesk.core.app.teacher import teacher_choice
from kwdesk.core.evaluation.job import EvaluateJob
from kwdesk.core.evaluation.report import report_svg, summary_in_words, write_report
from kwdesk.core.evaluation.results import EvalResult
from kwdesk.core.export.publish import PublishJob, lmstudio_models_dir
from kwdesk.core.store.evals import load_eval, newest_eval_for_model
from kwdesk.core.store.models import (
    ModelEntry,
    adapter_savings,
    delete_model,
    list_models,
)
from kwdesk.core.store.workspace import Workspace
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.report_image import save_png, svg_to_image
from kwdesk.ui.serve_bar import ServeBar

KIND_LABELS = {"base": "base model", "adapter": "adapter (LoRA)", "merged": "merged model", "gguf": "model file (GGUF)",
               "gguf-lora": "adapter file (GGUF LoRA)"}
CHATTABLE = ("gguf", "gguf-lora")


def _size(size_bytes: int | None) -> str:
    if not size_bytes:
        return ""
    return f"{size_bytes / 1e9:.2f} GB" if size_bytes >= 1e9 else f"{size_bytes / 1e6:.0f} MB"


class LibraryPage(QWidget):
    chat_requested = Signal(int)
    models_changed = Signal()
    busy_changed = Signal(str)
    probe_limit: int | None = None  # all the general questions (tests ask fewer)

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
        self.savings = QLabel()  # what adapter files on one base save against merged files
        self.savings.setWordWrap(True)
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
                       self.folder_button, self.delete_button):
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
        top_layout.addWidget(self.eval_bar)
        top_layout.addWidget(self.share_bar)
        self.serve_bar = ServeBar(workspace)
        top_layout.addWidget(self.serve_bar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(report)
        splitter.setSizes([420, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
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
        groups = adapter_savings(self.db)
        self.savings.setText("\n".join(group.describe() for group in groups))
        self.savings.setVisible(bool(groups))
        self._update_buttons()

    def selected(self) -> ModelEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        entry = self.selected()
        usable = entry is not None and entry.kind in CHATTABLE and bool(entry.verified)
        self.chat_button.setEnabled(usable)
        self.evaluate_button.setEnabled(usable and not self.eval_bar.is_busy())
        self._show_report(entry)
        self.folder_button.setEnabled(entry is not None)
        self.delete_button.setEnabled(entry is not None)
        self.share_button.setEnabled(usable and entry.kind == "gguf" and entry.run_id is not None)
        if entry is None:
            self.details.setText("")
            return
        verification = entry.meta.get("verification") or {}
        self.details.setText(
            f"{entry.path}"
            + (f"\nTrained from {entry.meta.get('base_name') or entry.meta.get('base')}" if entry.meta.get("base") else "")
            + (f" on the collection {entry.meta['collection']}" if entry.meta.get("collection") else "")
            + (f"\nApplied at load time to the shared base {entry.meta['base_gguf']}" if entry.kind == "gguf-lora" else "")
            + (f"\nVerified: {verification.get('agreement', 0):.0%} next-token agreement with the trained model "
               f"(needed {verification.get('tolerance', 0):.0%})" if verification else "")
        )

    # --- evaluation ----------------------------------------------------------------------------

    def evaluate_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        # llama.cpp only (no torch), so a worker thread keeps the window responsive.
        job = EvaluateJob(self.workspace, str(entry.id), probe_limit=self.probe_limit,
                          teacher=teacher_choice(load_settings()))
        if self.eval_bar.start(job, f"Evaluating {entry.name}"):
            self.evaluate_button.setEnabled(False)

    def _evaluated(self, result: EvalResult) -> None:
        self.eval_bar.show_message(f"Evaluation {result.eval_id} done; the report is in {result.report_path}")
        self._show_report(self.selected())

    def _eval_for(self, entry: ModelEntry | None) -> dict | None:
        if entry is None:
            return None
        eval_id = newest_eval_for_model(self.db, entry.id)
        return load_eval(self.db, eval_id) if eval_id is not None else None

    def _show_report(self, entry: ModelEntry | None) -> None:
        report = self._eval_for(entry)
        self.report_button.setEnabled(report is not None)
        self.open_report_button.setEnabled(report is not None)
        if report is None:
            self.chart.clear()
            self.eval_summary.setText("Not evaluated yet." if entry is not None and entry.kind in CHATTABLE else "")
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
        entry = self.selected()
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
        entry = self.selected()
        if entry is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "A new folder for the adapter", str(Path.home() / f"kwdesk-adapter-run{entry.run_id}"))
        if path:
            self.save_adapter(Path(path))

    def save_adapter(self, folder: Path) -> None:
        entry = self.selected()
        if entry is not None:
            self.share_bar.start(PublishJob(self.workspace, "adapter", entry.id, folder), "Saving the adapter")

    def _shared(self, result: dict) -> None:
        if result["target"] == "lmstudio":
            self.share_bar.show_message(f"In LM Studio's list now (restart it if it is open): {result['path']}")
        else:
            self.share_bar.show_message(f"Adapter saved in PEFT format, with its model card: {result['path']}")

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

    def is_busy(self) -> bool:
        return self.eval_bar.is_busy() or self.share_bar.is_busy()

    def shutdown(self) -> None:
        self.eval_bar.shutdown()
        self.share_bar.shutdown()
        self.serve_bar.shutdown()
        self.db.close()
