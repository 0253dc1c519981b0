"""Advisory locks between kwdesk processes (the app, the CLI, their child processes).

An flock is released by the kernel when its process ends, however it ends: a lock that
can be taken means its owner is gone. That is what tells a live job's files (scratch
folders, a training run) from the leftovers of a process that was killed.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class ProcessLock:
    """An exclusive lock on PATH, held until ``release`` or the end of the process."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

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
