"""Jobs run in a child process: progress, result, errors, cancel and crashes come back."""

import os
import threading

import pytest
from child_jobs import CountJob

from kwdesk.core.base.child_job import ChildProcessError, ChildProcessJob
from kwdesk.core.base.jobs import Cancelled
from kwdesk.core.base.process_pool import BACKGROUND_NICENESS


def test_progress_and_result_come_from_another_process():
    seen = []
    result = ChildProcessJob(CountJob, 3).run(seen.append)
    assert [p.done for p in seen] == [1, 2, 3] and seen[-1].total == 3
    assert result["steps"] == 3 and result["pid"] != os.getpid()
    # Below the app's priority: the window gets a core first (bench_ui_responsiveness).
    assert result["niceness"] == min(19, os.nice(0) + BACKGROUND_NICENESS)


def test_an_error_arrives_as_the_same_exception():
    with pytest.raises(ValueError, match="step 2 went wrong"):
        ChildProcessJob(CountJob, 5, fail_at=2).run()


def test_cancel_reaches_the_job_in_the_child():
    job = ChildProcessJob(CountJob, 200, delay=0.05)
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done == 3:
            threading.Thread(target=job.cancel).start()

    with pytest.raises(Cancelled):
        job.run(progress)
    assert 3 <= seen[-1] < 200


def test_a_killed_child_is_a_readable_error_not_a_hang():
    with pytest.raises(ChildProcessError, match="killed .*out of memory"):
        ChildProcessJob(CountJob, 5, die_at=2).run()
