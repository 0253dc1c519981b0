"""What every long job shares: one way to run, a typed progress report, and a cooperative
cancel flag.

A job is a plain object. ``job.run(progress)`` sets the callback, starts the clock (so the
time left is measured from the start, not from when the job was made) and calls the
subclass's ``_run()``. The CLI drives it with a progress bar, the app runs it in a worker
thread (or a child process) and forwards the progress to the main thread, and tests call
it directly. A job that runs another job as one of its parts uses ``run_part``: one cancel
for both, and the part's progress mapped into the whole's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields
from typing import Any, Callable, Generic, TypeVar


class Cancelled(Exception):
    """Raised inside a job when its cancel flag was set; the job stops cleanly."""


def format_duration(seconds: float | None) -> str:
    """ "45 s", "3 min 05 s", "1 h 20 min": for people, in the app and the CLI."""
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@dataclass
class Progress:
    """One progress report. DONE of TOTAL (None: not known yet) and a line for people;
    the rest are set by the jobs that have them and None otherwise."""

    done: int
    total: int | None
    message: str = ""
    elapsed_s: float = 0.0
    # import: the file being read, and its ImportResult once read
    file: str | None = None
    result: Any = None
    # generation: pairs stored so far, drafts filtered out, passages that gave nothing
    pairs: int | None = None
    filtered: int | None = None
    warnings: int | None = None
    # training: the run, this step's loss and learning rate, speed, tokens so far, peak memory
    run_id: int | None = None
    loss: float | None = None
    learning_rate: float | None = None
    tokens_per_second: float | None = None
    tokens: int | None = None
    memory_mb: float | None = None
    estimated_s: float | None = None  # the plan's estimate of the whole run, reported before its first step
    # chat: one streamed piece of an answer, and which of the asked models wrote it
    token: str | None = None
    target: int | None = None

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


PROGRESS_FIELDS = frozenset(f.name for f in fields(Progress))
ProgressCallback = Callable[[Progress], None]
Result = TypeVar("Result")


class Job(Generic[Result]):
    """Base for long jobs: cancel from any thread, report progress to a callback.

    Subclasses implement ``_run()``; callers call ``run(progress)``."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._started: float | None = None
        self._progress: ProgressCallback | None = None

    def run(self, progress: ProgressCallback | None = None) -> Result:
        self._progress = progress
        self._started = time.monotonic()
        try:
            return self._run()
        finally:
            self._progress = None

    def _run(self) -> Result:
        raise NotImplementedError

    def run_part(self, part: "Job[Any]", progress: Callable[[Progress], Progress | None] | None = None) -> Any:
        """Run PART as a piece of this job: cancelling this job cancels it, and each of its
        reports goes through PROGRESS (which returns the report to pass on, or None to drop
        it; default: passed on as it is)."""
        part._cancel = self._cancel

        def forward(p: Progress) -> None:
            mapped = progress(p) if progress is not None else p
            if mapped is not None and self._progress is not None:
                self._progress(mapped)

        return part.run(forward)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        """The flag itself, for code below a job that polls it (llama.cpp streaming)."""
        return self._cancel

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def report(self, done: int, total: int | None, message: str = "", **figures: Any) -> None:
        """Send a Progress; FIGURES are Progress's own optional fields (a typo fails loudly)."""
        if self._progress is None:
            return
        unknown = set(figures) - PROGRESS_FIELDS
        if unknown:
            raise TypeError(f"Progress has no field {', '.join(sorted(unknown))}")
        elapsed = time.monotonic() - self._started if self._started is not None else 0.0
        self._progress(Progress(done, total, message, elapsed, **figures))
