"""What differs between operating systems (core.base.system), both ways on this machine: the
Linux way kwdesk uses here, and the portable way (filelock, psutil, spawn) that Windows and
macOS builds use, forced with KWDESK_PORTABLE=1."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WAYS = {"linux": {"KWDESK_PORTABLE": "0"}, "portable": {"KWDESK_PORTABLE": "1"}}


def run_python(code: str, way: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, **WAYS[way], "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.mark.parametrize("way", WAYS)
def test_a_lock_is_exclusive_and_dies_with_its_process(tmp_path, way):
    lock_file = tmp_path / "run.lock"
    holder = run_python(f"""
        from kwdesk.core.base import system
        from kwdesk.core.base.locks import ProcessLock
        assert system.PORTABLE == {way == 'portable'}
        lock = ProcessLock({str(lock_file)!r})
        assert lock.try_acquire()
        print("held", flush=True)
        import time; time.sleep(120)
        """, way)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        probe = run_python(f"""
            from kwdesk.core.base.locks import ProcessLock, held_elsewhere
            assert held_elsewhere({str(lock_file)!r})
            assert not ProcessLock({str(lock_file)!r}).try_acquire()
            print("refused")
            """, way)
        out, err = probe.communicate(timeout=60)
        assert out.strip() == "refused", err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    # Killed: the system let go of the lock.
    after = run_python(f"""
        from kwdesk.core.base.locks import ProcessLock, held_elsewhere
        assert not held_elsewhere({str(lock_file)!r})
        lock = ProcessLock({str(lock_file)!r})
        assert lock.try_acquire() and lock.held
        lock.release()
        assert not lock.held
        print("free")
        """, way)
    out, err = after.communicate(timeout=60)
    assert out.strip() == "free", err


@pytest.mark.parametrize("way", WAYS)
def test_a_child_ends_when_its_parent_is_killed(tmp_path, way):
    pid_file = tmp_path / "child.pid"
    parent = run_python(f"""
        import subprocess, sys, os, time
        code = "import os, sys, time; from kwdesk.core.base.system import exit_with; exit_with(int(sys.argv[1])); "
        code += "open(sys.argv[2], 'w').write(str(os.getpid())); time.sleep(300)"
        child = subprocess.Popen([sys.executable, "-c", code, str(os.getpid()), {str(pid_file)!r}],
                                 start_new_session=True)
        print("started", flush=True)
        time.sleep(300)
        """, way)
    try:
        assert parent.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        child_pid = int(pid_file.read_text())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            break
        try:  # reap it if it became ours (it is not: it was the parent's)
            os.waitpid(child_pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    else:
        os.kill(child_pid, signal.SIGKILL)
        pytest.fail(f"the child outlived its killed parent ({way})")


@pytest.mark.parametrize("way", WAYS)
def test_a_job_runs_in_a_child_process_started_either_way(way):
    proc = run_python("""
        import sys
        sys.path.insert(0, "tests")
        from child_jobs import CountJob
        from kwdesk.core.base import system
        from kwdesk.core.base.child_job import ChildProcessJob
        if __name__ == "__main__":
            seen = []
            result = ChildProcessJob(CountJob, 3, delay=0.01).run(seen.append)
            print(system.child_start_method(), result["steps"], [p.done for p in seen])
        """, way)
    out, err = proc.communicate(timeout=300)
    method = "spawn" if way == "portable" else "forkserver"
    assert out.strip() == f"{method} 3 [1, 2, 3]", err


def test_cores_and_peak_memory_either_way():
    for way in WAYS:
        proc = run_python("""
            from kwdesk.core.base import system
            block = bytearray(200 * 1024 * 1024)
            print(system.usable_cores(), int(system.peak_memory_mb()))
            """, way)
        out, err = proc.communicate(timeout=60)
        cores, peak = map(int, out.split())
        assert cores == len(os.sched_getaffinity(0)), err
        assert peak >= 200, (way, peak)
