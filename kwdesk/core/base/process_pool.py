"""A pool of worker processes shared by the jobs that parse files.

Parsing runs in other processes for two reasons: a long PDF is read on all cores, and a
file that crashes or hangs the native PDF library takes down a worker, never the app.
Workers come from a fork server (a clean single-threaded process), never from a fork of
the app, whose threads (Qt, torch) make a plain fork unsafe.

A task shows it is alive through a heartbeat file that it touches after every page
(``Heartbeat``); ``wait_for`` kills the pool when a running task stops beating, because a
process stuck inside a C library cannot be interrupted any other way.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

__all__ = [
    "BrokenProcessPool", "Heartbeat", "background_priority", "Stalled", "again_if_the_pool_died", "context", "kill_pool", "shared_pool",
    "reset_pool", "wait_for",
]

MAX_WORKERS = 4
POLL_S = 0.2

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_in_worker = False


class Stalled(Exception):
    """A task made no progress for its time limit; its pool was killed."""

    def __init__(self, seconds: float, progress: str) -> None:
        self.seconds = seconds
        self.progress = progress  # the last thing the task reported, e.g. "12 40" (page, pages)
        super().__init__(f"no progress for {seconds:.0f} s")


# The app's child processes (PDF readers, training, export) work in the background: at a
# lower priority than the app, the window's thread gets a core as soon as it wakes. On 2
# cores, a training child at the app's priority stalled the window up to 71 ms
# (bench_ui_responsiveness); when the window is idle the child still has every core.
BACKGROUND_NICENESS = 10


def background_priority() -> None:
    """This process at the background priority (nothing where the platform has no nice)."""
    try:
        os.nice(BACKGROUND_NICENESS)
    except (AttributeError, OSError):
        pass


def _mark_worker(app_pid: int) -> None:
    # A worker never starts a pool of its own.
    global _in_worker
    _in_worker = True
    background_priority()
    exit_with(app_pid)


def exit_with(pid: int) -> None:
    """End this process when process PID ends, however it ends (kill -9 included).

    Children of the fork server are not children of the app: without this, workers and
    training processes of a killed app would live on, idle or training for nobody.
    """

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(1)
        except (AttributeError, OSError):  # no pidfd (not Linux): poll instead
            while True:
                time.sleep(1.0)
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    os._exit(1)
                except PermissionError:
                    pass
        select.select([fd], [], [])  # readable when the process has ended
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-app", daemon=True).start()


def worker_count() -> int:
    """Workers in the pool; 0 (KWDESK_WORKERS=0) reads files in the app's own process."""
    env = os.environ.get("KWDESK_WORKERS")
    if env:
        return max(0, int(env))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def context():
    """The fork-server context that every child process of kwdesk comes from."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kwdesk.core.ingest.importer"])
    return ctx


def shared_pool() -> ProcessPoolExecutor | None:
    """The pool, started on first use; None inside a worker or with KWDESK_WORKERS=0.

    Even one core gets a pool of one worker: the isolation matters more than the cost of
    sending a file's text back.
    """
    global _pool
    if _in_worker:
        return None
    with _lock:
        if _pool is None:
            workers = worker_count()
            if workers < 1:
                return None
            _pool = ProcessPoolExecutor(
                workers, mp_context=context(), initializer=_mark_worker, initargs=(os.getpid(),)
            )
        return _pool


def pool_size(pool: ProcessPoolExecutor) -> int:
    return pool._max_workers


def reset_pool() -> None:
    """Drop a broken pool; the next call to shared_pool starts a new one."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def kill_pool() -> None:
    """Kill every worker (one is stuck in native code) and drop the pool.

    Python 3.11 has no public way to stop a running task: the executor's process table is
    the only handle (3.14 adds ProcessPoolExecutor.kill_workers). Other tasks in flight end
    with BrokenProcessPool, which their callers already handle by reading again alone.
    """
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)


class Heartbeat:
    """A file a worker task rewrites with its progress; the parent reads its age."""

    # Beats closer together than this are not written: a file write costs about 0.2 ms,
    # as much as reading a page, and the parent only needs to hear now and then.
    MIN_INTERVAL_S = 0.2

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._written = 0.0

    def beat(self, progress: str = "") -> None:
        now = time.monotonic()
        if self._written and now - self._written < self.MIN_INTERVAL_S:
            return
        self._written = now
        try:
            self.path.write_text(progress)
        except OSError:  # a full disk must not fail the reading itself
            pass

    def last(self) -> tuple[float | None, str]:
        """(time of the last beat, what it said); (None, "") before the first."""
        try:
            return self.path.stat().st_mtime, self.path.read_text()
        except OSError:
            return None, ""


def wait_for(
    future: Future,
    stall_limit: float | None,
    heartbeat: Heartbeat | None = None,
    check: Callable[[], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
):
    """FUTURE's result. A running task that goes STALL_LIMIT seconds without a heartbeat
    (or without finishing, when it has none) is killed with its pool: raises Stalled.

    CHECK runs between polls (it may raise to cancel); ON_PROGRESS gets each new heartbeat.
    Time spent queued behind other tasks does not count.
    """
    started: float | None = None
    seen = ""
    while True:
        if check is not None:
            check()
        try:
            return future.result(timeout=POLL_S)
        except TimeoutError:
            pass
        if not future.running() or stall_limit is None:
            continue
        now = time.time()
        if started is None:
            started = now
        beat_at, said = heartbeat.last() if heartbeat else (None, "")
        if said and said != seen:
            seen = said
            if on_progress is not None:
                on_progress(said)
        # The task began at most one poll before we saw it running; a beat moves the clock.
        alive_at = max(started, beat_at or 0.0)
        if now - alive_at > stall_limit:
            kill_pool()
            raise Stalled(stall_limit, seen)


def again_if_the_pool_died(first: Callable[[], T], again: Callable[[], T] | None = None) -> T:
    """FIRST(); if the pool died under it, AGAIN() (default: FIRST) once in a new pool.

    A worker that dies takes every task in flight with it, and a killed pool cancels those
    it had not started: the file being waited on may not be the one that crashed the
    reader. Read once more alone; a second death raises BrokenProcessPool, and the caller
    then knows this file is the cause.
    """
    try:
        return first()
    except (BrokenProcessPool, CancelledError):
        reset_pool()
    try:
        return (again or first)()
    except (BrokenProcessPool, CancelledError) as exc:
        reset_pool()
        raise BrokenProcessPool("the reader died twice on this file") from exc


atexit.register(reset_pool)
