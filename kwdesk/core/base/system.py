"""What differs between operating systems, in one place: locks that die with their process,
a child that ends with its parent, how child processes start, cores and peak memory.

kwdesk was built on Linux, and most domain experts use Windows or macOS. Each function has
the Linux way (measured and relied on since the first release) and a portable way built on
well-kept libraries: filelock (the lock huggingface_hub and torch use; msvcrt on Windows,
flock elsewhere) and psutil (process waits and memory on every system). Both ways are
tested on Linux (tests/test_system.py): PORTABLE forces the portable one.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from pathlib import Path

# KWDESK_PORTABLE=1 takes the portable way on Linux too (the tests, and a check of a build).
PORTABLE = os.environ.get("KWDESK_PORTABLE") == "1" or not sys.platform.startswith("linux")


def usable_cores() -> int:
    """The cores this process may run on (its affinity on Linux; all of them elsewhere)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class CoreWatch:
    """How many of this process's cores the rest of the machine leaves free, from the CPU
    time used since the last look, minus this process's own.

    llama.cpp's worker threads spin while they wait for each other: a teacher with a thread
    per core beside a training run or a second generation gets a fraction of its fair share
    (4 tokens/s each for two generations on 2 cores, against 55-70 alone). A teacher that
    uses only the cores left free degrades to its share instead. psutil gives the same
    figures on every system (cpu_times of the machine and of the process)."""

    WINDOW_S = 1.0  # how far back a look reaches: the last second, not since the model loaded
    KEPT = 64

    def __init__(self) -> None:
        # Samples, oldest first. A look measures from the newest one at least WINDOW_S old, so
        # a look after a long request sees the last second, not a program that ended since.
        self._samples: deque[tuple[float, float, float]] = deque([self._sample()], maxlen=self.KEPT)

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        import psutil

        machine = psutil.cpu_times()
        idle = machine.idle + getattr(machine, "iowait", 0.0)
        own = psutil.Process().cpu_times()
        # Linux counts guest time inside user time already.
        busy = sum(machine) - idle - getattr(machine, "guest", 0.0) - getattr(machine, "guest_nice", 0.0)
        return time.monotonic(), busy, own.user + own.system

    def mark(self) -> None:
        """Note the CPU times now (cheap), as a start for a later look."""
        self._samples.append(self._sample())

    def free(self) -> int:
        """Cores free for this process over the last WINDOW_S or so (at least 1, at most its own)."""
        now = self._sample()
        mine = usable_cores()
        base = self._samples[0]
        for sample in self._samples:
            if now[0] - sample[0] >= self.WINDOW_S:
                base = sample
        elapsed = now[0] - base[0]
        while self._samples[0] is not base:  # older than the base: no later look needs them
            self._samples.popleft()
        self._samples.append(now)
        if elapsed < 0.2:  # CPU times tick every 10 ms: too short a look says nothing
            return mine
        others = (now[1] - base[1]) - (now[2] - base[2])
        busy_elsewhere = max(0.0, others / elapsed)  # in cores
        machine = os.cpu_count() or mine
        free_in_machine = machine - busy_elsewhere
        return max(1, min(mine, int(free_in_machine + 0.5)))


def peak_memory_mb() -> float:
    """This process's peak resident memory in MB."""
    if not PORTABLE:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    import psutil

    info = psutil.Process().memory_info()
    # Windows keeps the peak (peak_wset); elsewhere the current size is the best psutil has.
    return getattr(info, "peak_wset", info.rss) / 1e6


class FileLockHandle:
    """An exclusive lock on a file, held until release() or the end of the process (the
    system drops it however the process ends: that is what tells a live job's files from
    a killed one's)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._fd: int | None = None  # the Linux way
        self._lock = None  # the portable way (filelock)

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if PORTABLE:
            import filelock

            lock = filelock.FileLock(str(self.path), timeout=0, is_singleton=False, thread_local=False)
            try:
                lock.acquire(blocking=False)
            except filelock.Timeout:
                return False
            self._lock = lock
            return True
        import fcntl

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
        if self._lock is not None:
            # filelock removes the lock file on some systems when it lets go; kwdesk's lock
            # files are markers, and their absence means "not held" too.
            self._lock.release(force=True)
            self._lock = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._lock is not None


def exit_with(pid: int) -> None:
    """End this process when process PID ends, however it ends (kill -9 included): a pidfd
    on Linux, psutil's wait elsewhere (a process handle on Windows, polling on macOS)."""

    def by_pidfd() -> None:
        import select

        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(1)
        select.select([fd], [], [])  # readable when the process has ended
        os._exit(1)

    def by_psutil() -> None:
        import psutil

        try:
            process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            os._exit(1)
        while True:
            try:
                process.wait(timeout=1.0)
            except psutil.TimeoutExpired:
                continue
            except psutil.Error:
                pass
            if not process.is_running():
                os._exit(1)
            time.sleep(0.2)

    watch = by_pidfd if not PORTABLE and hasattr(os, "pidfd_open") else by_psutil
    threading.Thread(target=watch, name="exit-with-app", daemon=True).start()


def child_start_method() -> str:
    """How kwdesk's child processes start: a fork server on Linux (fast: the importer is
    loaded once, and no child is a fork of the window with its threads), spawn elsewhere
    (Windows has no fork; macOS frameworks do not survive one)."""
    return "spawn" if PORTABLE else "forkserver"
