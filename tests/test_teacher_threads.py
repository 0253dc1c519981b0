"""The in-process teacher on shared cores: it uses the cores the rest of the machine leaves
free (llama.cpp's threads spin while they wait for a core another program holds, so a
thread per core beside a training run runs at a fraction of its share)."""

import subprocess
import sys
import time

import psutil
import pytest

from kwdesk.core.base.system import CoreWatch, usable_cores
from kwdesk.core.data.teacher import LlamaCppTeacher
from kwdesk.core.models.bundled import bundled_model_path

BURN = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass\n"


@pytest.fixture
def busy_machine():
    """Another program holding every core (as a training run does), stopped after the test."""
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(usable_cores())]
    time.sleep(0.5)  # running before the teacher looks
    yield burners
    for p in burners:
        p.kill()
        p.wait()


def ask(teacher):
    return teacher.chat([{"role": "user", "content": "Name a river."}], max_tokens=4).text


@pytest.mark.skipif(usable_cores() < 2, reason="one core: nothing to share")
def test_the_teacher_takes_the_free_cores_and_gives_them_back(busy_machine):
    teacher = LlamaCppTeacher(bundled_model_path())  # the default policy: follow the free cores
    try:
        assert teacher.threads == 1  # every core is taken: one thread, not one spinning per core
        assert ask(teacher)
        for p in busy_machine:
            p.kill()
            p.wait()
        # A second of the machine without the burners (this process idle too): the next
        # request looks again. Something else running here (a benchmark) leaves no core to
        # give back, and the test cannot show it.
        if psutil.cpu_percent(interval=max(1.0, teacher.FOLLOW_INTERVAL_S + 0.2)) > 25:
            pytest.skip("another program keeps the cores busy")
        ask(teacher)
        assert teacher.threads == usable_cores()
        assert ask(teacher)
    finally:
        teacher.close()


@pytest.mark.skipif(usable_cores() < 2, reason="one core: nothing to share")
def test_free_at_load_and_every_core_policies(busy_machine):
    at_load = LlamaCppTeacher(bundled_model_path(), thread_policy="free at load")
    every = LlamaCppTeacher(bundled_model_path(), thread_policy="every core")
    try:
        assert at_load.threads == 1 and every.threads == usable_cores()
        assert ask(at_load) and ask(every)
    finally:
        at_load.close()
        every.close()
    with pytest.raises(ValueError, match="thread_policy"):
        LlamaCppTeacher(bundled_model_path(), thread_policy="all")


@pytest.mark.skipif(usable_cores() < 2, reason="one core: nothing to share")
def test_a_look_sees_the_last_second_not_since_the_last_look(busy_machine):
    """A long request under a busy machine, then the other program ends: the next look
    gives the cores back, though most of the time since the last look was busy."""
    watch = CoreWatch()
    time.sleep(2.0)
    assert watch.free() == 1
    time.sleep(2.0)  # a long request, the cores still taken
    watch.mark()  # its end
    for p in busy_machine:
        p.kill()
        p.wait()
    if psutil.cpu_percent(interval=CoreWatch.WINDOW_S + 0.2) > 25:
        pytest.skip("another program keeps the cores busy")
    assert watch.free() == usable_cores()
