"""Small jobs for tests of core.child_job (importable by name in the child process)."""

import os
import signal
import time

from kwdesk.core.base.jobs import Job


class CountJob(Job):
    def __init__(self, steps: int, *, fail_at: int | None = None, die_at: int | None = None, delay: float = 0.05):
        super().__init__()
        self.steps, self.fail_at, self.die_at, self.delay = steps, fail_at, die_at, delay

    def _run(self):
        for step in range(1, self.steps + 1):
            self.check_cancelled()
            if step == self.fail_at:
                raise ValueError(f"step {step} went wrong")
            if step == self.die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(self.delay)
            self.report(step, self.steps, f"step {step} in process {os.getpid()}")
        return {"steps": self.steps, "pid": os.getpid(), "niceness": os.nice(0)}
