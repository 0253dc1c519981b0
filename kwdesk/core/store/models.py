"""The model library: bases, adapters, merged models and GGUF exports, with lineage."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlite_utils

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.store.workspace import Workspace, write_transaction


class ModelNotRegistered(KwdeskError):
    pass


@dataclass
class ModelEntry:
    id: int
    kind: str
    name: str
    path: str
    run_id: int | None
    parent_model_id: int | None
    quantization: str | None
    size_bytes: int | None
    verified: bool | None
    meta: dict
    created_at: str

    def to_dict(self) -> dict:
        return asdict(self)


_COLUMNS = "id, kind, name, path, run_id, parent_model_id, quantization, size_bytes, verified, meta, created_at"


def _entry(row) -> ModelEntry:
    values = list(row)
    values[8] = None if values[8] is None else bool(values[8])
    values[9] = json.loads(values[9] or "{}")
    return ModelEntry(*values)


def list_models(db: sqlite_utils.Database, kind: str | None = None) -> list[ModelEntry]:
    sql = f"SELECT {_COLUMNS} FROM models" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
    return [_entry(row) for row in db.execute(sql, [kind] if kind else [])]


def get_model(db: sqlite_utils.Database, model_id: int) -> ModelEntry:
    row = db.execute(f"SELECT {_COLUMNS} FROM models WHERE id = ?", [model_id]).fetchone()
    if row is None:
        raise ModelNotRegistered(f"There is no model {model_id} in this workspace (kwdesk models lists them).")
    return _entry(row)


def register_model(db: sqlite_utils.Database, kind: str, name: str, path: Path | str, *, run_id: int | None = None,
                   parent_model_id: int | None = None, quantization: str | None = None, size_bytes: int | None = None,
                   verified: bool | None = None, meta: dict | None = None) -> int:
    """A new row of the model library; its id. Inside write_transaction it commits with the
    rest of that write (an export registers its merged folder and its file together)."""
    return db["models"].insert({
        "kind": kind, "name": name, "path": str(path), "run_id": run_id, "parent_model_id": parent_model_id,
        "quantization": quantization, "size_bytes": size_bytes,
        "verified": None if verified is None else int(bool(verified)), "meta": json.dumps(meta or {}),
    }).last_pk


def base_model_id(db: sqlite_utils.Database, folder: Path | str) -> int | None:
    """The library's row for the base model in FOLDER, if it has one."""
    row = db.execute("SELECT id FROM models WHERE kind = 'base' AND path = ?", [str(folder)]).fetchone()
    return row[0] if row else None


def exports_of_run(db: sqlite_utils.Database, run_id: int) -> list[ModelEntry]:
    """The model files (GGUF) made from training run RUN_ID, oldest first."""
    return [_entry(r) for r in db.execute(f"SELECT {_COLUMNS} FROM models WHERE run_id = ? AND kind = 'gguf' ORDER BY id",
                                          [run_id])]


def made_files_of_run(db: sqlite_utils.Database, run_id: int) -> list[ModelEntry]:
    """What an export of training run RUN_ID made (model files, adapter files, merged
    folders), newest first; not the run's own trained adapter."""
    return [_entry(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM models WHERE run_id = ? AND kind IN ('gguf', 'gguf-lora', 'merged') ORDER BY id DESC",
        [run_id])]


def model_id_for_path(db: sqlite_utils.Database, path: Path | str) -> int | None:
    """The newest registered model stored at PATH (None: a file kwdesk did not make)."""
    row = db.execute("SELECT id FROM models WHERE path = ? ORDER BY id DESC LIMIT 1", [str(path)]).fetchone()
    return row[0] if row else None


def newest_gguf(db: sqlite_utils.Database) -> ModelEntry | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM models WHERE kind = 'gguf' AND verified = 1 ORDER BY id DESC LIMIT 1").fetchone()
    return _entry(row) if row else None


def delete_model(workspace: Workspace, db: sqlite_utils.Database, model_id: int) -> ModelEntry:
    """Forget a model and delete its files, when they lie inside the workspace."""
    entry = get_model(db, model_id)
    with write_transaction(db):
        db.execute("DELETE FROM models WHERE id = ?", [model_id])
    path = Path(entry.path).resolve()
    if workspace.root in path.parents:  # never delete a user's own file elsewhere
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return entry


@dataclass
class AdapterSavings:
    """Adapters that share one base file, against one merged model file per adapter."""

    base_gguf: str
    base_bytes: int
    adapters: int
    adapter_bytes: int
    merged_bytes: int  # the merged exports of the same runs (what the adapters stand in for)

    @property
    def shared_bytes(self) -> int:
        return self.base_bytes + self.adapter_bytes

    @property
    def saved_bytes(self) -> int:
        return self.merged_bytes - self.shared_bytes

    def to_dict(self) -> dict:
        return {**asdict(self), "shared_bytes": self.shared_bytes, "saved_bytes": self.saved_bytes}

    def describe(self) -> str:
        mb = lambda n: f"{n / 1e6:.0f} MB"  # noqa: E731
        if self.adapters == 1:
            return (f"This model is a small adapter file ({mb(self.adapter_bytes)}) on a shared base model file "
                    f"({mb(self.base_bytes)}): each further model you train on this base adds about as little.")
        return (f"{self.adapters} models share one base model file: {mb(self.shared_bytes)} in all (base "
                f"{mb(self.base_bytes)} + {mb(self.adapter_bytes)} of their own), where a separate file each would "
                f"take {mb(self.merged_bytes)}: {mb(max(0, self.saved_bytes))} saved.")


def adapter_savings(db: sqlite_utils.Database) -> list[AdapterSavings]:
    """The disk that adapter files save, per shared base file."""
    groups: dict[str, list[ModelEntry]] = {}
    for entry in list_models(db, "gguf-lora"):
        if entry.verified and entry.meta.get("base_gguf"):
            groups.setdefault(entry.meta["base_gguf"], []).append(entry)
    out = []
    for base, entries in groups.items():
        base_path = Path(base)
        base_bytes = base_path.stat().st_size if base_path.is_file() else int(entries[0].meta.get("base_gguf_bytes") or 0)
        merged = 0
        for entry in entries:
            parent = db.execute("SELECT size_bytes FROM models WHERE id = ?", [entry.parent_model_id]).fetchone()
            merged += parent[0] if parent and parent[0] else base_bytes  # a merged file is the base's size
        out.append(AdapterSavings(base, base_bytes, len(entries), sum(e.size_bytes or 0 for e in entries), merged))
    return out
