"""A pool of worker processes shared by the jobs that parse files.

Parsing runs in other processes for two reasons: a long PDF is read on all cores, and a
file that crashes the native PDF library takes down a worker, never the app. Workers come
from a fork server (a clean single-threaded process), never from a fork of the app, whose
threads (Qt, torch) make a plain fork unsafe.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

__all__ = ["BrokenProcessPool", "context", "shared_pool", "reset_pool"]

MAX_WORKERS = 4

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_in_worker = False


def _mark_worker() -> None:
    # A worker never starts a pool of its own.
    global _in_worker
    _in_worker = True


def worker_count() -> int:
    env = os.environ.get("KWDESK_WORKERS")
    if env:
        return max(1, int(env))
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def context():
    """The fork-server context that every child process of kwdesk comes from."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kwdesk.core.importer"])
    return ctx


def shared_pool() -> ProcessPoolExecutor | None:
    """The pool, started on first use; None on a single core (or KWDESK_WORKERS=1)."""
    global _pool
    if _in_worker:
        return None
    with _lock:
        if _pool is None:
            workers = worker_count()
            if workers < 2:
                return None
            _pool = ProcessPoolExecutor(workers, mp_context=context(), initializer=_mark_worker)
        return _pool


def reset_pool() -> None:
    """Drop a broken pool; the next call to shared_pool starts a new one."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


atexit.register(reset_pool)
