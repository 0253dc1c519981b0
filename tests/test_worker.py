"""The app's one way to run a core job off the window's thread (ui.worker, ui.job_bar)."""

import gc
import weakref

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Job
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.worker import JobRunner


class Holds(Job):
    """A job that keeps something heavy (as AskJob keeps its chat engines)."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.payload = bytearray(1 << 20)
        self.fail = fail

    def _run(self):
        self.report(1, 2, "half way", pairs=3)
        if self.fail:
            raise KwdeskError("The model file is missing.")
        return "done"


def test_a_finished_job_is_released_with_its_runner_and_thread(qtbot):
    bar = JobBar()
    qtbot.addWidget(bar)
    job = Holds()
    job_ref = weakref.ref(job)
    seen = []
    bar.progressed.connect(lambda p: seen.append((p.done, p.total, p.pairs)))
    with qtbot.waitSignal(bar.finished, timeout=10_000):
        bar.start(job, "Holding")
    runner_ref = weakref.ref(next(iter(JobRunner.instances)))
    del job
    qtbot.waitUntil(lambda: (gc.collect(), job_ref() is None and runner_ref() is None)[1], timeout=5_000)
    assert seen == [(1, 2, 3)] and not bar.is_busy()


def test_a_user_facing_error_is_one_readable_line(qtbot):
    bar = JobBar()
    qtbot.addWidget(bar)
    with qtbot.waitSignal(bar.failed, timeout=10_000) as failed:
        bar.start(Holds(fail=True), "Loading")
    assert failed.args == ["The model file is missing."]
    assert bar.message.text() == "Loading stopped: The model file is missing."
