"""Reading and changing Q&A pairs and training texts."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.store.collections import collection_pair_filter
from kwdesk.core.store.evals import LEARNED_SQL as _LEARNED
from kwdesk.core.store.workspace import write_transaction

STATUSES = ("new", "accepted", "edited", "rejected")
_COLUMNS = (
    "id", "question", "answer", "kind", "strategy", "status", "split", "document_id", "chunk_id",
    "source_span", "parent_pair_id", "made_by", "prompt_version", "meta", "created_at", "updated_at",
)


@dataclass(frozen=True)
class PairFilter:
    """Which pairs to show: the review table's filters, and `kwdesk pairs list`'s options.
    TEXT is full-text search over question and answer; LEARNED keeps the pairs the newest
    evaluation found learned (True) or not (False); COLLECTION_ID one collection's pairs."""

    status: str | None = None
    strategy: str | None = None
    document_id: int | None = None
    collection_id: int | None = None
    text: str | None = None
    learned: bool | None = None

    def where(self, alias: str = "p") -> tuple[str, list]:
        where, args = [], []
        if self.learned is not None:
            where.append(f"{alias}.id IN (SELECT fact_pair_id FROM ({_LEARNED}) WHERE correct = ?)")
            args.append(1 if self.learned else 0)
        if self.status:
            where.append(f"{alias}.status = ?")
            args.append(self.status)
        if self.strategy:
            where.append(f"{alias}.strategy = ?")
            args.append(self.strategy)
        if self.document_id is not None:
            where.append(f"{alias}.document_id = ?")
            args.append(self.document_id)
        if self.collection_id is not None:
            condition, params = collection_pair_filter(self.collection_id, alias)
            where.append(condition)
            args.extend(params)
        words = [w for w in "".join(ch if ch.isalnum() else " " for ch in (self.text or "")).split() if w]
        if words:
            where.append(f"{alias}.id IN (SELECT rowid FROM pairs_fts WHERE pairs_fts MATCH ?)")
            args.append(" ".join(f'"{w}"*' for w in words))
        return (" AND ".join(where) or "1"), args


def list_pairs(db: sqlite_utils.Database, filters: PairFilter | None = None, *, limit: int | None = None,
               **fields) -> list[dict]:
    """The pairs that pass FILTERS (or the same given as keywords), in id order."""
    condition, args = (filters or PairFilter(**fields)).where("p")
    sql = f"SELECT {', '.join('p.' + c for c in _COLUMNS)} FROM pairs p WHERE {condition} ORDER BY p.id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = [dict(zip(_COLUMNS, row)) for row in db.execute(sql, args)]
    for row in rows:
        row["meta"] = json.loads(row["meta"] or "{}")
    return rows


def set_status(db: sqlite_utils.Database, pair_ids: list[int] | None, status: str) -> int:
    """Set STATUS on the given pairs (None: on all); returns how many changed."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    with write_transaction(db):
        sql = "UPDATE pairs SET status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE status != ?"
        args: list = [status, status]
        if pair_ids is not None:
            sql += f" AND id IN ({','.join('?' * len(pair_ids)) or 'NULL'})"
            args += list(pair_ids)
        return db.execute(sql, args).rowcount


def set_split(db: sqlite_utils.Database, pair_ids: list[int], split: str) -> int:
    """Mark pairs for evaluation ('eval': never trained, asked by kwdesk eval) or training."""
    if split not in ("train", "eval"):
        raise ValueError("split is train or eval")
    with write_transaction(db):
        return db.execute(
            f"UPDATE pairs SET split = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            f"WHERE split != ? AND id IN ({','.join('?' * len(pair_ids)) or 'NULL'})",
            [split, split, *pair_ids],
        ).rowcount


def counts_by(db: sqlite_utils.Database, column: str) -> dict[str, int]:
    if column not in ("status", "strategy", "kind", "split"):
        raise ValueError(column)
    return dict(db.execute(f"SELECT {column}, count(*) FROM pairs GROUP BY {column} ORDER BY {column}").fetchall())


# --- the review table: filter to row ids once, read row content on demand -----------------

TABLE_COLUMNS = ("id", "status", "question", "answer", "strategy", "kind", "document", "pages", "learned")

def filtered_pair_ids(db: sqlite_utils.Database, filters: PairFilter | None = None, **fields) -> list[int]:
    """The ids of the pairs that pass FILTERS (or the same given as keywords), in id order."""
    condition, args = (filters or PairFilter(**fields)).where("p")
    return [row[0] for row in db.execute(f"SELECT p.id FROM pairs p WHERE {condition} ORDER BY p.id", args)]


def table_rows(db: sqlite_utils.Database, ids: list[int]) -> dict[int, tuple]:
    """Row content for the review table, by id (one query for a screenful of rows)."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"""SELECT p.id, p.status, p.question, p.answer, p.strategy, p.kind, coalesce(d.name, ''),
                   coalesce(c.page_start, 0), coalesce(c.page_end, 0), l.correct
            FROM pairs p LEFT JOIN documents d ON d.id = p.document_id LEFT JOIN chunks c ON c.id = p.chunk_id
            LEFT JOIN ({_LEARNED}) l ON l.fact_pair_id = p.id
            WHERE p.id IN ({marks})""",
        ids,
    )
    out = {}
    for row in rows:
        pages = "" if not row[7] else (f"{row[7]}" if row[7] == row[8] else f"{row[7]}-{row[8]}")
        learned = "" if row[9] is None else ("yes" if row[9] else "no")
        out[row[0]] = (*row[:7], pages, learned)
    return out


def update_pair(db: sqlite_utils.Database, pair_id: int, *, question: str | None = None, answer: str | None = None) -> None:
    """An edit by the expert: saved at once, and the pair becomes 'edited'."""
    sets, args = ["status = 'edited'", "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"], []
    if question is not None:
        sets.append("question = ?")
        args.append(question)
    if answer is not None:
        sets.append("answer = ?")
        args.append(answer)
    with write_transaction(db):
        db.execute(f"UPDATE pairs SET {', '.join(sets)} WHERE id = ?", [*args, pair_id])


class PairEditError(KwdeskError):
    """An edit that cannot be saved; the message says why."""


def edit_pair(db: sqlite_utils.Database, pair_id: int, *, question: str | None = None, answer: str | None = None) -> bool:
    """The expert's edit, as the review table and `kwdesk pairs edit` make it: text trimmed,
    an empty answer refused (it teaches nothing), nothing saved when nothing changed.
    True when the pair was saved (and became 'edited')."""
    row = db.execute("SELECT question, answer FROM pairs WHERE id = ?", [pair_id]).fetchone()
    if row is None:
        raise PairEditError(f"There is no pair {pair_id} in this workspace (kwdesk pairs lists them).")
    question = None if question is None else question.strip()
    answer = None if answer is None else answer.strip()
    if answer is not None and not answer:
        raise PairEditError("An answer cannot be empty: an empty answer teaches nothing.")
    current = {"question": row[0], "answer": row[1]}
    changes = {k: v for k, v in (("question", question), ("answer", answer)) if v is not None and v != current[k]}
    if not changes:
        return False
    update_pair(db, pair_id, **changes)
    return True


def provenance(db: sqlite_utils.Database, pair_id: int) -> dict:
    """Where a pair came from, for showing it beside its source passage."""
    row = db.execute(
        """SELECT p.question, p.answer, p.status, p.strategy, p.kind, p.made_by, p.prompt_version, p.source_span,
                  d.name, c.text, c.page_start, c.page_end, c.heading_path, p.split, p.chunk_id, d.page_unit
           FROM pairs p LEFT JOIN documents d ON d.id = p.document_id LEFT JOIN chunks c ON c.id = p.chunk_id
           WHERE p.id = ?""",
        [pair_id],
    ).fetchone()
    if row is None:
        return {}
    keys = ("question", "answer", "status", "strategy", "kind", "made_by", "prompt_version", "source_span",
            "document", "passage", "page_start", "page_end", "heading_path", "split", "chunk_id", "page_unit")
    return dict(zip(keys, row))


def add_pair(
    db: sqlite_utils.Database,
    question: str,
    answer: str,
    *,
    document_id: int | None = None,
    chunk_id: int | None = None,
) -> int:
    """A pair written by the expert: accepted as it stands, marked as made by hand."""
    question, answer = question.strip(), answer.strip()
    if not answer:
        raise ValueError("A pair needs an answer: an empty answer teaches nothing.")
    if chunk_id is not None and document_id is None:
        row = db.execute("SELECT document_id FROM chunks WHERE id = ?", [chunk_id]).fetchone()
        document_id = row[0] if row else None
    with write_transaction(db):
        return db["pairs"].insert(
            {"question": question, "answer": answer, "kind": "manual" if question else "text", "strategy": "manual",
             "status": "accepted", "document_id": document_id, "chunk_id": chunk_id, "made_by": "user"}
        ).last_pk


# --- undo: what a change overwrote, and putting it back ---------------------------------

_UNDO_COLUMNS = ("id", "question", "answer", "status", "split", "updated_at")


def snapshot(db: sqlite_utils.Database, pair_ids: list[int]) -> list[tuple]:
    """The editable state of the pairs, taken before a change, for undo."""
    if not pair_ids:
        return []
    marks = ",".join("?" * len(pair_ids))
    return list(db.execute(f"SELECT {', '.join(_UNDO_COLUMNS)} FROM pairs WHERE id IN ({marks})", list(pair_ids)))


def restore(db: sqlite_utils.Database, rows: list[tuple]) -> None:
    """Put pairs back as SNAPSHOT found them (one transaction)."""
    with write_transaction(db):
        db.conn.executemany(
            "UPDATE pairs SET question = ?, answer = ?, status = ?, split = ?, updated_at = ? WHERE id = ?",
            [(q, a, s, sp, u, i) for i, q, a, s, sp, u in rows],
        )


def delete_pairs(db: sqlite_utils.Database, pair_ids: list[int]) -> list[dict]:
    """Remove pairs; returns them whole so that the removal can be undone with reinsert_pairs."""
    if not pair_ids:
        return []
    marks = ",".join("?" * len(pair_ids))
    with write_transaction(db):
        rows = [dict(r) for r in db.query(f"SELECT * FROM pairs WHERE id IN ({marks})", list(pair_ids))]
        db.execute(f"DELETE FROM pairs WHERE id IN ({marks})", list(pair_ids))
    return rows


def reinsert_pairs(db: sqlite_utils.Database, rows: list[dict]) -> None:
    """Put deleted pairs back, under their old ids where those are still free.

    SQLite gives the highest id again after a delete, so a pair added since (here or in
    another window) may hold it: that pair stays, and the restored one gets a new id.
    """
    with write_transaction(db):
        taken = {row[0] for row in db.execute(
            f"SELECT id FROM pairs WHERE id IN ({','.join('?' * len(rows))})", [r["id"] for r in rows]
        )} if rows else set()
        free = [r for r in rows if r["id"] not in taken]
        moved = [{k: v for k, v in r.items() if k != "id"} for r in rows if r["id"] in taken]
        if free:
            db["pairs"].insert_all(free, pk="id")
        if moved:
            db["pairs"].insert_all(moved)


def filter_choices(db: sqlite_utils.Database) -> dict[str, list]:
    """What the review table can be filtered by: documents with pairs, and strategies."""
    documents = db.execute(
        """SELECT d.id, d.name, d.version FROM documents d
           WHERE d.id IN (SELECT DISTINCT document_id FROM pairs WHERE document_id IS NOT NULL) ORDER BY d.name, d.version"""
    ).fetchall()
    strategies = [row[0] for row in db.execute("SELECT DISTINCT strategy FROM pairs ORDER BY strategy")]
    return {"documents": documents, "strategies": strategies}


def chunks_not_learned(db: sqlite_utils.Database) -> list[int]:
    """The passages of the pairs the newest evaluation found not learned: where more data helps."""
    return [row[0] for row in db.execute(
        f"""SELECT DISTINCT p.chunk_id FROM pairs p JOIN ({_LEARNED}) l ON l.fact_pair_id = p.id
            WHERE l.correct = 0 AND p.chunk_id IS NOT NULL ORDER BY p.chunk_id"""
    )]


def pairs_not_learned(db: sqlite_utils.Database) -> list[int]:
    return [row[0] for row in db.execute(f"SELECT fact_pair_id FROM ({_LEARNED}) WHERE correct = 0 ORDER BY fact_pair_id")]


def pairs_for_training(db, accepted_only: bool = False, collection_id: int | None = None) -> list[tuple[int, str, str]]:
    """(id, question, answer) of the pairs a run trains: reviewed or new (ACCEPTED_ONLY: reviewed
    only), never the held-out split, of one collection or all."""
    statuses = "('accepted', 'edited')" if accepted_only else "('new', 'accepted', 'edited')"
    where, params = collection_pair_filter(collection_id)
    return db.execute(
        f"SELECT id, question, answer FROM pairs WHERE status IN {statuses} AND split = 'train' AND {where} ORDER BY id",
        params,
    ).fetchall()


def review_counts(db, collection_id: int | None = None) -> tuple[int, int]:
    """(approved, not reviewed yet) of the training pairs of one collection or all: what a
    run trains, said before it starts (rejected and held-out pairs are never trained)."""
    where, params = collection_pair_filter(collection_id)
    row = db.execute(
        f"""SELECT coalesce(sum(status IN ('accepted', 'edited')), 0), coalesce(sum(status = 'new'), 0)
            FROM pairs WHERE split = 'train' AND {where}""", params).fetchone()
    return int(row[0]), int(row[1])


def pair_passages(db: sqlite_utils.Database, pair_ids: list[int]) -> dict[int, str]:
    """The text of the passage each of PAIR_IDS was made from (pairs written by hand without
    one are left out)."""
    if not pair_ids:
        return {}
    out: dict[int, str] = {}
    for start in range(0, len(pair_ids), 500):  # SQLite's limit on bound values
        part = pair_ids[start : start + 500]
        rows = db.execute(f"SELECT p.id, c.text FROM pairs p JOIN chunks c ON c.id = p.chunk_id "
                          f"WHERE p.id IN ({','.join('?' * len(part))})", part).fetchall()
        out.update({pair_id: text for pair_id, text in rows if text})
    return out


def pair_origins(db: sqlite_utils.Database, pair_ids: list[int]) -> list[tuple[str, str, str | None]]:
    """(strategy, status, document name) of each of PAIR_IDS that still exists."""
    if not pair_ids:
        return []
    marks = ",".join("?" * len(pair_ids))
    return db.execute(
        f"""SELECT p.strategy, p.status, d.name FROM pairs p LEFT JOIN documents d ON d.id = p.document_id
            WHERE p.id IN ({marks})""",
        pair_ids,
    ).fetchall()


def questions_to_compare(db: sqlite_utils.Database, collection_id: int | None = None,
                         split: str | None = None) -> list[tuple[int, str, str]]:
    """(id, question, answer) of the questions not rejected, of one collection and split."""
    where, params = collection_pair_filter(collection_id)
    sql = f"SELECT id, question, answer FROM pairs WHERE status != 'rejected' AND question != '' AND {where}"
    if split:
        sql += " AND split = ?"
        params = [*params, split]
    return db.execute(sql + " ORDER BY id", params).fetchall()


def pair_with_source(db: sqlite_utils.Database, pair_id: int) -> tuple:
    """(id, question, answer, status, document, version, page, source text) of one pair."""
    return db.execute(
        """SELECT p.id, p.question, p.answer, p.status, d.name, d.version, c.page_start, coalesce(p.source_span, c.text)
           FROM pairs p LEFT JOIN documents d ON d.id = p.document_id LEFT JOIN chunks c ON c.id = p.chunk_id
           WHERE p.id = ?""",
        [pair_id],
    ).fetchone()


def _marks(items) -> str:
    return ",".join("?" * len(items))


def live_pairs_on(db: sqlite_utils.Database, chunk_ids: list[int]) -> list[int]:
    """The pairs not rejected that were made from CHUNK_IDS."""
    if not chunk_ids:
        return []
    return [r[0] for r in db.execute(
        f"SELECT id FROM pairs WHERE status != 'rejected' AND chunk_id IN ({_marks(chunk_ids)}) ORDER BY id", chunk_ids)]


def chunks_with_live_pairs(db: sqlite_utils.Database, chunk_ids: list[int]) -> set[int]:
    if not chunk_ids:
        return set()
    return {r[0] for r in db.execute(
        f"SELECT DISTINCT chunk_id FROM pairs WHERE status != 'rejected' AND chunk_id IN ({_marks(chunk_ids)})", chunk_ids)}


def move_pairs_to_new_chunks(db: sqlite_utils.Database, pair_ids: list[int], new_of_old: dict[int, int],
                             document_id: int) -> int:
    """Point pairs at the same passage in a new version of their document (NEW_OF_OLD: old
    chunk id -> new); inside the caller's write_transaction. How many moved."""
    for pair_id in pair_ids:
        (chunk_id,) = db.execute("SELECT chunk_id FROM pairs WHERE id = ?", [pair_id]).fetchone()
        db.execute(
            "UPDATE pairs SET chunk_id = ?, document_id = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
            [new_of_old[chunk_id], document_id, pair_id],
        )
    return len(pair_ids)


def retire_pairs(db: sqlite_utils.Database, pair_ids: list[int], reason: str) -> int:
    """Reject pairs whose passage is gone, the reason kept in their meta (as "retired");
    inside the caller's write_transaction. How many."""
    for pair_id in pair_ids:
        (meta,) = db.execute("SELECT meta FROM pairs WHERE id = ?", [pair_id]).fetchone()
        db.execute(
            "UPDATE pairs SET status = 'rejected', meta = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
            [json.dumps({**json.loads(meta or "{}"), "retired": reason}), pair_id],
        )
    return len(pair_ids)


def question_answer_set(db: sqlite_utils.Database) -> set[tuple[str, str]]:
    """Every (question, answer) of the workspace, to leave out duplicates on import."""
    return {(q, a) for q, a in db.execute("SELECT question, answer FROM pairs")}


def insert_linked_pairs(db: sqlite_utils.Database, rows: list[dict], exported_ids: list[int | None],
                        parents: list[int | None]) -> int:
    """Insert ROWS in one transaction and link each to its parent again (a paraphrase to its
    question) by the ids they had where they were exported. How many were inserted."""
    with write_transaction(db):
        new_ids: dict[int, int] = {}
        for row, old_id in zip(rows, exported_ids):
            new_id = db["pairs"].insert(row).last_pk
            if old_id is not None:
                new_ids[old_id] = new_id
        for old_id, parent in zip(exported_ids, parents):
            if parent is not None and old_id in new_ids and parent in new_ids:
                db.execute("UPDATE pairs SET parent_pair_id = ? WHERE id = ?", [new_ids[parent], new_ids[old_id]])
    return len(rows)


def reviewed_questions(db: sqlite_utils.Database, document_ids: list[int]) -> list[int]:
    """Accepted or edited questions (not paraphrases) of these documents or of none: what
    paraphrases are written for."""
    return [r[0] for r in db.execute(
        f"""SELECT id FROM pairs WHERE status IN ('accepted', 'edited') AND question != ''
            AND strategy != 'paraphrase' AND (document_id IN ({_marks(document_ids) or 'NULL'}) OR document_id IS NULL)
            ORDER BY id""",
        document_ids,
    )]


def questions_without_held_out_wording(db: sqlite_utils.Database, document_ids: list[int], held_out: str) -> list[int]:
    """Trained questions of these documents that have no held-out wording yet (HELD_OUT: the
    strategy that writes them)."""
    return [r[0] for r in db.execute(
        f"""SELECT id FROM pairs WHERE status IN ('new', 'accepted', 'edited') AND question != ''
            AND split = 'train' AND strategy NOT IN ('paraphrase', ?)
            AND id NOT IN (SELECT parent_pair_id FROM pairs WHERE split = 'eval' AND parent_pair_id IS NOT NULL)
            AND document_id IN ({_marks(document_ids) or 'NULL'}) ORDER BY id""",
        [held_out, *document_ids],
    )]


def questions_of_document(db: sqlite_utils.Database, document_id: int | None) -> list[tuple[str, str]]:
    return db.execute("SELECT question, answer FROM pairs WHERE document_id IS ? AND question != ''",
                      [document_id]).fetchall()


def rephrasings_of(db: sqlite_utils.Database, chunk_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT answer FROM pairs WHERE chunk_id = ? AND kind = 'rephrase'", [chunk_id])]


def pair_core(db: sqlite_utils.Database, pair_id: int) -> tuple | None:
    """(question, answer, kind, document id, chunk id) of a pair."""
    return db.execute("SELECT question, answer, kind, document_id, chunk_id FROM pairs WHERE id = ?", [pair_id]).fetchone()


RULES = "kwdesk-rules"  # made_by of pairs that kwdesk builds without a teacher (data/generate.py)


def questions_of_chunk(db: sqlite_utils.Database, chunk_id: int) -> list[tuple[int, str, str, str | None, bool]]:
    """(id, question, answer, source sentence, trusted) of the passage's training questions
    that are not rejected: what coverage counts. Trusted: built by kwdesk's rules (made_by
    RULES) or accepted or edited by the expert. Held-out wordings are left out: the model
    never trains on them, so they add no way of asking that it learns."""
    return [(*row[:4], bool(row[4])) for row in db.execute(
        """SELECT id, question, answer, source_span,
                  made_by = ? OR status IN ('accepted', 'edited') FROM pairs
           WHERE chunk_id = ? AND status != 'rejected' AND question != '' AND split = 'train'""",
        [RULES, chunk_id],
    ).fetchall()]
