"""A full disk and a read-only workspace: a clear error, no corruption, the program goes on.

The disk is a small tmpfs mounted for the test (needs root, as on the CI machine); where
mounting is not permitted the tests are skipped and say so.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from docgen import facts_pdf, large_pdf

from kwdesk.core.ingest.importer import IMPORTED, ImportJob
from kwdesk.core.store.pairs import update_pair
from kwdesk.core.store.workspace import Workspace, WorkspaceError


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {made.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Write until the disk is full; returns the filler file."""
    filler = disk / "filler"
    # Unbuffered: a buffered file would try to flush a partial block on close, and fail there.
    with filler.open("wb", buffering=0) as fh:
        try:
            while fh.write(b"\0" * 65536) == 65536:
                pass
            while fh.write(b"\0"):  # the last bytes, one at a time, until nothing more fits
                pass
        except OSError:
            pass
    return filler


def _kwdesk(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwdesk", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_a_full_disk_fails_the_job_clearly_and_corrupts_nothing(small_disk, tmp_path):
    ws = Workspace.open(small_disk / "ws")
    (first,) = ImportJob(ws, [facts_pdf(tmp_path / "handbook.pdf")]).run()
    assert first.status == IMPORTED
    db = ws.connect()
    db["pairs"].insert({"question": "How high is the dam?", "answer": "212 metres."})
    pair_id = db.execute("SELECT max(id) FROM pairs").fetchone()[0]
    filler = _fill(small_disk)

    # Import: the job stops with the reason, in the CLI and in core.
    big = large_pdf(tmp_path / "manual.pdf", 60)
    with pytest.raises(WorkspaceError, match="The disk is full"):
        ImportJob(ws, [big]).run()
    out = _kwdesk("--workspace", small_disk / "ws", "import", big)
    assert out.returncode != 0
    assert "disk is full" in out.stderr and "Traceback" not in out.stderr, out.stderr
    # An edit: refused with the reason; the pair keeps its saved text.
    with pytest.raises(WorkspaceError, match="The disk is full"):
        update_pair(db, pair_id, answer="x" * 3_000_000)
    assert db.execute("SELECT answer FROM pairs WHERE id = ?", [pair_id]).fetchone()[0] == "212 metres."

    filler.unlink()  # the user frees space
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM documents WHERE status = 'imported'").fetchone()[0] == 1
    (again,) = ImportJob(ws, [big]).run()
    assert again.status == IMPORTED
    update_pair(db, pair_id, answer="212 metres high.")
    assert db.execute("SELECT answer FROM pairs WHERE id = ?", [pair_id]).fetchone()[0] == "212 metres high."


def test_a_read_only_workspace_gives_a_clear_error(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    ImportJob(ws, [facts_pdf(tmp_path / "handbook.pdf")]).run()
    db = ws.connect()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as closing the app does
    db.close()
    # The same folder seen through a read-only mount (a write-protected drive, say).
    view = tmp_path / "read-only-view"
    view.mkdir()
    made = subprocess.run(["mount", "--bind", "-o", "ro", str(ws.root), str(view)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a read-only view here: {made.stderr.strip()}")
    try:
        with pytest.raises(WorkspaceError, match="read-only|cannot be opened"):
            Workspace.open(view)
        out = _kwdesk("--workspace", view, "docs")
        assert out.returncode != 0
        assert "Traceback" not in out.stderr, out.stderr
        assert "read-only" in out.stderr or "cannot be opened" in out.stderr, out.stderr
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
    assert Workspace.open(tmp_path / "ws").connect().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_app_says_the_disk_is_full_and_keeps_running(qtbot, small_disk, tmp_path, no_threads_left, screenshot):
    from kwdesk.ui.main_window import MainWindow

    ws = Workspace.open(small_disk / "ws")
    ImportJob(ws, [facts_pdf(tmp_path / "handbook.pdf")]).run()
    window = MainWindow(ws, "test model")
    qtbot.addWidget(window)
    window.show()
    filler = _fill(small_disk)
    big = large_pdf(tmp_path / "manual.pdf", 60)
    window.documents.import_paths([big])
    qtbot.waitUntil(lambda: not window.documents.is_busy(), timeout=60_000)
    assert "Import stopped: The disk is full" in window.documents.status_label.text()
    screenshot(window, "disk-full")
    filler.unlink()
    with qtbot.waitSignal(window.documents.import_finished, timeout=60_000):
        window.documents.import_paths([big])
    assert window.documents.model.rowCount() == 2
    window.close()
