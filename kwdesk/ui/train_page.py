"""Train: choose a base and a preset, see what will be trained, train with a live loss curve,
cancel or resume, then merge -> GGUF -> quantize -> verify in one action (or at once)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.app.settings import QUANTIZATIONS, load_settings
from kwdesk.core.base.child_job import ChildProcessJob
from kwdesk.core.base.jobs import format_duration
from kwdesk.core.data.versions import TRAINING_CHOICE
from kwdesk.core.export.job import ExportJob, ExportResult
from kwdesk.core.models.bundled import BUNDLED_NAME
from kwdesk.core.models.gguf import quantization_in_words
from kwdesk.core.store.collections import list_collections
from kwdesk.core.store.pairs import review_counts
from kwdesk.core.store.personal import (
    PersonalModelError,
    personal_model,
    personal_models,
)
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.train.job import (
    PlanJob,
    TrainJob,
    TrainPlan,
    TrainResult,
    training_runs,
)
from kwdesk.core.train.presets import (
    PRESET_DESCRIPTIONS,
    PRESET_LABELS,
    PRESETS,
    preset,
    preset_label,
    settings_in_words,
)
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.loss_curve import LossCurve
from kwdesk.ui.sizing import WrappedLabel, bounded_combo, scrolling


class TrainPage(QWidget):
    busy_changed = Signal(str)
    model_ready = Signal(int)  # a verified GGUF's model id
    chat_requested = Signal(int)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.db = workspace.connect()
        settings = load_settings()
        self._plan_dirty = False
        self._last_model_id: int | None = None
        self._trained_run: int | None = None

        # What to train
        self.base_combo = bounded_combo(22)
        self.base_combo.addItem(BUNDLED_NAME, None)
        if settings.base_model:
            self.base_combo.addItem(settings.base_model, settings.base_model)
            self.base_combo.setCurrentIndex(1)
        self.base_button = QPushButton("Other base…")
        self.base_button.clicked.connect(self._choose_base)
        # Wide enough for a label with its time ("Learn my documents (recommended) · about 12 min").
        self.preset_combo = bounded_combo(46)
        for name in PRESETS:
            self.preset_combo.addItem(PRESET_LABELS[name], name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, PRESET_DESCRIPTIONS[name],
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setCurrentIndex(max(0, self.preset_combo.findData(settings.preset)))
        self.preset_help = WrappedLabel()
        # The knobs behind the preset, and the model file's strength, for who wants them:
        # plain words first, the machinery one click away.
        self.advanced_button = QToolButton()
        self.advanced_button.setText("Advanced")
        self.advanced_button.setCheckable(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_button.toggled.connect(self._show_advanced)
        self.settings_label = WrappedLabel()
        self.plan_label = WrappedLabel("What will be trained is worked out when you open this step.")
        self.plan_bar = JobBar(show_idle_message=False)
        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self.start_training)
        self.compare_button = QPushButton("Compare methods…")
        self.compare_button.setToolTip("Train the same pairs with LoRA, DoRA or (IA)3 and see what each learns and keeps")
        self.compare_button.clicked.connect(self.open_compare)
        self.resume_combo = bounded_combo()
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self.resume_training)
        # Which knowledge, and whether to go on from an earlier adapter (a document changed).
        self.collection_combo = bounded_combo(22)
        self.collection_combo.setToolTip("Train one knowledge collection into its own adapter, or every pair into one")
        # Which pairs: the expert decides whether pairs they have not looked at yet are trained.
        self.pairs_combo = bounded_combo(24)
        self.pairs_combo.setToolTip("Pairs you rejected are never trained, nor those held out to test the model")
        self.start_from_combo = bounded_combo(22)
        self.start_from_combo.setToolTip(
            "From scratch: " + TRAINING_CHOICE["scratch"] + "\nGo on teaching an earlier model (its adapter): "
            + TRAINING_CHOICE["previous"])
        self.refresh_collections()
        for combo in (self.base_combo, self.preset_combo, self.collection_combo, self.start_from_combo, self.pairs_combo):
            combo.currentIndexChanged.connect(self._choice_changed)

        # Export
        # The model file's size against how exactly it answers, in words; the codes are details.
        self.quant_combo = QComboBox()
        self.quant_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # sizes come with the plan
        for quantization in QUANTIZATIONS:
            self.quant_combo.addItem(quantization_in_words(quantization), quantization)
            self.quant_combo.setItemData(self.quant_combo.count() - 1, f"{quantization} quantization",
                                         Qt.ItemDataRole.ToolTipRole)
        self.quant_combo.setCurrentIndex(max(0, self.quant_combo.findData(settings.quantization)))
        # How much of the trained change goes into the file (ExportJob strength): lower keeps
        # more of the base model's general answers and fewer of the documents' facts.
        self.strength_spin = QSpinBox()
        self.strength_spin.setRange(10, 100)
        self.strength_spin.setSingleStep(10)
        self.strength_spin.setValue(100)
        self.strength_spin.setSuffix(" %")
        self.strength_spin.setToolTip(
            "How much of what training changed goes into the model file. Lower keeps more of the base model's "
            "general answers and fewer of your documents' facts: if the evaluation shows general answers forgotten, "
            "export again at 50-70 % and evaluate that file."
        )
        # How long a run may take here: the recipe fits the with-sources pairs, then the passes,
        # to it (train/recipe.py); 0 keeps the preset's own (85 min; quick-try 10).
        self.time_limit_spin = QSpinBox()
        self.time_limit_spin.setRange(0, 24 * 60)
        self.time_limit_spin.setSingleStep(15)
        self.time_limit_spin.setSuffix(" min")
        self.time_limit_spin.setSpecialValueText("the preset's")
        self.time_limit_spin.setToolTip(
            "About how long training may take on this machine. A longer limit trains more pairs with their "
            "passages in the prompt (better answers with sources) and, on large documents, more passes.")
        self.time_limit_spin.valueChanged.connect(self._choice_changed)
        # How many retrieved passages the with-sources form holds; 0 follows the chat, which
        # gives a small base its best passage and a larger one three (chat_format.sources_top_k).
        self.passages_spin = QSpinBox()
        self.passages_spin.setRange(0, 5)
        self.passages_spin.setSpecialValueText("as the chat gives")
        self.passages_spin.setToolTip(
            "How many passages of your documents each pair is trained with, in the form where the question comes "
            "with its sources. Best when it matches what the chat gives this model: one passage for a small model, "
            "three for a larger one (\"as the chat gives\"). Set it when you will use the model with another tool "
            "that gives it more.")
        self.passages_spin.valueChanged.connect(self._choice_changed)
        choose = QGroupBox("What to train")
        choose_layout = QVBoxLayout(choose)
        row = QHBoxLayout()
        row.addWidget(QLabel("Base model"))
        row.addWidget(self.base_combo, 2)
        row.addWidget(self.base_button)
        row.addSpacing(16)
        row.addWidget(QLabel("Preset"))
        row.addWidget(self.preset_combo, 2)
        choose_layout.addLayout(row)
        # Rows of about 880 px, so the page fits a 1200-pixel window (combos of 28 characters
        # made the second 1,010 px and cut the page's right edge).
        knowledge = QHBoxLayout()
        knowledge.addWidget(QLabel("Knowledge"))
        knowledge.addWidget(self.collection_combo, 2)
        knowledge.addSpacing(16)
        knowledge.addWidget(QLabel("Pairs"))
        knowledge.addWidget(self.pairs_combo, 2)
        knowledge.addSpacing(16)
        knowledge.addWidget(QLabel("Start from"))
        knowledge.addWidget(self.start_from_combo, 2)
        choose_layout.addLayout(knowledge)
        choose_layout.addWidget(self.preset_help)
        choose_layout.addWidget(self.plan_label)
        choose_layout.addWidget(self.advanced_button)
        self.advanced = QWidget()
        advanced_layout = QVBoxLayout(self.advanced)
        advanced_layout.setContentsMargins(16, 0, 0, 0)
        advanced_layout.addWidget(self.settings_label)
        training_row = QHBoxLayout()  # what the next run trains
        training_row.addWidget(QLabel("Longest training time"))
        training_row.addWidget(self.time_limit_spin)
        training_row.addSpacing(16)
        self.passages_label = QLabel("Passages with sources")
        training_row.addWidget(self.passages_label)
        training_row.addWidget(self.passages_spin)
        training_row.addStretch(1)
        advanced_layout.addLayout(training_row)
        strength_row = QHBoxLayout()
        strength_row.addWidget(QLabel("Model file strength (of the selected run)"))
        strength_row.addWidget(self.strength_spin)
        strength_row.addStretch(1)
        advanced_layout.addLayout(strength_row)
        self.advanced.hide()
        choose_layout.addWidget(self.advanced)
        choose_layout.addWidget(self.plan_bar)
        actions = QHBoxLayout()
        actions.addWidget(self.start_button)
        actions.addWidget(self.compare_button)
        actions.addStretch(1)
        actions.addWidget(QLabel("Interrupted run"))
        actions.addWidget(self.resume_combo)
        actions.addWidget(self.resume_button)
        choose_layout.addLayout(actions)

        # The run
        self._runs_by_id: dict = {}  # the runs as refresh_runs last read them
        self.train_bar = JobBar()
        self.stats = QLabel("")
        self.stats.setTextFormat(Qt.TextFormat.PlainText)
        self.stats.setWordWrap(True)
        self.curve = LossCurve()
        run_box = QGroupBox("Training")
        run_layout = QVBoxLayout(run_box)
        run_layout.addWidget(self.train_bar)
        run_layout.addWidget(self.stats)
        run_layout.addWidget(self.curve, 1)

        self.auto_export = QCheckBox("Export as soon as training ends")
        self.auto_export.setChecked(settings.export_after_training)
        self.export_button = QPushButton("Export the selected run")
        self.export_button.clicked.connect(lambda: self.start_export(self.selected_run()))
        self.export_bar = JobBar()
        self.chat_button = QPushButton("Chat with it")
        self.chat_button.hide()
        self.chat_button.clicked.connect(lambda: self._last_model_id and self.chat_requested.emit(self._last_model_id))
        export_box = QGroupBox("Make the model file to chat with")
        export_box.setToolTip("Merge the adapter into the base, convert it to GGUF, quantize it and verify that it "
                              "answers as the trained model does")
        export_layout = QVBoxLayout(export_box)
        export_row = QHBoxLayout()
        export_row.addWidget(QLabel("Model file"))
        export_row.addWidget(self.quant_combo)
        export_row.addWidget(self.auto_export)
        export_row.addStretch(1)
        export_row.addWidget(self.export_button)
        export_row.addWidget(self.chat_button)
        export_layout.addLayout(export_row)
        export_layout.addWidget(self.export_bar)

        # Earlier runs
        self.runs_table = QTableWidget(0, 6)
        self.runs_table.setHorizontalHeaderLabels(["Model", "State", "Preset", "Steps", "Error at the end", "Model file"])
        self.runs_table.horizontalHeaderItem(4).setToolTip(
            "The training loss: how far the model's answers were from your pairs at the last step (lower is closer)")
        self.runs_table.verticalHeader().hide()
        self.runs_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.runs_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.runs_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.runs_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.runs_table.setMaximumHeight(150)
        self.runs_table.itemSelectionChanged.connect(self._show_selected_run)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(choose)
        layout.addWidget(run_box, 1)
        layout.addWidget(export_box)
        layout.addWidget(QLabel("Runs"))
        layout.addWidget(self.runs_table)
        # With Advanced open the page is taller than a 1280x800 screen leaves it: it scrolls
        # instead of growing the window past the screen or squeezing the settings' lines.
        page_layout = QVBoxLayout(self)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(scrolling(content))

        for bar in (self.plan_bar, self.train_bar, self.export_bar):
            bar.busy_changed.connect(self.busy_changed)
        self.plan_bar.succeeded.connect(self._show_plan)
        self.plan_bar.failed.connect(lambda message: self.plan_label.setText(f"Cannot plan: {message}"))
        self.plan_bar.finished.connect(self._plan_finished)
        self.train_bar.progressed.connect(self._on_train_progress)
        self.train_bar.succeeded.connect(self._on_trained)
        self.train_bar.finished.connect(self._after_training)
        self.export_bar.succeeded.connect(self._on_exported)
        self.export_bar.finished.connect(self._update_buttons)
        self._update_preset_help()
        self.refresh_runs()

    # --- what to train ---------------------------------------------------------------------------

    def config(self):
        chosen = {}
        if self.time_limit_spin.value():
            chosen["time_budget_s"] = self.time_limit_spin.value() * 60
        if self.passages_spin.value():
            chosen["sources_passages"] = self.passages_spin.value()
        return preset(self.preset_combo.currentData(), collection_id=self.collection_combo.currentData(),
                      init_adapter_run=self.start_from_combo.currentData(),
                      accepted_only=bool(self.pairs_combo.currentData()), **chosen)

    def refresh_pair_choice(self) -> None:
        """The two ways of choosing pairs, with how many each trains now."""
        approved, unreviewed = review_counts(self.db, self.collection_combo.currentData())
        only = bool(self.pairs_combo.currentData())
        self.pairs_combo.blockSignals(True)
        self.pairs_combo.clear()
        self.pairs_combo.addItem(f"Approved and not yet reviewed ({approved + unreviewed})", False)
        self.pairs_combo.addItem(f"Only the ones I approved ({approved})", True)
        self.pairs_combo.setCurrentIndex(1 if only else 0)
        self.pairs_combo.blockSignals(False)

    def refresh_collections(self) -> None:
        """The collections to train, and the finished runs whose adapter a run can go on from."""
        current, start = self.collection_combo.currentData(), self.start_from_combo.currentData()
        for combo in (self.collection_combo, self.start_from_combo):
            combo.blockSignals(True)
            combo.clear()
        self.collection_combo.addItem("All pairs in the workspace", None)
        for collection in list_collections(self.db):
            self.collection_combo.addItem(f"{collection.name} ({collection.pairs} pairs)", collection.id)
        self.collection_combo.setCurrentIndex(max(0, self.collection_combo.findData(current)))
        self.start_from_combo.addItem("A new model (from scratch)", None)
        names = {model.run_id: model.name for model in personal_models(self.db)}
        for run in training_runs(self.workspace, self.db):
            if run.status == "done":
                label = f"Go on teaching {names.get(run.id, f'run {run.id}')}"
                self.start_from_combo.addItem(label, run.id)
        self.start_from_combo.setCurrentIndex(max(0, self.start_from_combo.findData(start)))
        for combo in (self.collection_combo, self.start_from_combo):
            combo.blockSignals(False)
        self.refresh_pair_choice()

    def base_spec(self) -> str | None:
        return self.base_combo.currentData()

    def _choose_base(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a base model (GGUF file, or config.json of a Hugging Face folder)", str(Path.home()),
            "Models (*.gguf config.json);;All files (*)",
        )
        if path:
            spec = str(Path(path).parent) if Path(path).name == "config.json" else path
            self.base_combo.addItem(spec, spec)
            self.base_combo.setCurrentIndex(self.base_combo.count() - 1)

    def _choice_changed(self) -> None:
        self._update_preset_help()
        self.refresh_plan()

    def _update_preset_help(self) -> None:
        cfg = self.config()
        self.preset_help.setText(PRESET_DESCRIPTIONS[cfg.preset])
        self.settings_label.setText(settings_in_words(cfg))
        # Only a preset that trains the with-sources form has passages to count.
        for widget in (self.passages_label, self.passages_spin):
            widget.setEnabled(cfg.train_with_sources)

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _show_file_sizes(self, plan: TrainPlan) -> None:
        """The model file's size in each quantization, now that the plan knows the base."""
        for index in range(self.quant_combo.count()):
            quantization = self.quant_combo.itemData(index)
            self.quant_combo.setItemText(index, quantization_in_words(quantization, plan.file_mb(quantization)))

    def refresh_plan(self) -> None:
        """Work out (in a worker) what would be trained and how long it may take here."""
        self.refresh_pair_choice()  # the counts change as the expert reviews
        if self.plan_bar.is_busy():
            self._plan_dirty = True
            return
        self._plan_dirty = False
        self.plan_label.setText("Working out what will be trained…")
        # Training, planning and export run in a child process (core.child_job: the window
        # never stalls on torch, and a training's memory goes back to the system after it).
        self.plan_bar.start(ChildProcessJob(PlanJob, self.workspace, self.config(), self.base_spec()),
                            "Working out the training plan")

    def _show_plan(self, plan: TrainPlan) -> None:
        self.plan_label.setText(plan.in_words())
        self.settings_label.setText(f"{plan.settings}\n{plan.details()}")
        self._show_file_sizes(plan)
        for index in range(self.preset_combo.count()):  # each preset's time on these pairs
            name = self.preset_combo.itemData(index)
            self.preset_combo.setItemText(index, preset_label(name, plan.preset_seconds.get(name)))

    def _plan_finished(self) -> None:
        if self._plan_dirty:
            self.refresh_plan()

    # --- training ------------------------------------------------------------------------------

    def start_training(self, config=None) -> None:
        self._begin(ChildProcessJob(TrainJob, self.workspace, config or self.config(), self.base_spec()), "Training")

    def open_compare(self):
        """The comparison of training methods on the same pairs and preset (compare_dialog)."""
        from kwdesk.ui.compare_dialog import CompareDialog

        dialog = CompareDialog(self.workspace, self.db, self.config, self.base_spec(), self.quant_combo.currentData(), self)
        dialog.chosen.connect(self._on_method_chosen)
        dialog.finished.connect(self.refresh_runs)
        dialog.open()
        return dialog

    def _on_method_chosen(self, model_id: int) -> None:
        self._last_model_id = model_id
        self.chat_button.show()
        self.refresh_runs()
        self.model_ready.emit(model_id)

    def resume_training(self) -> None:
        run_id = self.resume_combo.currentData()
        if run_id is not None:
            self._begin(ChildProcessJob(TrainJob, self.workspace, resume_run=run_id), f"Resuming run {run_id}")

    def _begin(self, job: ChildProcessJob, what: str) -> None:
        if self.train_bar.is_busy() or self.export_bar.is_busy():
            return
        self.curve.set_losses([])
        self.stats.setText("Preparing…")
        self.chat_button.hide()
        if self.train_bar.start(job, what):
            self._update_buttons()

    def _on_train_progress(self, p) -> None:
        if p.loss is None:
            return
        if len(self.curve.losses) != p.done - 1:
            # A resumed run: first draw what was trained before it stopped.
            self.curve.set_losses(self._run_losses(p.run_id)[: p.done - 1], p.total)
        self.curve.add(p.loss, p.total)
        eta = format_duration(p.eta_s)
        self.stats.setText(
            f"Step {p.done} of {p.total}  ·  loss {p.loss:.3f}  ·  "
            f"{(p.tokens_per_second or 0):.0f} tokens/s  ·  memory {(p.memory_mb or 0):.0f} MB"
            + (f"  ·  {eta} left" if eta else "")
        )

    def _run_losses(self, run_id) -> list[float]:
        for run in training_runs(self.workspace, self.db):
            if run.id == run_id:
                return run.losses
        return []

    def _on_trained(self, result: TrainResult) -> None:
        try:
            name = personal_model(self.db, result.run_id).name
        except PersonalModelError:
            name = f"Run {result.run_id}"
        next_step = ("Making its model file next." if self.auto_export.isChecked() else
                     "Make its model file to chat with it.")
        self.train_bar.show_message(
            f"{name} is trained ({result.steps} steps; error on your pairs {result.losses[0]:.2f} -> "
            f"{result.losses[-1]:.2f}). {next_step}"
        )
        self._trained_run = result.run_id

    def _after_training(self) -> None:
        self.refresh_runs()
        self.refresh_collections()
        self._update_buttons()
        run_id, self._trained_run = self._trained_run, None
        if run_id is not None and self.auto_export.isChecked():
            self.start_export(run_id)

    # --- export -------------------------------------------------------------------------------

    def start_export(self, run_id: int | None) -> None:
        if run_id is None or self.train_bar.is_busy() or self.export_bar.is_busy():
            return
        self.chat_button.hide()
        # The strength box shows the selected run's; another run (an export straight after
        # training) takes its own preset's.
        strength = self.strength_spin.value() / 100 if run_id == self.selected_run() else None
        job = ChildProcessJob(ExportJob, self.workspace, run_id, self.quant_combo.currentData(), strength)
        self.export_bar.start(job, "Making the model file")
        self._update_buttons()

    def _on_exported(self, result: ExportResult) -> None:
        v = result.verification
        self.export_bar.show_message(
            f"Verified {result.path.name}: {v.agreement:.0%} of next tokens agree with the trained model "
            f"(needed {v.tolerance:.0%}); {result.size_bytes / 1e6:.0f} MB."
        )
        adapter = result.adapter or {}
        if adapter.get("path"):
            self.export_bar.show_message(
                self.export_bar.message.text() + f"  Adapter file on the shared base: {adapter['size_bytes'] / 1e6:.0f} MB, "
                f"{adapter['verification']['agreement']:.0%} agreement.")
        elif adapter.get("problem"):
            self.export_bar.show_message(self.export_bar.message.text() + f"  No adapter file: {adapter['problem']}")
        self._last_model_id = result.model_id
        self.chat_button.show()
        self.refresh_runs()
        self.model_ready.emit(result.model_id)

    # --- runs -------------------------------------------------------------------------------

    def refresh_runs(self) -> None:
        runs = training_runs(self.workspace, self.db)
        self._runs_by_id = {run.id: run for run in runs}
        selected = self.selected_run()
        self.runs_table.setRowCount(len(runs))
        names = {model.run_id: model.name for model in personal_models(self.db)}
        for row, run in enumerate(runs):
            steps = f"{run.steps}" + (f" of {run.total_steps}" if run.total_steps else "")
            model_file = "made" if run.exported else ("cannot be made" if run.cannot_export else "")
            values = [names.get(run.id, f"Run {run.id}"), run.state_in_words, PRESET_LABELS.get(run.preset, run.preset),
                      steps, f"{run.losses[-1]:.3f}" if run.losses else "", model_file]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, run.id)
                if run.error:
                    item.setToolTip(run.error)
                self.runs_table.setItem(row, column, item)
            if run.id == selected or (selected is None and row == 0):
                self.runs_table.selectRow(row)  # the newest run, unless another was chosen
        busy = self.train_bar.is_busy()
        self.resume_combo.clear()
        for run in runs:
            if run.resumable and not (busy and run.status == "running"):
                self.resume_combo.addItem(f"{names.get(run.id, f'Run {run.id}')} (step {run.steps})", run.id)
        self._update_buttons()

    def selected_run(self) -> int | None:
        items = self.runs_table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _show_selected_run(self) -> None:
        run_id = self.selected_run()
        if run_id is None or self.train_bar.is_busy():
            self._update_buttons()
            return
        for run in training_runs(self.workspace, self.db):
            if run.id == run_id:
                self.curve.set_losses(run.losses, run.total_steps)
                self.strength_spin.setValue(round(run.export_strength * 100))  # its preset's, until changed
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.train_bar.is_busy() or self.export_bar.is_busy()
        self.start_button.setEnabled(not busy)
        self.compare_button.setEnabled(not busy)
        self.resume_button.setEnabled(not busy and self.resume_combo.count() > 0)
        self.resume_combo.setEnabled(not busy)
        # From the runs as last read, never from a table cell.
        run = self._runs_by_id.get(self.selected_run())
        self.export_button.setEnabled(not busy and run is not None and run.status == "done" and not run.cannot_export)
        # A method llama.cpp cannot run (prefix tuning) says why instead of failing after the click.
        self.export_button.setToolTip(f"This run cannot become a model file: {run.cannot_export}."
                                      if run is not None and run.cannot_export else "")

    def is_busy(self) -> bool:
        return self.train_bar.is_busy() or self.export_bar.is_busy() or self.plan_bar.is_busy()

    def shutdown(self) -> None:
        for bar in (self.plan_bar, self.train_bar, self.export_bar):
            bar.shutdown()
        self.db.close()
