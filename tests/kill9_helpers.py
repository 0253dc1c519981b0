"""A job in a child process, killed with SIGKILL by the tests (tests/kill_targets.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TARGETS = Path(__file__).resolve().parent / "kill_targets.py"


class Child:
    """A job in a child process whose JSON lines are collected as they come."""

    def __init__(self, *args: str, module: bool = False) -> None:
        cmd = [sys.executable, "-m", "kwdesk", *args] if module else [sys.executable, str(TARGETS), *args]
        # A session of its own: the test can see every process the job started.
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        self.lines: list[dict] = []
        self.stderr = ""
        self._reader = threading.Thread(target=self._read)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass  # a progress line of the CLI, or a line cut by the kill

    def wait_until(self, condition, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.lines):
            if self.proc.poll() is not None:
                raise AssertionError(f"the child ended first: {self.proc.stderr.read()[-2000:]}")
            assert time.monotonic() < deadline, "timed out waiting for the child"
            time.sleep(0.02)

    def kill(self) -> list[dict]:
        """SIGKILL to the job's own process only, as the system does when it runs out of
        memory; its worker processes must then end by themselves."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        deadline = time.monotonic() + 15
        while _session_members(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = _session_members(self.proc.pid)
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)
        assert not orphans, f"processes outlived the killed job: {orphans}"
        return self.finish()

    def finish(self, timeout: float = 600) -> list[dict]:
        self.proc.wait(timeout)
        self._reader.join()
        self.stderr = self.proc.stderr.read()
        return self.lines


def _session_members(session: int) -> list[int]:
    """Live processes of a session (Linux /proc), zombies not counted."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def shown_answers(lines: list[dict]) -> dict[int, str | None]:
    """Each pair's answer as an editor (kill_targets.py edit) last showed it saved; None: deleted."""
    shown: dict[int, str | None] = {}
    for line in lines:
        kind = {"edit": "edited", "add": "added"}.get(line["saved"])
        shown[line["id"]] = f"{kind} {line['mark']}" if kind else None
    return shown
