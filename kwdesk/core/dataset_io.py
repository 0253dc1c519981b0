"""The dataset as JSONL in the formats people train with, and back.

Formats: OpenAI chat messages, ShareGPT conversations, Alpaca instructions. A training text
(a rephrasing) has no question and is written as {"text": ...} in every format. Each line
also carries a "kwdesk" object with status, split, strategy and provenance, so that
export and import round-trip without loss; trainers ignore keys they do not know. Lines
from other tools (no "kwdesk" key) import as new pairs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlite_utils

from kwdesk.core.jobs import Job, ProgressCallback
from kwdesk.core.pairs import list_pairs
from kwdesk.core.workspace import write_transaction

FORMATS = ("openai", "sharegpt", "alpaca")
_KEPT = ("kind", "strategy", "status", "split", "source_span", "made_by", "prompt_version", "meta", "created_at", "updated_at")


class DatasetError(Exception):
    """A dataset file that cannot be read; the message is for people."""


def _provenance(db, pair: dict) -> dict:
    out = {key: pair[key] for key in _KEPT}
    out["id"] = pair["id"]
    out["parent_id"] = pair["parent_pair_id"]
    if pair["document_id"]:
        row = db.execute("SELECT name, sha256 FROM documents WHERE id = ?", [pair["document_id"]]).fetchone()
        if row:
            out["document"], out["document_sha256"] = row
    if pair["chunk_id"]:
        row = db.execute("SELECT text_sha256, page_start, page_end FROM chunks WHERE id = ?", [pair["chunk_id"]]).fetchone()
        if row:
            out["chunk_sha256"], out["page_start"], out["page_end"] = row
    return out


def to_record(pair: dict, fmt: str, provenance: dict) -> dict:
    question, answer = pair["question"], pair["answer"]
    if not question:
        record: dict = {"text": answer}
    elif fmt == "openai":
        record = {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
    elif fmt == "sharegpt":
        record = {"conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]}
    elif fmt == "alpaca":
        record = {"instruction": question, "input": "", "output": answer}
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    record["kwdesk"] = provenance
    return record


def export_jsonl(db: sqlite_utils.Database, path: Path, fmt: str = "openai", *, include_rejected: bool = False) -> int:
    """Write the pairs (all but rejected ones, unless asked) to PATH; returns the count."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    count = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for pair in list_pairs(db):
            if pair["status"] == "rejected" and not include_rejected:
                continue
            fh.write(json.dumps(to_record(pair, fmt, _provenance(db, pair)), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)  # a file that exists is a whole file
    return count


def _turns(record: dict) -> list[tuple[str, str]] | str:
    """The (question, answer) turns of a record, or its text for a training text."""
    if "messages" in record or "conversations" in record:
        turns, question = [], None
        for message in record.get("messages") or record.get("conversations") or []:
            role = message.get("role") or message.get("from")
            content = message.get("content") if "content" in message else message.get("value")
            if not isinstance(content, str):
                continue
            if role in ("user", "human"):
                question = content
            elif role in ("assistant", "gpt") and question is not None:
                turns.append((question, content))
                question = None
        return turns
    if "instruction" in record:
        question = record["instruction"] + (f"\n\n{record['input']}" if record.get("input") else "")
        return [(question, record.get("output", ""))]
    if isinstance(record.get("text"), str):
        return record["text"]
    raise DatasetError("a line is in none of the known formats (messages, conversations, instruction, text)")


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    linked: int = 0  # pairs whose source document is in this workspace

    def to_dict(self) -> dict:
        return asdict(self)


def import_jsonl(db: sqlite_utils.Database, path: Path) -> ImportReport:
    path = Path(path)
    report = ImportReport()
    rows: list[dict] = []
    parents: list[int | None] = []  # the exported id of each row's parent, to re-link
    exported_ids: list[int | None] = []
    existing = {(q, a) for q, a in db.execute("SELECT question, answer FROM pairs")}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            turns = _turns(record)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path.name}, line {number}: not JSON ({exc.msg})") from exc
        except DatasetError as exc:
            raise DatasetError(f"{path.name}, line {number}: {exc}") from exc
        info = record.get("kwdesk") or {}
        pairs = [("", turns)] if isinstance(turns, str) else turns
        for question, answer in pairs:
            if (question, answer) in existing:
                report.duplicates += 1
                continue
            existing.add((question, answer))
            row = {
                "question": question,
                "answer": answer,
                "kind": info.get("kind", "rephrase" if not question else "qa"),
                "strategy": info.get("strategy", "imported"),
                "status": info.get("status", "new"),
                "split": info.get("split", "train"),
                "source_span": info.get("source_span"),
                "made_by": info.get("made_by", f"import:{path.name}"),
                "prompt_version": info.get("prompt_version"),
                "meta": info.get("meta") if isinstance(info.get("meta"), str) else json.dumps(info.get("meta") or {}),
            }
            for key in ("created_at", "updated_at"):
                if info.get(key):
                    row[key] = info[key]
            document_id, chunk_id = _link(db, info)
            row["document_id"], row["chunk_id"] = document_id, chunk_id
            report.linked += document_id is not None
            rows.append(row)
            parents.append(info.get("parent_id"))
            exported_ids.append(info.get("id"))
    with write_transaction(db):
        new_ids: dict[int, int] = {}
        for row, old_id in zip(rows, exported_ids):
            new_id = db["pairs"].insert(row).last_pk
            if old_id is not None:
                new_ids[old_id] = new_id
        for old_id, parent in zip(exported_ids, parents):
            if parent is not None and old_id in new_ids and parent in new_ids:
                db.execute("UPDATE pairs SET parent_pair_id = ? WHERE id = ?", [new_ids[parent], new_ids[old_id]])
    report.added = len(rows)
    return report


def _link(db, info: dict) -> tuple[int | None, int | None]:
    """The document and chunk of this workspace that a pair came from, found by content."""
    sha = info.get("document_sha256")
    if not sha:
        return None, None
    row = db.execute("SELECT id FROM documents WHERE sha256 = ? AND status = 'imported' ORDER BY id LIMIT 1", [sha]).fetchone()
    if row is None:
        return None, None
    chunk = None
    if info.get("chunk_sha256"):
        found = db.execute(
            "SELECT id FROM chunks WHERE document_id = ? AND text_sha256 = ? LIMIT 1", [row[0], info["chunk_sha256"]]
        ).fetchone()
        chunk = found[0] if found else None
    return row[0], chunk


class DatasetJob(Job):
    """Export or import JSONL as a job, so the app never waits on a large file."""

    def __init__(self, workspace, action: str, path: Path, fmt: str = "openai", *, include_rejected: bool = False) -> None:
        super().__init__()
        if action not in ("export", "import"):
            raise ValueError(action)
        self.workspace, self.action, self.path, self.fmt = workspace, action, Path(path), fmt
        self.include_rejected = include_rejected

    def run(self, progress: ProgressCallback | None = None) -> dict:
        self._progress = progress
        self.report(0, None, f"{'Writing' if self.action == 'export' else 'Reading'} {self.path.name}…")
        db = self.workspace.connect()
        try:
            if self.action == "export":
                count = export_jsonl(db, self.path, self.fmt, include_rejected=self.include_rejected)
                return {"action": "export", "path": str(self.path), "format": self.fmt, "records": count}
            return {"action": "import", "path": str(self.path), **import_jsonl(db, self.path).to_dict()}
        finally:
            db.close()
