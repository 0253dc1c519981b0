"""Compare training methods on the same pairs: choose two to four, train and evaluate each
(core.app.compare.CompareJob in a child process, with progress and cancel), then see
"learned" against "kept" as a chart and a table, and keep the one to use. The figures and the
recommendation are core's, as `kwdesk compare` prints them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
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

from kwdesk.core.app.compare import (
    CompareError,
    CompareJob,
    Comparison,
    choose_method,
    comparison_svg,
    load_comparison,
    not_exported_in_words,
    why_recommended,
)
from kwdesk.core.base.child_job import ChildProcessJob
from kwdesk.core.models.gguf import DEFAULT_QUANTIZATION
from kwdesk.core.train.methods import METHODS
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.report_image import svg_to_image

COLUMNS = ["Method", "Alone", "With your documents", "General answers kept", "Parameters trained", "Time",
           "Adapter file"]


class CompareDialog(QDialog):
    compared = Signal(object)  # a Comparison, shown
    chosen = Signal(int)  # the kept model file's id

    def __init__(self, workspace, db, config_factory, base_spec=None, quantization: str = DEFAULT_QUANTIZATION,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.db = workspace, db
        self.config_factory = config_factory  # the Train page's current choices, read at start
        self.base_spec, self.quantization = base_spec, quantization
        self.comparison: Comparison | None = None
        self.probe_limit: int | None = None  # every general question (fewer: a rougher, quicker comparison)
        self.setWindowTitle("Compare training methods")
        self.resize(900, 720)
        intro = QLabel("Train the same pairs in two to four ways and see what each model learns and what it keeps "
                       "of its general answers. Each method takes about as long as one training run and an evaluation.")
        intro.setWordWrap(True)
        self.boxes: dict[str, QCheckBox] = {}
        choices = QVBoxLayout()
        for name, method in METHODS.items():
            box = QCheckBox(f"{method.label}: {method.summary}")
            box.setChecked(name in ("lora", "dora"))
            box.toggled.connect(self._update_buttons)
            self.boxes[name] = box
            choices.addWidget(box)
        self.start_button = QPushButton("Start comparing")
        self.start_button.clicked.connect(self.start)
        self.job_bar = JobBar(self, show_idle_message=False)
        self.job_bar.succeeded.connect(self.show_comparison)
        self.job_bar.failed.connect(lambda message: self.summary.setText(f"The comparison stopped: {message}"))
        self.job_bar.cancelled.connect(lambda: self.summary.setText("Comparison cancelled; the runs trained so far stay."))
        self.job_bar.finished.connect(self._update_buttons)
        self.chart = QLabel()
        self.chart.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(150)  # four methods without scrolling
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.keep_button = QPushButton("Keep the selected method's model")
        self.keep_button.clicked.connect(self.keep_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        top = QHBoxLayout()
        top.addLayout(choices, 1)
        top.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignBottom)
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.job_bar)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        try:  # the last comparison, until a new one is made
            self.show_comparison(load_comparison(db))
        except CompareError:
            self.summary.setText("No comparison yet: choose the methods and start.")
        self._update_buttons()

    def methods(self) -> list[str]:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def start(self) -> None:
        if len(self.methods()) < 2 or self.job_bar.is_busy():
            return
        self.summary.setText("Training and evaluating each method in turn…")
        job = ChildProcessJob(CompareJob, self.workspace, self.methods(), self.config_factory(), base=self.base_spec,
                              quantization=self.quantization, probe_limit=self.probe_limit)
        self.job_bar.start(job, "Comparing")
        self._update_buttons()

    def show_comparison(self, comparison: Comparison) -> None:
        self.comparison = comparison
        image = svg_to_image(comparison_svg(comparison), self.devicePixelRatioF())
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.chart.setPixmap(pixmap)
        marked = comparison.chosen or comparison.recommended
        self.table.setRowCount(len(comparison.results))
        for row, r in enumerate(comparison.results):
            cells = [r.label + (" (chosen)" if r.method == comparison.chosen else
                                " (recommended)" if r.method == marked else "") + (" (file removed)" if r.model_removed else ""),
                     f"{r.closed_book:.0%}", f"{r.with_sources:.0%}", f"{r.kept_worst:.0%}", f"{r.trained_parameters:,}",
                     f"{r.train_seconds / 60:.0f} min",
                     "yes" if r.adapter_file else "no: cannot be exported" if r.cannot_export
                     else "no (whole model file only)"]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, r.method)
                self.table.setItem(row, column, item)
            if r.method == marked:
                self.table.selectRow(row)
        base = (f"The base model answers {comparison.base_closed_book:.0%} of the test questions alone and "
                f"{comparison.base_with_sources:.0%} with your documents. ")
        said = (f"Chosen: {comparison.result(comparison.chosen).label}." if comparison.chosen
                else why_recommended(comparison))
        not_offered = " ".join(f"{name.capitalize()} is not offered: {why}." for name, why in comparison.not_offered.items())
        self.summary.setText(" ".join(part for part in (base + said, not_exported_in_words(comparison), not_offered) if part))
        self._update_buttons()
        self.compared.emit(comparison)

    def selected_method(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def keep_selected(self) -> None:
        name = self.selected_method()
        if self.comparison is None or name is None:
            return
        others = [r.label for r in self.comparison.results
                  if r.method != name and not r.model_removed and r.model_id is not None]
        if others and QMessageBox.question(
                self, "Keep this model", f"Keep the {METHODS[name].label} model and remove the model files of "
                f"{', '.join(others)}? Their training runs stay, so they can be exported again.") \
                != QMessageBox.StandardButton.Yes:
            return
        self.keep(name)

    def keep(self, name: str) -> None:
        """Keep NAME's model file (no question asked: keep_selected asks)."""
        comparison = choose_method(self.workspace, self.db, self.comparison.compare_id, name)
        self.show_comparison(comparison)
        self.chosen.emit(comparison.result(name).model_id)

    def _update_buttons(self) -> None:
        busy = self.job_bar.is_busy()
        self.start_button.setEnabled(not busy and len(self.methods()) >= 2)
        name = self.selected_method()
        result = self.comparison.result(name) if self.comparison and name else None
        self.keep_button.setEnabled(not busy and result is not None and not result.model_removed
                                    and result.model_id is not None and self.comparison.chosen != name)
        self.keep_button.setToolTip(
            f"{result.label} cannot be exported: {result.cannot_export}." if result is not None and result.cannot_export
            else "The other methods' model files are removed; their training runs stay.")

    def done(self, result: int) -> None:
        self.job_bar.shutdown()  # closed while comparing: stop it; the runs trained so far stay
        super().done(result)
