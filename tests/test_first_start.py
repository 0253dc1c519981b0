"""The first start, whole, in a real window on a virtual X screen (Xvfb): an empty
workspace, "Try it on a sample", Teach my documents on one progress line (pairs written,
trained, the model file made, tested), the steps' states after it, "Chat with it" and an
answer to a question typed in the chat; every step's screenshot at 1280x800, light and
dark (build/screenshots/first-start-*.png).

tests/first_start_driver.py drives the window in its own process: the test process has an
offscreen QApplication already, and a process has one platform.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SCREENSHOTS

DRIVER = Path(__file__).with_name("first_start_driver.py")


@pytest.fixture
def x_display(tmp_path):
    """A virtual X screen of 1280x800 for the test's own process tree."""
    if not shutil.which("Xvfb"):
        if os.environ.get("CI"):
            pytest.fail("Xvfb is missing on CI (scripts/system-packages.sh installs it)")
        pytest.skip("Xvfb is not installed (scripts/system-packages.sh installs it as root)")
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    deadline = time.monotonic() + 20
    while not socket.exists() and time.monotonic() < deadline and server.poll() is None:
        time.sleep(0.1)
    if not socket.exists():
        server.kill()
        pytest.fail(f"Xvfb did not start on {display}")
    yield display
    server.terminate()
    server.wait(10)


def test_a_new_user_tries_the_sample_and_gets_an_answer_in_chat(tmp_path, x_display):
    out = tmp_path / "out"
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": os.pathsep.join(
        [str(REPO), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    # The plain path with the default settings, a little smaller so that CI can afford it:
    # questions on each passage only, two a passage (the sample has three passages).
    (tmp_path / "settings.json").write_text(json.dumps({"strategies": "qa", "per_chunk": 2}))
    env["KWDESK_SETTINGS"] = str(tmp_path / "settings.json")
    proc = subprocess.run([sys.executable, str(DRIVER), str(tmp_path / "ws"), str(out)], env=env,
                          capture_output=True, text=True, timeout=2400)
    assert proc.returncode == 0, proc.stderr[-4000:]
    seen = json.loads((out / "result.json").read_text())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot in out.glob("*.png"):
        shutil.copy(shot, SCREENSHOTS / shot.name)

    assert seen["platform"] == "xcb"  # a real X window, not the offscreen platform
    assert "drop PDF" in seen["first_next"]
    # One progress line through the four stages, then what the user got, in words.
    assert seen["teaching_started"] and seen["taught"], seen
    # While it teaches, the step column says what comes after, not to write pairs by hand.
    assert "Teaching" in seen["teaching_next"] and "Chat" in seen["teaching_next"], seen["teaching_next"]
    assert "Generate" not in seen["teaching_next"], seen["teaching_next"]
    assert seen["stages_seen"][0].startswith("Step 1 of 4, writing questions and answers")
    assert any(stage.startswith("Step 4 of 4, testing what it learned") for stage in seen["stages_seen"]), seen
    assert seen["teach_result"].startswith("Kestrel point lighthouse, version 1 is ready: "), seen["teach_result"]
    assert "test questions" in seen["teach_result"] and seen["chat_button"]
    # Where the time went, stage by stage.
    assert " It took " in seen["teach_result"] and ", training " in seen["teach_result"], seen["teach_result"]
    # The steps say where the user stands.
    states = seen["states"]
    assert states[0].endswith("1 document") and "to review" in states[1]
    assert states[2].endswith("1 model trained") and states[3].endswith("1 model ready") and states[4].endswith("evaluated")
    assert "Kestrel point lighthouse, version 1" in seen["next"]
    # Chat with the new model: it says which model answers and what it knows, and answers.
    assert seen["on_chat"] and seen["model"].startswith("Kestrel point lighthouse, version 1")
    assert seen["knows"].startswith("Kestrel point lighthouse, version 1 answers ")
    assert seen["answered"]
    transcript = seen["transcript"]
    assert "You: How tall is the tower" in transcript
    answer = transcript.split("Model: ", 1)[1].strip()
    assert len(answer.split()) >= 3, transcript
    # The window kept to the screen on every step, light and dark.
    for sizes in (seen["sizes"], seen["dark_sizes"]):
        assert all(width <= 1280 and height <= 800 for width, height in sizes.values()), sizes
