"""Reading and changing Q&A pairs and training texts."""

from __future__ import annotations

import json

import sqlite_utils

from kwdesk.core.workspace import write_transaction

STATUSES = ("new", "accepted", "edited", "rejected")
_COLUMNS = (
    "id", "question", "answer", "kind", "strategy", "status", "split", "document_id", "chunk_id",
    "source_span", "parent_pair_id", "made_by", "prompt_version", "meta", "created_at", "updated_at",
)


def list_pairs(
    db: sqlite_utils.Database, *, status: str | None = None, strategy: str | None = None, limit: int | None = None
) -> list[dict]:
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if strategy:
        where.append("strategy = ?")
        args.append(strategy)
    sql = f"SELECT {', '.join(_COLUMNS)} FROM pairs" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
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


def counts_by(db: sqlite_utils.Database, column: str) -> dict[str, int]:
    if column not in ("status", "strategy", "kind", "split"):
        raise ValueError(column)
    return dict(db.execute(f"SELECT {column}, count(*) FROM pairs GROUP BY {column} ORDER BY {column}").fetchall())
