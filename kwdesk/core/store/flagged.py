"""Sentences addressed to a model, found at import (text/instructions.py), and the expert's
decision on each: kept out of generated data until then."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlite_utils

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.store.workspace import write_transaction

KEEP = "keep"  # ordinary text after all: generation may use it
OUT = "out"  # stays out of generated data


class FlaggedTextError(KwdeskError):
    """A flagged sentence that does not exist, or a decision that is not one."""


@dataclass
class FlaggedText:
    id: int
    document_id: int
    document: str
    chunk_id: int | None
    page: int | None
    text: str
    reason: str
    decision: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def store_flagged(db: sqlite_utils.Database, document_id: int, flagged: list[tuple[int, str, str]]) -> None:
    """FLAGGED: (chunk seq, sentence, reason) of a document just stored (inside its transaction)."""
    if not flagged:
        return
    ids = dict(db.execute("SELECT seq, id FROM chunks WHERE document_id = ?", [document_id]).fetchall())
    db["flagged_text"].insert_all(
        dict(document_id=document_id, chunk_id=ids.get(seq), text=text, reason=reason) for seq, text, reason in flagged
    )


def list_flagged(db: sqlite_utils.Database, *, undecided_only: bool = False) -> list[FlaggedText]:
    """The flagged sentences of the current documents, with their source."""
    sql = """SELECT f.id, f.document_id, d.name, f.chunk_id, c.page_start, f.text, f.reason, f.decision
             FROM flagged_text f JOIN documents d ON d.id = f.document_id LEFT JOIN chunks c ON c.id = f.chunk_id
             WHERE d.is_current = 1"""
    if undecided_only:
        sql += " AND f.decision IS NULL"
    return [FlaggedText(*row) for row in db.execute(sql + " ORDER BY f.id").fetchall()]


def held_out_sentences(db: sqlite_utils.Database, chunk_id: int) -> set[str]:
    """The sentences of a passage that generation must not use: flagged, and not kept."""
    rows = db.execute("SELECT text FROM flagged_text WHERE chunk_id = ? AND (decision IS NULL OR decision != ?)",
                      [chunk_id, KEEP]).fetchall()
    return {row[0] for row in rows}


def decide_flagged(db: sqlite_utils.Database, flagged_id: int, decision: str) -> None:
    if decision not in (KEEP, OUT):
        raise FlaggedTextError(f"a decision is {KEEP!r} or {OUT!r}, not {decision!r}")
    with write_transaction(db):
        updated = db.execute("UPDATE flagged_text SET decision = ? WHERE id = ?", [decision, flagged_id]).rowcount
    if not updated:
        raise FlaggedTextError(f"no flagged sentence {flagged_id} (kwdesk flagged lists them)")
