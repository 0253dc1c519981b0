"""A progress bar with a message, an ETA and a Cancel button, for one job at a time.

Every long action of the app (generate, plan, train, export, load a model, answer) runs
through one of these: the page says what to run and gets the result by signal; the bar
owns the worker thread, shows progress, turns errors into a readable line, and cancels
and waits on shutdown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QWidget

from kwdesk.core.base.jobs import Job, Progress, format_duration
from kwdesk.ui.sizing import WrappedLabel
from kwdesk.ui.theme import error_color
from kwdesk.ui.worker import JobRunner


class JobBar(QWidget):
    busy_changed = Signal(str)  # what runs, "" when idle (for the status bar)
    progressed = Signal(object)  # Progress
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, parent: QWidget | None = None, *, show_idle_message: bool = True,
                 show_messages: bool = True) -> None:
        """SHOW_MESSAGES False: the page says how a job ended in a place of its own."""
        super().__init__(parent)
        self._show_messages = show_messages
        self._runner: JobRunner | None = None
        self._what = ""
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.message = WrappedLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(show_idle_message)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.message, 3)
        self._set_running(False)

    # --- running -------------------------------------------------------------------------

    def start(self, job: Job, what: str) -> bool:
        """Run JOB; WHAT says what it is ("Training"). False when a job runs already."""
        if self._runner is not None:
            return False
        self._what = what
        runner = JobRunner(job, self)
        runner.progress.connect(self._on_progress)
        runner.succeeded.connect(self.succeeded)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)
        runner.finished.connect(self._on_finished)
        self._runner = runner
        self.bar.setRange(0, 0)
        self.bar.setFormat(f"{what}…")
        self.message.setStyleSheet("")
        self.message.setText("")
        self._set_running(True)
        self.busy_changed.emit(f"{what}…")
        runner.start()
        return True

    def cancel(self) -> None:
        if self._runner is not None:
            self.cancel_button.setEnabled(False)
            self.bar.setFormat(f"Cancelling {self._what.lower()}…")
            self._runner.cancel()

    def is_busy(self) -> bool:
        return self._runner is not None

    @property
    def job(self) -> Job | None:
        return self._runner.job if self._runner is not None else None

    def shutdown(self, wait_ms: int = 120_000) -> None:
        """Cancel, wait for the worker, and let nothing of it arrive afterwards."""
        runner = self._runner
        if runner is not None:
            runner.cancel()
            runner.wait(wait_ms)
            runner.blockSignals(True)
            self._runner = None

    def show_message(self, text: str, *, error: bool = False) -> None:
        if not self._show_messages:
            return
        self.message.setVisible(True)
        self.message.setStyleSheet(f"color: {error_color()};" if error else "")
        self.message.setText(text)

    # --- signals from the worker -------------------------------------------------------------

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
            eta = format_duration(p.eta_s)
            self.bar.setFormat(f"{p.message or self._what}" + (f"  ·  {eta} left" if eta and p.done < p.total else ""))
        elif p.message:
            self.bar.setRange(0, 0)
            self.bar.setFormat(p.message)
        self.progressed.emit(p)

    def _on_failed(self, message: str) -> None:
        self.show_message(f"{self._what} stopped: {message}", error=True)
        self.failed.emit(message)

    def _on_cancelled(self) -> None:
        self.show_message(f"{self._what} cancelled.")
        self.cancelled.emit()

    def _on_finished(self) -> None:
        self._runner = None
        self._set_running(False)
        self.busy_changed.emit("")
        self.finished.emit()

    def _set_running(self, running: bool) -> None:
        self.bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
