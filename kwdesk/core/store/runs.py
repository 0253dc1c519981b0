"""The runs table: every generation and training run, its configuration, folder, status
and metrics. The one place that reads or writes it.

A training run's folder holds config.json (what was trained: the base, the data's hash,
the steps), dataset.jsonl (the records, as trained), checkpoints and the adapter. The row
holds the TrainConfig as the user asked for it and the metrics as they came.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kwdesk.core.store.workspace import write_transaction

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


@dataclass
class Run:
    id: int
    kind: str  # train, generate
    status: str  # created, running, done, cancelled, failed
    config: dict = field(default_factory=dict)
    path: Path | None = None
    metrics: dict = field(default_factory=dict)
    dataset_sha256: str | None = None

    def saved_config(self) -> dict | None:
        """The run folder's config.json (None when the folder or file is gone or damaged)."""
        if self.path is None:
            return None
        try:
            return json.loads((self.path / "config.json").read_text())
        except (OSError, ValueError):
            return None


_COLUMNS = "id, kind, status, config, path, metrics, dataset_sha256"


def _run(row) -> Run:
    return Run(row[0], row[1], row[2], json.loads(row[3] or "{}"), Path(row[4]) if row[4] else None,
               json.loads(row[5] or "{}"), row[6])


def get_run(db, run_id: int, *, kind: str | None = None, status: str | None = None) -> Run | None:
    """Run RUN_ID, or None when there is none (of that kind, in that status)."""
    sql = f"SELECT {_COLUMNS} FROM runs WHERE id = ?"
    args: list = [run_id]
    if kind:
        sql += " AND kind = ?"
        args.append(kind)
    if status:
        sql += " AND status = ?"
        args.append(status)
    row = db.execute(sql, args).fetchone()
    return _run(row) if row else None


def newest_finished_training(db) -> Run | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM runs WHERE kind = 'train' AND status = 'done' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return _run(row) if row else None


def newest_run(db, kind: str, status: str | None = None) -> Run | None:
    """The newest run of KIND (in STATUS, when given)."""
    sql = f"SELECT {_COLUMNS} FROM runs WHERE kind = ?" + (" AND status = ?" if status else "") + " ORDER BY id DESC LIMIT 1"
    row = db.execute(sql, [kind, status] if status else [kind]).fetchone()
    return _run(row) if row else None


def training_run_rows(db) -> list[Run]:
    """Every training run, newest first."""
    return [_run(row) for row in db.execute(f"SELECT {_COLUMNS} FROM runs WHERE kind = 'train' ORDER BY id DESC")]


def run_config(db, run_id: int, *, from_file: bool = False) -> dict | None:
    """A run's configuration: the row's (the TrainConfig asked for), or with FROM_FILE its
    folder's config.json (what was trained). None when either is missing."""
    run = get_run(db, run_id)
    if run is None:
        return None
    return run.saved_config() if from_file else run.config


def count_runs(db, kind: str) -> int:
    return db.execute("SELECT count(*) FROM runs WHERE kind = ?", [kind]).fetchone()[0]


def create_run(db, kind: str, config: dict, *, status: str = "created", folder_for=None) -> tuple[int, Path | None]:
    """A new run row; FOLDER_FOR(run_id) names its folder (stored with it in one transaction)."""
    with write_transaction(db):
        run_id = db["runs"].insert({"kind": kind, "status": status, "config": json.dumps(config)}).last_pk
        path = folder_for(run_id) if folder_for is not None else None
        if path is not None:
            db.execute("UPDATE runs SET path = ? WHERE id = ?", [str(path), run_id])
    return run_id, path


def set_run_status(db, run_id: int, status: str, *, dataset_sha256: str | None = None, metrics: dict | None = None,
                   finished: bool = False) -> None:
    """Set a run's status; METRICS replace the stored ones when given, FINISHED stamps the time."""
    with write_transaction(db):
        db.execute(
            f"UPDATE runs SET status = ?, dataset_sha256 = coalesce(?, dataset_sha256), metrics = coalesce(?, metrics)"
            f"{', finished_at = ' + _NOW if finished else ''} WHERE id = ?",
            [status, dataset_sha256, json.dumps(metrics) if metrics is not None else None, run_id],
        )


def mark_run_failed(db, run_id: int, message: str) -> None:
    """A failed run keeps its metrics, with the reason under "error"."""
    with write_transaction(db):
        db.execute(
            "UPDATE runs SET status = 'failed', metrics = json_set(coalesce(metrics, '{}'), '$.error', ?) WHERE id = ?",
            [message[:2000], run_id],
        )


def exported_run_ids(db) -> set[int]:
    """Training runs that have a model file (GGUF) made from them."""
    return {row[0] for row in db.execute("SELECT DISTINCT run_id FROM models WHERE kind = 'gguf' AND run_id IS NOT NULL")}


def finish_training(db, run_id: int, metrics: dict, *, base_name: str, base_folder: Path, base_source: str,
                    adapter_dir: Path, dataset_sha256: str) -> int:
    """A finished training run, in one transaction: the run done with its metrics, its base
    in the model library (once per base folder), and its adapter there. The adapter's id."""
    from kwdesk.core.store.models import base_model_id, register_model

    size = sum(f.stat().st_size for f in Path(adapter_dir).iterdir() if f.is_file())
    with write_transaction(db):
        db.execute(f"UPDATE runs SET status = 'done', metrics = ?, finished_at = {_NOW} WHERE id = ?",
                   [json.dumps(metrics), run_id])
        base_id = base_model_id(db, base_folder) or register_model(
            db, "base", base_name, base_folder, size_bytes=sum(f.stat().st_size for f in Path(base_folder).glob("*.safetensors")),
            meta={"source": base_source})
        return register_model(db, "adapter", f"{base_name} + run {run_id}", adapter_dir, run_id=run_id,
                              parent_model_id=base_id, size_bytes=size,
                              meta={"base": base_source, "base_folder": str(base_folder), "dataset_sha256": dataset_sha256})
