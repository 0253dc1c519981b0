"""A workspace exported to one archive and restored: everything comes back, whole."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from kill9_helpers import Child

from kwdesk.core.store.backup import BackupError, BackupJob, restore_workspace
from kwdesk.core.store.workspace import Workspace


def _kwdesk(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwdesk", *map(str, args)], capture_output=True, text=True, timeout=300)


def _with_a_run_and_a_model(ws: Workspace) -> None:
    """A finished run with its adapter and an exported model file, as training leaves them."""
    import numpy as np
    from safetensors.numpy import save_file

    db = ws.connect()
    run_dir = ws.runs_dir / "train-1"
    (run_dir / "adapter").mkdir(parents=True)
    save_file({"lora_A": np.ones((4, 4), dtype=np.float32)}, str(run_dir / "adapter" / "adapter_model.safetensors"))
    (run_dir / "checkpoints" / "step-000002").mkdir(parents=True)  # only for resuming: left out
    (run_dir / "checkpoints" / "step-000002" / "trainer_state.pt").write_bytes(b"x" * 1000)
    gguf = ws.models_dir / "model-run1.Q8_0.gguf"
    gguf.write_bytes(b"GGUF" + bytes(range(256)) * 100)
    db["runs"].insert({"id": 1, "kind": "train", "status": "done", "path": str(run_dir), "config": "{}"})
    db["models"].insert({"kind": "gguf", "name": "model run 1", "path": str(gguf), "run_id": 1, "size_bytes": gguf.stat().st_size})
    db.close()


def test_backup_and_restore_bring_everything_back_in_a_new_folder(pairs_workspace, tmp_path):
    _with_a_run_and_a_model(pairs_workspace)
    archive = tmp_path / "backup.zip"
    result = BackupJob(pairs_workspace, archive).run()
    assert archive.is_file() and result.files >= 3
    names = zipfile.ZipFile(archive).namelist()
    assert "kwdesk.db" in names and "models/model-run1.Q8_0.gguf" in names
    assert not [n for n in names if "checkpoints" in n]

    restored = restore_workspace(archive, tmp_path / "restored")
    old, new = pairs_workspace.connect(), restored.connect()
    for table in ("documents", "chunks", "pairs", "pages"):
        assert old.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() == new.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    # Paths inside the old workspace now point into the new one, and the files are there.
    (path,) = new.execute("SELECT path FROM models WHERE kind = 'gguf'").fetchone()
    assert Path(path) == restored.models_dir / "model-run1.Q8_0.gguf" and Path(path).is_file()
    (run_path,) = new.execute("SELECT path FROM runs").fetchone()
    assert (Path(run_path) / "adapter" / "adapter_model.safetensors").is_file()
    assert new.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'Larkspur'").fetchone()[0] > 0

    with pytest.raises(BackupError, match="not empty"):
        restore_workspace(archive, tmp_path / "restored")


def test_the_cli_backs_up_and_restores(pairs_workspace, tmp_path):
    out = _kwdesk("--workspace", pairs_workspace.root, "backup", tmp_path / "b.zip", "--no-models")
    assert out.returncode == 0, out.stderr
    out = _kwdesk("restore", tmp_path / "b.zip", tmp_path / "again")
    assert out.returncode == 0, out.stderr
    out = _kwdesk("--workspace", tmp_path / "again", "pairs", "list", "--json")
    assert "Larkspur" in out.stdout


def test_a_backup_taken_while_another_process_edits_is_consistent(pairs_workspace, tmp_path):
    db = pairs_workspace.connect()
    fixture_pairs = db.execute("SELECT count(*) FROM pairs").fetchone()[0]
    db.close()
    editor = Child("edit", str(pairs_workspace.root), "1")
    try:
        editor.wait_until(lambda lines: len(lines) >= 50, 60)
        BackupJob(pairs_workspace, tmp_path / "busy.zip").run()
    finally:
        editor.kill()
    restored = restore_workspace(tmp_path / "busy.zip", tmp_path / "from-busy")
    db = restored.connect()
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The fixture's pairs untouched, and the editor's own pairs as they were at some moment:
    # it keeps at least 5 of its own once it has added them (the 50 lines waited for).
    assert db.execute("SELECT count(*) FROM pairs WHERE question NOT LIKE 'Question 1-%'").fetchone()[0] == fixture_pairs
    assert db.execute("SELECT count(*) FROM pairs WHERE question LIKE 'Question 1-%'").fetchone()[0] >= 5


def test_restore_refuses_damaged_and_hostile_archives(pairs_workspace, tmp_path):
    archive = tmp_path / "good.zip"
    BackupJob(pairs_workspace, archive).run()
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(hostile, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("../outside.txt", "escaped")
    with pytest.raises(BackupError, match="outside the workspace"):
        restore_workspace(hostile, tmp_path / "h")
    assert not (tmp_path / "outside.txt").exists()

    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[:-10] + b"0" * 10 if info.filename == "kwdesk.db" else data)
    with pytest.raises(BackupError, match="damaged"):
        restore_workspace(damaged, tmp_path / "d")
    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(BackupError, match="not a kwdesk backup"):
        restore_workspace(tmp_path / "not.zip", tmp_path / "n")


def test_back_up_and_restore_from_the_window(qtbot, pairs_workspace, tmp_path, monkeypatch, no_threads_left, screenshot):
    from PySide6.QtWidgets import QMessageBox

    from kwdesk.core.app.settings import load_settings
    from kwdesk.ui.main_window import MainWindow

    window = MainWindow(pairs_workspace, "test model")
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.backup_bar.finished, timeout=60_000):
        window.back_up(str(tmp_path / "from-app.zip"))
    assert (tmp_path / "from-app.zip").is_file()
    assert "Backed up to" in window.statusBar().currentMessage()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.backup_bar.finished, timeout=60_000):
        window.restore(str(tmp_path / "from-app.zip"), str(tmp_path / "restored-in-app"))
    assert (tmp_path / "restored-in-app" / "kwdesk.db").is_file()
    assert load_settings().workspace == str((tmp_path / "restored-in-app").resolve())
    assert window.backup_button.isEnabled() and window.running_label.text() == "Ready"
    screenshot(window, "backup-buttons")
    window.close()
