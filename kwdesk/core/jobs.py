"""What every long job shares: a progress callback and a cooperative cancel flag.

A job is a plain object with a ``run(progress)`` method. The CLI drives it with a progress
bar, the GUI runs it in a worker thread and forwards the progress to the main thread, and
tests call it directly.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable


class Cancelled(Exception):
    """Raised inside a job when its cancel flag was set; the job stops cleanly."""


@dataclass
class Progress:
    done: int
    total: int | None
    message: str = ""
    # Job-specific figures (pairs made, loss, tokens per second...).
    extra: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)

    @property
    def eta_s(self) -> float | None:
        if not self.total or self.done <= 0:
            return None
        return self.elapsed_s * (self.total - self.done) / self.done


ProgressCallback = Callable[[Progress], None]


class Job:
    """Base for long jobs: cancel from any thread, report progress to a callback."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._started = time.monotonic()
        self._progress: ProgressCallback | None = None

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def report(self, done: int, total: int | None, message: str = "", **extra: Any) -> None:
        if self._progress is not None:
            elapsed = time.monotonic() - self._started
            self._progress(Progress(done, total, message, extra, elapsed))
