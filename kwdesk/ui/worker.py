"""Runs a core job off the UI thread and brings its progress, result and error back.

One way to run work in the app (after Anki's aqt.operations and superqt's workers): a
``JobRunner`` moves a core ``Job`` into a QThread and emits queued signals, so slots run
on the main thread and may touch widgets. Cancel is cooperative: it sets the job's flag.
"""

from __future__ import annotations

import logging
import traceback
import weakref

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from kwdesk.core.base.errors import human_error, is_user_facing
from kwdesk.core.base.jobs import Cancelled, Job, Progress

log = logging.getLogger(__name__)


class _Worker(QObject):
    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)  # message for people, traceback for the log
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    @Slot()
    def run(self) -> None:
        try:
            result = self.job.run(self.progress.emit)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # a worker error must never take the app down
            # kwdesk's own errors are for people and need no traceback; anything else is a bug.
            self.failed.emit(human_error(exc), "" if is_user_facing(exc) else traceback.format_exc())
        else:
            self.succeeded.emit(result)
        finally:
            self.job = None  # the runner keeps it while it is wanted, no longer
            # Back to the main thread, where deleteLater can reach it: an object left in a
            # finished thread is never deleted.
            self.moveToThread(QCoreApplication.instance().thread())
            self.done.emit()


class JobRunner(QObject):
    """Owns the thread of one running job. Signals arrive on the main thread."""

    progress = Signal(object)  # Progress
    succeeded = Signal(object)  # the job's result
    failed = Signal(str)  # a readable message
    cancelled = Signal()
    finished = Signal()  # after any of the three above

    # Every runner made, so that tests can check that none is left running.
    instances: "weakref.WeakSet[JobRunner]" = weakref.WeakSet()

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        JobRunner.instances.add(self)
        self.job = job
        self._done = False
        self._thread = QThread()
        self._thread.setObjectName(f"kwdesk-{type(job).__name__}")
        self._worker = _Worker(job)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.succeeded.connect(self.succeeded)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self.cancelled)
        # Direct: quit() is thread-safe, and a main thread blocked in wait() could never
        # run a queued quit.
        self._worker.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self.job.cancel()

    def is_running(self) -> bool:
        return not self._done and self._thread.isRunning()

    def wait(self, msecs: int = 30_000) -> bool:
        return self._done or self._thread.wait(msecs)

    def _on_progress(self, progress: Progress) -> None:
        self.progress.emit(progress)

    def _on_failed(self, message: str, trace: str) -> None:
        if trace:
            log.error("%s failed: %s\n%s", type(self.job).__name__, message, trace)
        else:
            log.info("%s stopped: %s", type(self.job).__name__, message)
        self.failed.emit(message)

    def _on_thread_finished(self) -> None:
        self._done = True
        self.finished.emit()
        # Release the finished job, its worker and thread (and what the job holds: an AskJob
        # its chat engines, a result its data) instead of keeping them for the session.
        self._worker.deleteLater()
        self._thread.deleteLater()
        self.deleteLater()
