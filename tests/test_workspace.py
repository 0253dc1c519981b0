import sqlite3
from pathlib import Path

import pytest

from kwdesk.core.store.schema import SCHEMA_VERSION
from kwdesk.core.store.workspace import (
    Workspace,
    WorkspaceError,
    schema_version,
    write_transaction,
)


def test_new_workspace_has_schema_wal_and_folders(tmp_path):
    ws = Workspace.open(tmp_path / "fresh")
    assert ws.db_path.is_file()
    for folder in (ws.runs_dir, ws.models_dir, ws.tmp_dir):
        assert folder.is_dir()
    db = ws.connect()
    assert schema_version(db) == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"documents", "pages", "chunks", "pairs", "runs", "models", "chunks_fts", "pairs_fts"} <= set(db.table_names())
    db.close()


def test_reopening_is_idempotent_and_keeps_data(tmp_path):
    ws = Workspace.open(tmp_path / "w")
    db = ws.connect()
    with write_transaction(db):
        db["pairs"].insert({"question": "Q?", "answer": "A."})
    db.close()
    db = Workspace.open(tmp_path / "w").connect()
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 1
    assert schema_version(db) == SCHEMA_VERSION


def test_workspace_from_newer_kwdesk_is_refused_with_a_reason(tmp_path):
    ws = Workspace.open(tmp_path / "w")
    conn = sqlite3.connect(ws.db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(WorkspaceError, match="newer kwdesk"):
        Workspace.open(tmp_path / "w")


def test_environment_variable_chooses_the_default_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("KWDESK_WORKSPACE", str(tmp_path / "from-env"))
    ws = Workspace.open()
    assert ws.root == (tmp_path / "from-env").resolve()
    assert ws.db_path.is_file()


def test_leftover_temporary_files_are_removed_on_open(tmp_path):
    ws = Workspace.open(tmp_path / "w")
    (ws.tmp_dir / "half-written.gguf.part").write_bytes(b"x" * 10)
    (ws.tmp_dir / "job-17").mkdir()
    Workspace.open(tmp_path / "w")
    assert list(ws.tmp_dir.iterdir()) == []


def test_failed_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        with write_transaction(db):
            db["pairs"].insert({"question": "Q?", "answer": "A."})
            raise RuntimeError("boom")
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 0


def test_full_text_index_follows_inserts_edits_and_deletes(db):
    with write_transaction(db):
        pid = db["pairs"].insert({"question": "How high is the Larkspur Dam?", "answer": "212 metres."}).last_pk

    def hits(word):
        return [r[0] for r in db.execute("SELECT rowid FROM pairs_fts WHERE pairs_fts MATCH ?", [word])]

    assert hits("larkspur") == [pid]
    with write_transaction(db):
        db.execute("UPDATE pairs SET question = 'How tall is the Orvane weir?' WHERE id = ?", [pid])
    assert hits("larkspur") == []
    assert hits("orvane") == [pid]
    with write_transaction(db):
        db.execute("DELETE FROM pairs WHERE id = ?", [pid])
    assert hits("orvane") == []


def test_pair_status_and_split_are_checked(db):
    with pytest.raises(sqlite3.IntegrityError):
        with write_transaction(db):
            db["pairs"].insert({"question": "Q?", "answer": "A.", "status": "maybe"})
    with pytest.raises(sqlite3.IntegrityError):
        with write_transaction(db):
            db["pairs"].insert({"question": "Q?", "answer": "A.", "split": "test"})


_HOLD_SCRATCH = """
import sys, time
from kwdesk.core.store.workspace import Workspace
folder = Workspace.open(sys.argv[1]).scratch_dir()
(folder / "export.gguf.part").write_bytes(b"x" * 100)
print(folder, flush=True)
time.sleep(600)
"""


def test_a_live_process_keeps_its_scratch_folder_and_a_killed_ones_is_removed(tmp_path):
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", _HOLD_SCRATCH, str(tmp_path / "w")], stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(child.stdout.readline().strip())
        assert (folder / "export.gguf.part").is_file()
        # Another window or command opening the workspace leaves a running export alone.
        Workspace.open(tmp_path / "w")
        assert (folder / "export.gguf.part").is_file()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    Workspace.open(tmp_path / "w")  # the next start after the kill
    assert not folder.exists()
    assert list((tmp_path / "w" / "tmp").iterdir()) == []


def test_a_writer_that_waits_too_long_hears_the_workspace_is_busy(tmp_path, monkeypatch):
    import kwdesk.core.store.workspace as workspace_module

    ws = Workspace.open(tmp_path / "w")
    holder = ws.connect()
    holder.conn.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        waiter = sqlite_utils_db(ws, timeout_s=0.2)
        with pytest.raises(workspace_module.WorkspaceBusy, match="The workspace is busy"):
            with write_transaction(waiter):
                pass
        # The CLI and the app show WorkspaceError messages as they are.
        assert isinstance(workspace_module.WorkspaceBusy(), WorkspaceError)
    finally:
        holder.conn.rollback()


def sqlite_utils_db(ws, timeout_s: float):
    """A connection like Workspace.connect's, with a short busy timeout."""
    db = ws.connect()
    db.conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    return db
