"""One dialog for the settings the CLI shares (core.settings): teacher, base model, preset,
export, generation defaults and the workspace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.app.settings import (
    QUANTIZATIONS,
    Settings,
    load_settings,
    save_settings,
)
from kwdesk.core.base.paths import default_workspace_dir
from kwdesk.core.data.generate import STRATEGIES
from kwdesk.core.models.gguf import quantization_in_words
from kwdesk.core.train.presets import PRESET_DESCRIPTIONS, PRESET_LABELS, PRESETS
from kwdesk.ui.data_page import STRATEGY_LABELS
from kwdesk.ui.theme import apply_appearance, error_color


def _with_browse(edit: QLineEdit, choose) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(choose)
    layout.addWidget(button)
    return box


class SettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("kwdesk settings")
        current = load_settings()
        self.workspace = QLineEdit(current.workspace)
        # The folder itself, not "the default": the expert may want to find or back it up.
        self.workspace.setPlaceholderText(str(default_workspace_dir()))
        self.teacher = QLineEdit(current.teacher)
        self.teacher.setPlaceholderText("the bundled model; or a GGUF file; or http://host:port/v1")
        self.endpoint_model = QLineEdit(current.endpoint_model)
        self.endpoint_model.setPlaceholderText("the model name at that address (for an address only)")
        self.base_model = QLineEdit(current.base_model)
        self.base_model.setPlaceholderText("the bundled model; or a GGUF file or a model folder")
        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(PRESET_LABELS[name], name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_DESCRIPTIONS[name], 3)  # tooltip role
        self.preset.setCurrentIndex(self.preset.findData(current.preset))
        self.quantization = QComboBox()
        for quantization in QUANTIZATIONS:
            self.quantization.addItem(quantization_in_words(quantization), quantization)
            self.quantization.setItemData(self.quantization.count() - 1, f"{quantization} quantization", 3)
        self.quantization.setCurrentIndex(max(0, self.quantization.findData(current.quantization)))
        self.appearance = QComboBox()
        for value, label in (("system", "As the system is"), ("light", "Light"), ("dark", "Dark")):
            self.appearance.addItem(label, value)
        self.appearance.setCurrentIndex(max(0, self.appearance.findData(current.appearance)))
        self.appearance.setToolTip("Light or dark colours, or as the system is set")
        self.per_chunk = QSpinBox()
        self.per_chunk.setRange(1, 20)
        self.per_chunk.setValue(current.per_chunk)
        chosen = {s.strip() for s in current.strategies.split(",")}
        self.strategies = {s: QCheckBox(STRATEGY_LABELS.get(s, s)) for s in STRATEGIES}
        for name, check in self.strategies.items():
            check.setToolTip(f"'{name}' in kwdesk generate --strategy")
        strategies_box = QWidget()
        strategies_layout = QVBoxLayout(strategies_box)  # one a line: their labels are sentences
        strategies_layout.setContentsMargins(0, 0, 0, 0)
        for name, check in self.strategies.items():
            check.setChecked(name in chosen)
            strategies_layout.addWidget(check)
        self.export_after = QCheckBox("Make the model file as soon as training ends")
        self.export_after.setChecked(current.export_after_training)
        self.allow_downloads = QCheckBox("Allow downloading base models from the Hugging Face hub (kwdesk is offline otherwise)")
        self.allow_downloads.setChecked(current.allow_downloads)
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {error_color()};")

        form = QFormLayout(self)
        form.addRow("Workspace", _with_browse(self.workspace, self._choose_workspace))
        form.addRow(QLabel("A new workspace opens the next time kwdesk starts."))
        form.addRow("Teacher model", _with_browse(self.teacher, lambda: self._choose_gguf(self.teacher)))
        form.addRow("Teacher name at the address", self.endpoint_model)
        form.addRow("Base model to train", _with_browse(self.base_model, lambda: self._choose_gguf(self.base_model)))
        form.addRow("Training preset", self.preset)
        form.addRow("Model file", self.quantization)
        form.addRow("", self.export_after)
        form.addRow("Questions per passage", self.per_chunk)
        form.addRow("Kinds of data", strategies_box)
        form.addRow("Network", self.allow_downloads)
        form.addRow("Appearance", self.appearance)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(640, 420)

    def settings(self) -> Settings:
        # On top of the saved settings: those without a field here (teacher_parallel) stay.
        return replace(
            load_settings(),
            workspace=self.workspace.text().strip(),
            teacher=self.teacher.text().strip(),
            endpoint_model=self.endpoint_model.text().strip(),
            base_model=self.base_model.text().strip(),
            preset=self.preset.currentData(),
            quantization=self.quantization.currentData(),
            per_chunk=self.per_chunk.value(),
            strategies=",".join(s for s, check in self.strategies.items() if check.isChecked()),
            export_after_training=self.export_after.isChecked(),
            allow_downloads=self.allow_downloads.isChecked(),
            appearance=self.appearance.currentData(),
        )

    def save(self) -> None:
        settings = self.settings()
        try:
            save_settings(settings)
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        apply_appearance(QApplication.instance(), settings.appearance)  # at once; the icons follow
        self.accept()

    def _choose_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a workspace folder", self.workspace.text() or str(Path.home()))
        if folder:
            self.workspace.setText(folder)

    def _choose_gguf(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model", str(Path.home()), "GGUF models (*.gguf);;All files (*)")
        if path:
            edit.setText(path)
