"""Where the expert stands (core/app/overview.py): each step's state in a few words and the
next action, as the window's step list and `kwdesk status` show them, followed through a
workspace from empty to an evaluated model. A real workspace and a real PDF import; the
runs and files are registered the way training and export register them."""

import json
import subprocess
import sys

from docgen import facts_pdf
from registered_models import TRAINED_ONLY, add_trained_run

from kwdesk.core.app.overview import STEPS, workspace_overview
from kwdesk.core.ingest.importer import ImportJob
from kwdesk.core.store.evals import store_eval
from kwdesk.core.store.pairs import add_pair, set_status


def states(db) -> dict:
    overview = workspace_overview(db)
    return {step: overview.state(step) for step in STEPS}


def test_the_states_and_the_next_action_follow_the_work(workspace, db, tmp_path):
    overview = workspace_overview(db)
    assert states(db) == {"documents": "none yet", "data": "no pairs yet", "train": "not trained yet",
                          "chat": "base model only", "models": "none yet"}
    assert overview.next_action().step == "documents" and "drop PDF" in overview.next_action().words

    (result,) = ImportJob(workspace, [facts_pdf(tmp_path / "handbook.pdf")]).run()
    assert result.status == "imported"
    assert states(db)["documents"] == "1 document"
    action = workspace_overview(db).next_action()
    assert action.step == "data" and "from your 1 document" in action.words

    approved = add_pair(db, "Who founded Verbena Labs?", "Olinda Marsh founded Verbena Labs in 1987.")
    unreviewed = [add_pair(db, f"Question {i}?", f"Answer {i}.") for i in range(3)]
    set_status(db, unreviewed, "new")
    assert states(db)["data"] == "3 to review · 1 approved"
    action = workspace_overview(db).next_action()
    assert action.step == "data" and "Review the 3 new pairs" in action.words

    # Trained, no model file yet: the next thing is to make it.
    add_trained_run(workspace, db, files=TRAINED_ONLY)
    assert states(db)["train"] == "1 model trained" and states(db)["chat"] == "base model only"
    action = workspace_overview(db).next_action()
    assert action.step == "train" and action.words == "Make the model file of Handbook, version 1 to chat with it."

    _, files = add_trained_run(workspace, db)
    assert states(db)["train"] == "2 models trained" and states(db)["chat"] == "1 model ready"
    assert states(db)["models"] == "not evaluated yet"
    action = workspace_overview(db).next_action()
    assert action.step == "models" and "Ask Handbook, version 2" in action.words and "evaluate" in action.words

    summary = {"heldout": {"personal": {"correct": 5, "total": 12, "share": 0.42}}, "kept": {"share": 0.9}}
    store_eval(db, files["gguf-lora"], "Handbook, version 2", "base", summary, [])
    assert states(db)["models"] == "evaluated"
    action = workspace_overview(db).next_action()  # three pairs still wait: ask now, review for a better one
    assert action.step == "chat" and action.words.startswith("Ask Handbook, version 2 about your documents. 3 pairs are")

    set_status(db, unreviewed + [approved], "accepted")
    assert states(db)["data"] == "4 pairs approved"
    assert workspace_overview(db).next_action().words == "Ask Handbook, version 2 about your documents."

    # The CLI says the same.
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(workspace.root), "status", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["states"] == states(db) and shown["next"]["step"] == "chat"
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(workspace.root), "status"],
                          capture_output=True, text=True, timeout=120)
    assert "Data        4 pairs approved" in proc.stdout and "Next: Ask Handbook, version 2" in proc.stdout


def test_the_window_shows_each_step_state_and_goes_to_the_next_action(workspace, db, tmp_path, no_threads_left,
                                                                      open_window, screenshot, qtbot):
    from kwdesk.ui.main_window import DATA, DOCUMENTS

    win = open_window(workspace)
    assert win.steps.item(DOCUMENTS).text().endswith("none yet")
    assert "drop PDF" in win.next_label.text()
    assert win.next_button.isHidden()  # the next action is on the step in view

    (result,) = ImportJob(workspace, [facts_pdf(tmp_path / "handbook.pdf")]).run()  # as the CLI would, meanwhile
    add_pair(db, "Who founded Verbena Labs?", "Olinda Marsh founded Verbena Labs in 1987.")
    set_status(db, [add_pair(db, "Question?", "Answer.")], "new")
    # The window notices what another connection wrote, without being told.
    qtbot.waitUntil(lambda: win.steps.item(DOCUMENTS).text().endswith("1 document"), timeout=5_000)
    assert win.steps.item(DATA).text().endswith("1 to review · 1 approved")
    assert "Review the 1 new pair" in win.next_label.text()
    screenshot(win, "steps-with-state")
    assert win.next_button.isVisible()
    win.next_button.click()
    assert win.steps.currentRow() == DATA and win.next_button.isHidden()

    # While a job runs, the line says so first, and what comes after it.
    while_running = []
    win.documents.busy_changed.connect(lambda what: what and while_running.append(win.next_label.text()))
    win.documents.import_paths([facts_pdf(tmp_path / "second.pdf")])
    qtbot.waitUntil(lambda: not win.documents.is_busy(), timeout=60_000)
    assert while_running and while_running[0].startswith("<b>Now:</b> Importing"), while_running
    assert "<b>Then:</b> Review the" in while_running[0]
    assert win.next_label.text().startswith("<b>Next:</b>")


def test_teach_my_documents_stops_on_cancel_and_keeps_what_it_made(facts_workspace):
    """Cancel during training: the pairs written stay for review, the run can be resumed,
    and nothing is left half-registered as a model."""
    from kwdesk.core.app.flows import TEACH_STAGES, teach_from_settings
    from kwdesk.core.app.settings import update_setting
    from kwdesk.core.base.jobs import Cancelled

    update_setting("strategies", "qa")
    update_setting("per_chunk", "1")
    job = teach_from_settings(facts_workspace, preset_name="quick-try")
    seen = []

    def progress(p):
        seen.append(p)
        if p.message.startswith("Step 2 of 4") and any(s.message.startswith("Step 2") for s in seen[:-1]):
            job.cancel()  # a little way into training

    try:
        job.run(progress)
    except Cancelled:
        pass
    else:
        raise AssertionError("Teach went on after Cancel")
    assert seen[0].message.startswith(f"Step 1 of 4, {TEACH_STAGES[0].lower()}")
    assert all(0 <= p.done <= 1000 and p.total == 1000 for p in seen)
    assert [p.done for p in seen] == sorted(p.done for p in seen)  # one line that only goes forward
    db = facts_workspace.connect()
    try:
        assert db.execute("SELECT count(*) FROM pairs WHERE made_by != 'user'").fetchone()[0] > 0
        (status,) = db.execute("SELECT status FROM runs WHERE kind = 'train'").fetchone()
        assert status == "cancelled"
        assert db.execute("SELECT count(*) FROM models WHERE kind IN ('gguf', 'gguf-lora')").fetchone()[0] == 0
        assert workspace_overview(db).next_action().step == "data"  # review, or train again
    finally:
        db.close()


def test_a_job_end_brings_the_counts_soon_without_reading_on_the_window_thread(workspace, db, qtbot):
    """refresh_soon (a job ended) reads in the watcher's thread and shows the counts as soon
    as they are read, long before the next tick; a second ask while a read runs is not lost."""
    import threading

    from kwdesk.ui.overview_watch import OverviewWatcher

    watcher = OverviewWatcher(workspace, interval_ms=60_000)  # its own timer never fires here
    seen = []
    watcher.changed.connect(lambda overview: seen.append((overview.pairs, threading.current_thread().name)))
    readers = []
    real_read = watcher._read
    watcher._read = lambda: (readers.append(threading.current_thread().name), real_read())[1]
    try:
        add_pair(db, "Who founded Verbena Labs?", "Olinda Marsh founded Verbena Labs in 1987.")
        watcher.refresh_soon()
        qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == 1, timeout=2_000)
        add_pair(db, "When was it founded?", "Verbena Labs was founded in 1987.")
        watcher.refresh_soon()
        watcher.refresh_soon()  # asked again while the first read may still run
        qtbot.waitUntil(lambda: seen[-1][0] == 2, timeout=2_000)
        assert readers and all(name.startswith("kwdesk-overview") for name in readers)
    finally:
        watcher.shutdown()
    assert watcher.refresh_now() is None  # shut down: nothing more is read
