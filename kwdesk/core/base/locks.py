"""Advisory locks between kwdesk processes (the app, the CLI, their child processes).

A file lock is released by the system when its process ends, however it ends: a lock that
can be taken means its owner is gone. That is what tells a live job's files (scratch
folders, a training run) from the leftovers of a process that was killed.
"""

from __future__ import annotations

from pathlib import Path

from kwdesk.core.base.system import FileLockHandle


class ProcessLock:
    """An exclusive lock on PATH, held until ``release`` or the end of the process (the
    system's part is base.system.FileLockHandle: flock on Linux, filelock elsewhere)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._handle = FileLockHandle(self.path)

    def try_acquire(self) -> bool:
        return self._handle.try_acquire()

    def release(self) -> None:
        self._handle.release()

    @property
    def held(self) -> bool:
        return self._handle.held

    def __enter__(self) -> "ProcessLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def held_elsewhere(path: Path | str) -> bool:
    """Whether a live process (this one included, through another lock object) holds PATH."""
    path = Path(path)
    if not path.exists():
        return False
    probe = ProcessLock(path)
    if probe.try_acquire():
        probe.release()
        return False
    return True
