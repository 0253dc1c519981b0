"""Personal models: what the expert trained, as one thing each, named in their words.

One training run makes one personal model, whatever files it has (the adapter, the merged
model, the model file, the adapter file): the window, the chat, the CLI and the server all
show it as one entry named after its body of knowledge and its version, "Maintenance
manuals, version 2", or by the name the expert gave it. The files and their technical kinds
are details (FILE_KINDS), shown one click away.

The name comes from the run's collection, else from the documents it was trained on (kept
in the run's config when training starts, so a document added later does not rename it);
the version counts the finished runs of that same body of knowledge, oldest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.store.models import ModelEntry, get_model, list_models
from kwdesk.core.store.workspace import write_transaction

# The technical kinds of a model's files, for Details, tooltips and `kwdesk models --files`.
FILE_KINDS = {"adapter": "adapter (LoRA, for PEFT)", "merged": "merged model (transformers)",
              "gguf": "model file (GGUF)", "gguf-lora": "adapter file (GGUF LoRA, on the shared base)",
              "base": "base model"}
# The file chat, evaluation and the server use, first choice first: the adapter file on the
# shared base (switching between models takes milliseconds, one base in memory), else the
# model file of its own. Each was verified against the trained model.
CHATTABLE = ("gguf-lora", "gguf")
MAX_NAME = 80


class PersonalModelError(KwdeskError):
    """No such personal model, or a name it cannot have; the message says why."""


@dataclass
class PersonalModel:
    run_id: int
    name: str  # the expert's name, or knowledge + version
    knowledge: str  # what it was trained on: the collection, or the documents
    version: int  # the n-th model of this body of knowledge
    trained_at: str  # ISO, UTC
    collection_id: int | None
    renamed: bool = False  # the expert chose the name
    files: list[ModelEntry] = field(default_factory=list)  # oldest first
    quality: dict | None = None  # the newest evaluation's summary, if any
    eval_id: int | None = None

    @property
    def chat_file(self) -> ModelEntry | None:
        """The file chat, evaluation and the server use (CHATTABLE's order), newest first."""
        for kind in CHATTABLE:
            usable = [f for f in self.files if f.kind == kind and f.verified]
            if usable:
                return usable[-1]
        return None

    @property
    def adapter_file(self) -> ModelEntry | None:
        """The newest verified adapter file (GGUF LoRA), which shares a loaded base."""
        usable = [f for f in self.files if f.kind == "gguf-lora" and f.verified]
        return usable[-1] if usable else None

    def file(self, kind: str) -> ModelEntry | None:
        found = [f for f in self.files if f.kind == kind]
        return found[-1] if found else None

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes or 0 for f in self.files)

    @property
    def trained_on(self) -> str:
        """'trained 1 Dec' (the year too when it is not this one), in local time."""
        return "trained " + short_date(self.trained_at)

    @property
    def quality_in_words(self) -> str:
        """What the newest evaluation found, in the expert's words."""
        return quality_in_words(self.quality)

    @property
    def ids(self) -> list[int]:
        return [f.id for f in self.files]

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "name": self.name, "knowledge": self.knowledge, "version": self.version,
                "trained_at": self.trained_at, "renamed": self.renamed, "quality": self.quality_in_words,
                "chat_model_id": self.chat_file.id if self.chat_file else None,
                "files": [{"id": f.id, "kind": f.kind, "path": f.path, "quantization": f.quantization,
                           "size_bytes": f.size_bytes, "verified": f.verified} for f in self.files]}


def short_date(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso[:10]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone()
    return f"{local.day} {local:%b}" + ("" if local.year == datetime.now().year else f" {local.year}")


def quality_in_words(summary: dict | None) -> str:
    if not summary:
        return "not evaluated yet"
    held = summary.get("heldout") or {}
    alone, sourced = held.get("personal") or {}, held.get("personal+rag") or {}
    parts = []
    if alone.get("total"):
        parts.append(f"answers {alone['correct']} of {alone['total']} test questions alone")
        if sourced.get("total"):
            parts[-1] += f", {sourced['correct']} with your documents"
    kept = (summary.get("kept") or {}).get("share")
    if kept is not None:
        parts.append(f"kept {kept:.0%} of general knowledge")
    return "; ".join(parts) or "not evaluated yet"


def _document_names(db, collection_id: int | None) -> str:
    where, args = "is_current = 1 AND status = 'imported'", []
    if collection_id is not None:
        where += " AND collection_id = ?"
        args.append(collection_id)
    names = [_readable(row[0]) for row in db.execute(f"SELECT name FROM documents WHERE {where} ORDER BY id", args)]
    if not names:
        return "Your documents"
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} and {len(names) - 1} more"


def _readable(file_name: str) -> str:
    """'maintenance_manual-v2.pdf' -> 'Maintenance manual v2'."""
    stem = Path(file_name).stem.replace("_", " ").replace("-", " ")
    stem = " ".join(stem.split()) or file_name
    return stem[:1].upper() + stem[1:]


def knowledge_name(db, collection_id: int | None) -> str:
    """What a run on COLLECTION_ID (None: the whole workspace) is about, as its name starts."""
    if collection_id is not None:
        row = db.execute("SELECT name FROM collections WHERE id = ?", [collection_id]).fetchone()
        if row:
            return row[0][:1].upper() + row[0][1:]
    return _document_names(db, collection_id)


def personal_models(db) -> list[PersonalModel]:
    """Every finished training run that left a model, oldest first, named and versioned."""
    files: dict[int, list[ModelEntry]] = {}
    for entry in list_models(db):
        if entry.run_id is not None and entry.kind != "base":
            files.setdefault(entry.run_id, []).append(entry)
    if not files:
        return []
    marks = ",".join("?" * len(files))
    rows = db.execute(
        f"""SELECT id, config, title, coalesce(finished_at, created_at) FROM runs
            WHERE id IN ({marks}) AND kind = 'train' ORDER BY id""", list(files)).fetchall()
    evals = _newest_evals(db, list(files))
    versions: dict[str, int] = {}
    out = []
    for run_id, config, title, finished in rows:
        config = json.loads(config or "{}")
        collection_id = config.get("collection_id")
        knowledge = config.get("knowledge") or knowledge_name(db, collection_id)
        key = f"collection:{collection_id}" if collection_id is not None else f"documents:{knowledge}"
        versions[key] = versions.get(key, 0) + 1
        version = versions[key]
        eval_id, summary = evals.get(run_id, (None, None))
        out.append(PersonalModel(run_id, title or f"{knowledge}, version {version}", knowledge, version, finished,
                                 collection_id, renamed=bool(title), files=files[run_id], quality=summary,
                                 eval_id=eval_id))
    return out


def _newest_evals(db, run_ids: list[int]) -> dict[int, tuple[int, dict]]:
    marks = ",".join("?" * len(run_ids))
    out: dict[int, tuple[int, dict]] = {}
    for eval_id, run_id, summary in db.execute(
            f"""SELECT e.id, m.run_id, e.summary FROM evals e JOIN models m ON m.id = e.model_id
                WHERE m.run_id IN ({marks}) ORDER BY e.id""", run_ids):
        out[run_id] = (eval_id, json.loads(summary or "{}"))
    return out


def personal_model(db, run_id: int) -> PersonalModel:
    for model in personal_models(db):
        if model.run_id == run_id:
            return model
    raise PersonalModelError(f"Training run {run_id} made no model (kwdesk models lists them).")


def personal_model_of(db, model_id: int) -> PersonalModel | None:
    """The personal model that file MODEL_ID belongs to (None: a base model, or no run)."""
    entry = get_model(db, model_id)
    if entry.run_id is None:
        return None
    try:
        return personal_model(db, entry.run_id)
    except PersonalModelError:
        return None


def model_name(db, entry: ModelEntry) -> str:
    """What the user calls the model a file belongs to: its personal model's name, else the
    file's own name (a base model)."""
    if entry.run_id is not None and entry.kind != "base":
        model = next((m for m in personal_models(db) if m.run_id == entry.run_id), None)
        if model is not None:
            return model.name
    return entry.name


def rename_personal_model(db, run_id: int, name: str) -> PersonalModel:
    """Give the model of RUN_ID the expert's NAME ("" goes back to the name kwdesk makes)."""
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise PersonalModelError(f"A model's name can have at most {MAX_NAME} characters.")
    if name.isdigit():
        raise PersonalModelError("A model's name cannot be only digits (they are read as ids).")
    personal_model(db, run_id)  # raises if there is none
    with write_transaction(db):
        db.execute("UPDATE runs SET title = ? WHERE id = ?", [name or None, run_id])
    return personal_model(db, run_id)
