"""Teach my documents: the one button that goes from documents to a tested model.

It runs core.app.flows.TeachJob (generate -> train -> make the model file -> a short test)
in a child process, on one progress line with one Cancel, above every step, so the expert
can watch the pairs arrive on the Data step or read a document meanwhile. Review stays
open at every point: the pairs written are kept, and the Train step can go on from here.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kwdesk.core.app.flows import teach_from_settings
from kwdesk.core.base.child_job import ChildProcessJob
from kwdesk.core.store.workspace import Workspace
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.theme import error_color, themed

TEACH_HELP = ("Writes questions and answers from your documents, trains your model on them, makes its model file "
              "and tests what it learned, in one go. You can review the pairs at any time, before or after.")


class TeachPanel(QWidget):
    busy_changed = Signal(str)
    taught = Signal(object)  # core.app.flows.Taught
    chat_requested = Signal(int)  # the new model's file to chat with

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.chat_model_id: int | None = None
        self._documents = 0
        self.button = themed(QPushButton("Teach my documents"), "teach")
        self.button.setToolTip(TEACH_HELP)
        self.button.clicked.connect(lambda: self.start())
        self.help = QLabel(TEACH_HELP)
        self.help.setWordWrap(True)
        self.bar = JobBar(show_idle_message=False)
        self.bar.busy_changed.connect(self.busy_changed)
        self.bar.busy_changed.connect(self._busy)
        self.bar.succeeded.connect(self._done)
        self.bar.failed.connect(self._failed)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.hide()
        self.chat_button = themed(QPushButton("Chat with it"), "chat")
        self.chat_button.hide()
        self.chat_button.clicked.connect(lambda: self.chat_model_id and self.chat_requested.emit(self.chat_model_id))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.help, 1)
        row.addWidget(self.bar, 2)
        row.addWidget(self.chat_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self.bar.hide()

    def start(self, preset_name: str | None = None) -> bool:
        """Teach with PRESET_NAME (default: the settings'); False when it runs already."""
        self.result.hide()
        self.chat_button.hide()
        # In a child process, as training always runs in the app (core.base.child_job).
        job = ChildProcessJob(teach_from_settings, self.workspace, preset_name=preset_name)
        return self.bar.start(job, "Teaching your documents")

    def set_documents(self, count: int) -> None:
        """Teaching needs a document; the button says so until there is one."""
        self._documents = count
        self.button.setEnabled(bool(count) and not self.is_busy())
        self.button.setToolTip(TEACH_HELP if count else "Add a document first (or try the sample).")

    def _busy(self, what: str) -> None:
        self.bar.setVisible(bool(what))
        self.help.setVisible(not what)
        self.button.setEnabled(not what and self._documents > 0)

    def _done(self, taught) -> None:
        self.result.setText(taught.in_words())
        self.result.setStyleSheet("")
        self.result.show()
        adapter = taught.export.adapter or {}
        self.chat_model_id = adapter.get("model_id") if adapter.get("path") else taught.export.model_id
        self.chat_button.show()
        self.taught.emit(taught)

    def _failed(self, message: str) -> None:
        self.result.setText(f"Teaching stopped: {message}")
        self.result.setStyleSheet(f"color: {error_color()};")
        self.result.show()

    def is_busy(self) -> bool:
        return self.bar.is_busy()

    def shutdown(self) -> None:
        self.bar.shutdown()
