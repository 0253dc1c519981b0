"""The dataset as JSONL in the formats people train with, and back.

Formats: OpenAI chat messages, ShareGPT conversations, Alpaca instructions, and a Hugging
Face dataset folder (a dataset card README.md whose YAML names the splits, and
data/train.jsonl, data/test.jsonl in the chat format) that `datasets.load_dataset(folder)`
reads and the Hub accepts as it is. A training text (a rephrasing) has no question and is
written as {"text": ...} in every format. Each line
also carries a "kwdesk" object with status, split, strategy and provenance, so that
export and import round-trip without loss; trainers ignore keys they do not know. Lines
from other tools (no "kwdesk" key) import as new pairs.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import sqlite_utils

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Job
from kwdesk.core.store.documents import (
    chunk_identity,
    current_document_names,
    document_identity,
    find_by_content,
)
from kwdesk.core.store.pairs import insert_linked_pairs, list_pairs, question_answer_set

FORMATS = ("openai", "sharegpt", "alpaca")
HF_FOLDER = "hf"  # a folder, not a file: see export_hf_folder
# kwdesk's splits and the names the datasets library expects.
_HF_SPLITS = {"train": "train", "eval": "test"}
_KEPT = ("kind", "strategy", "status", "split", "source_span", "made_by", "prompt_version", "meta", "created_at", "updated_at")


class DatasetError(KwdeskError):
    """A dataset file that cannot be read; the message is for people."""


def _provenance(db, pair: dict) -> dict:
    out = {key: pair[key] for key in _KEPT}
    out["id"] = pair["id"]
    out["parent_id"] = pair["parent_pair_id"]
    if pair["document_id"]:
        row = document_identity(db, pair["document_id"])
        if row:
            out["document"], out["document_sha256"] = row
    if pair["chunk_id"]:
        row = chunk_identity(db, pair["chunk_id"])
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


def export_hf_folder(db: sqlite_utils.Database, folder: Path, *, include_rejected: bool = False) -> int:
    """A dataset folder as the Hugging Face Hub lays it out; returns the count of records.

    Every record has the same columns ("messages" and "text", one of them null, and the
    "kwdesk" provenance), because the datasets library infers one schema per split."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DatasetError(f"{folder} is a file; name a folder for a Hugging Face dataset.")
    if folder.is_dir() and any(p.name not in ("README.md", "data") for p in folder.iterdir()):
        raise DatasetError(f"{folder} holds other files; name a new or empty folder.")
    tmp = folder.with_name(folder.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    counts = {split: 0 for split in _HF_SPLITS.values()}
    handles = {split: (tmp / "data" / f"{split}.jsonl").open("w", encoding="utf-8") for split in _HF_SPLITS.values()}
    try:
        for pair in list_pairs(db):
            if pair["status"] == "rejected" and not include_rejected:
                continue
            record = to_record(pair, "openai", _provenance(db, pair))
            row = {"messages": record.get("messages"), "text": record.get("text"), "kwdesk": json.dumps(record["kwdesk"], ensure_ascii=False)}
            split = _HF_SPLITS.get(pair["split"], "train")
            handles[split].write(json.dumps(row, ensure_ascii=False) + "\n")
            counts[split] += 1
    finally:
        for handle in handles.values():
            handle.close()
    for split, count in counts.items():
        if not count:
            (tmp / "data" / f"{split}.jsonl").unlink()
    (tmp / "README.md").write_text(_dataset_card(db, counts), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)  # a folder that exists under its name is whole
    return sum(counts.values())


def _dataset_card(db, counts: dict[str, int]) -> str:
    documents = current_document_names(db)
    splits = [s for s, n in counts.items() if n]
    yaml = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        yaml += [f"  - split: {split}", f"    path: data/{split}.jsonl"]
    yaml += ["task_categories:", "- question-answering", "- text-generation", "---", ""]
    body = [
        "# Training data made with kwdesk", "",
        "Question and answer pairs and training texts written from the documents below, reviewed in kwdesk.",
        "`messages` holds a chat (user question, assistant answer); `text` a training text; `kwdesk` (JSON) where "
        "each record came from: document, page, passage hash, strategy, review status.", "",
        "| split | records |", "|---|---|", *[f"| {s} | {counts[s]} |" for s in splits], "",
        f"Source documents ({len(documents)}):", "", *[f"- {name}" for name in documents[:200]],
    ]
    if len(documents) > 200:
        body.append(f"- and {len(documents) - 200} more")
    body += ["", "The documents' own terms apply to this data.", ""]
    return "\n".join(yaml + body)


def _hf_records(folder: Path) -> list[tuple[str, dict]]:
    """(file name, record) of every line of a dataset folder's JSONL files, split from the name."""
    files = sorted(folder.glob("data/*.jsonl")) or sorted(folder.glob("*.jsonl"))
    if not files:
        parquet = list(folder.rglob("*.parquet")) or list(folder.rglob("*.arrow"))
        hint = " (Parquet and Arrow files are not read: save the dataset with to_json)" if parquet else ""
        raise DatasetError(f"{folder} holds no JSONL data files{hint}.")
    out = []
    for path in files:
        split = "eval" if path.stem.split("-")[0] in ("test", "validation", "eval") else "train"
        for number, record in _read_jsonl(path):
            if isinstance(record.get("kwdesk"), str):  # written as JSON text by export_hf_folder
                try:
                    record["kwdesk"] = json.loads(record["kwdesk"])
                except json.JSONDecodeError:
                    record["kwdesk"] = {}
            if record.get("messages") is None:
                record.pop("messages", None)
            record.setdefault("kwdesk", {}).setdefault("split", split)
            out.append((f"{path.name}, line {number}", record))
    return out


def _read_jsonl(path: Path):
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path.name}, line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise DatasetError(f"{path.name}, line {number}: not a JSON object")
        yield number, record


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
    """Pairs from a JSONL file in any of the formats, or from a Hugging Face dataset folder."""
    path = Path(path)
    report = ImportReport()
    rows: list[dict] = []
    parents: list[int | None] = []  # the exported id of each row's parent, to re-link
    exported_ids: list[int | None] = []
    existing = question_answer_set(db)
    if path.is_dir():
        records = _hf_records(path)
    else:
        records = [(f"{path.name}, line {number}", record) for number, record in _read_jsonl(path)]
    for where, record in records:
        try:
            turns = _turns(record)
        except DatasetError as exc:
            raise DatasetError(f"{where}: {exc}") from exc
        info = record.get("kwdesk") if isinstance(record.get("kwdesk"), dict) else {}
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
    insert_linked_pairs(db, rows, exported_ids, parents)
    report.added = len(rows)
    return report


def _link(db, info: dict) -> tuple[int | None, int | None]:
    """The document and chunk of this workspace that a pair came from, found by content."""
    return find_by_content(db, info.get("document_sha256"), info.get("chunk_sha256"))


class DatasetJob(Job):
    """Export or import JSONL as a job, so the app never waits on a large file."""

    def __init__(self, workspace, action: str, path: Path, fmt: str = "openai", *, include_rejected: bool = False) -> None:
        super().__init__()
        if action not in ("export", "import"):
            raise ValueError(action)
        self.workspace, self.action, self.path, self.fmt = workspace, action, Path(path), fmt
        self.include_rejected = include_rejected

    def _run(self) -> dict:
        self.report(0, None, f"{'Writing' if self.action == 'export' else 'Reading'} {self.path.name}…")
        db = self.workspace.connect()
        try:
            if self.action == "export":
                write = export_hf_folder if self.fmt == HF_FOLDER else partial(export_jsonl, fmt=self.fmt)
                count = write(db, self.path, include_rejected=self.include_rejected)
                return {"action": "export", "path": str(self.path), "format": self.fmt, "records": count}
            return {"action": "import", "path": str(self.path), **import_jsonl(db, self.path).to_dict()}
        finally:
            db.close()
