"""Drives kwdesk's first start in a real window, as a new user would: the empty Documents
step, "Try it on a sample", the one progress line of Teach my documents to its end, every
step looked at, then "Chat with it" and a question typed and sent. Run by
tests/test_first_start.py in its own process on a virtual X screen (Qt's xcb platform,
not offscreen), so the window is a real X window with a real window manager-less screen.

    python tests/first_start_driver.py WORKSPACE OUT_FOLDER

Writes OUT_FOLDER/result.json (what the user saw) and a screenshot of every step, light
and dark, at 1280x800.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

QUESTION = "How tall is the tower of Kestrel Point Lighthouse?"


def wait(app, condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def shoot_every_step(app, win, out: Path, suffix: str) -> dict:
    sizes = {}
    for row in range(win.steps.count()):
        win.steps.setCurrentRow(row)
        wait(app, lambda: False, 1.5)  # the step's refresh and layout settle
        name = ("documents", "data", "train", "chat", "models")[row]
        win.grab().save(str(out / f"first-start-{name}{suffix}.png"))
        sizes[name] = [win.width(), win.height()]
    return sizes


def close(app, win) -> None:
    """Close as a user would after the work: once the Train step's plan (started when the
    step was shown) is done, so that closing does not ask whether to cancel it."""
    wait(app, lambda: not win.is_busy(), 300)
    win.close()


def main(workspace_dir: str, out_dir: str) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from kwdesk.core.store.workspace import Workspace
    from kwdesk.ui.app import make_app
    from kwdesk.ui.main_window import CHAT, MainWindow
    from kwdesk.ui.theme import apply_appearance

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = make_app(["kwdesk"])
    win = MainWindow(Workspace.open(workspace_dir), "SmolLM2-135M-Instruct (bundled)")
    win.resize(1280, 800)
    win.show()
    wait(app, lambda: win.isVisible(), 10)
    result: dict = {"platform": app.platformName()}
    win.grab().save(str(out / "first-start-empty.png"))
    result["first_next"] = win.next_label.text()

    messages: list[str] = []
    win.teach.bar.progressed.connect(lambda p: messages.append(p.message.split(":")[0]))
    QTest.mouseClick(win.documents.sample_button, Qt.MouseButton.LeftButton)
    result["teaching_started"] = wait(app, win.teach.is_busy, 120)
    win.grab().save(str(out / "first-start-teaching.png"))
    result["teaching_next"] = win.next_label.text()
    result["taught"] = wait(app, lambda: not win.teach.is_busy(), 1800)
    result["teach_result"] = win.teach.result.text()
    result["stages_seen"] = sorted(set(messages), key=messages.index)
    result["chat_button"] = win.teach.chat_button.isVisible()
    win.refresh_steps()
    result["states"] = [win.steps.item(row).text() for row in range(win.steps.count())]
    result["next"] = win.next_label.text()
    result["sizes"] = shoot_every_step(app, win, out, "")

    QTest.mouseClick(win.teach.chat_button, Qt.MouseButton.LeftButton)
    chat = win.chat
    result["on_chat"] = win.steps.currentRow() == CHAT
    result["model"] = chat.model_combo.currentText()
    result["knows"] = chat.knows.text()
    QTest.keyClicks(chat.input, QUESTION)
    QTest.keyClick(chat.input, Qt.Key.Key_Return)
    wait(app, lambda: chat.is_busy(), 30)
    result["answered"] = wait(app, lambda: not chat.is_busy(), 600)
    result["transcript"] = chat.view.toPlainText()
    win.grab().save(str(out / "first-start-answer.png"))

    close(app, win)

    # The same workspace in a dark palette, as the app opens it when the system is dark
    # (the icons take the palette's colours when the window is made).
    apply_appearance(app, "dark")
    dark = MainWindow(Workspace.open(workspace_dir), "SmolLM2-135M-Instruct (bundled)")
    dark.resize(1280, 800)
    dark.show()
    result["dark_sizes"] = shoot_every_step(app, dark, out, "-dark")
    close(app, dark)
    (out / "result.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
