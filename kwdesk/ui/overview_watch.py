"""Keeps the steps' states current: core.app.overview read again whenever the workspace
changed, whoever changed it (a page, a worker, a child process, the CLI).

A timer asks SQLite whether another connection committed (`PRAGMA data_version`, a few
microseconds); only then are the counts read again, in a thread of their own: on 100,000
pairs they take about 45 ms, which on the UI thread would be a visible stall every time a
generation stores a batch (bench/bench_ui_responsiveness.py's target is 50 ms at most).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from kwdesk.core.app.overview import Overview, workspace_overview
from kwdesk.core.store.workspace import Workspace

log = logging.getLogger(__name__)


class OverviewWatcher(QObject):
    changed = Signal(object)  # Overview

    def __init__(self, workspace: Workspace, parent: QObject | None = None, interval_ms: int = 750) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.db = workspace.connect()  # the UI thread's: data_version, and refresh_now
        self._version: int | None = None
        self._pending: Future | None = None
        self._closed = False
        self._soon = False  # refresh_soon asked: deliver each read as soon as it is done
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kwdesk-overview")
        self._local = threading.local()  # the worker thread's own connection
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        # Brings a read asked for by refresh_soon as soon as it is done, not at the next tick.
        self._deliver = QTimer(self)
        self._deliver.setSingleShot(True)
        self._deliver.setInterval(20)
        self._deliver.timeout.connect(self._tick)

    def start(self) -> None:
        self.timer.start()

    def refresh_now(self) -> Overview | None:
        """Read the overview at once, on this thread (a step shown, a job done); None once
        shut down (a job's end reported while the window closes)."""
        if self._closed:
            return None
        self._version = self._data_version()
        overview = workspace_overview(self.db)
        self.changed.emit(overview)
        return overview

    def refresh_soon(self) -> None:
        """Read the overview again in the thread, and show it as soon as it is read (a job
        ended: its counts matter now, but not enough to stall the window on 100,000 pairs)."""
        if self._closed:
            return
        self._version = None  # read again, whether or not anything committed since
        self._soon = True
        self._tick()

    def _data_version(self) -> int:
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def _tick(self) -> None:
        if self._closed:
            return
        if self._pending is not None:
            if not self._pending.done():
                if self._soon:
                    self._deliver.start()
                return
            pending, self._pending = self._pending, None
            try:
                self.changed.emit(pending.result())
            except Exception:  # noqa: BLE001 - a busy or damaged workspace: try at the next change
                log.exception("reading the workspace overview failed")
            if self._version is not None:  # nothing asked for since this read began
                self._soon = False
                return
        version = self._data_version()
        if version != self._version:
            self._version = version
            self._pending = self._pool.submit(self._read)
            if self._soon:
                self._deliver.start()
        else:
            self._soon = False

    def _read(self) -> Overview:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self.workspace.connect()
        return workspace_overview(db)

    def _close_worker_db(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()

    def shutdown(self) -> None:
        """Stop watching and close both connections; safe to call again (a window can be
        closed twice)."""
        self.timer.stop()
        self._deliver.stop()
        if self._closed:
            return
        self._closed = True
        self._pool.submit(self._close_worker_db)
        self._pool.shutdown(wait=True, cancel_futures=False)
        self.db.close()
