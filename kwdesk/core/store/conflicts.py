"""The conflict_decisions table: pairs the expert said are both right, though they look
like contradicting each other. The one place that reads or writes it."""

from __future__ import annotations

from kwdesk.core.store.workspace import write_transaction


def settled_pairs(db) -> set[tuple[int, int]]:
    """(lower id, higher id) of every pair of pairs the expert settled."""
    return {(a, b) for a, b in db.execute("SELECT pair_a, pair_b FROM conflict_decisions")}


def record_both_right(db, pair_a: int, pair_b: int) -> None:
    a, b = sorted((pair_a, pair_b))
    with write_transaction(db):
        db.execute("INSERT OR REPLACE INTO conflict_decisions (pair_a, pair_b, decision) VALUES (?, ?, 'both')", [a, b])


def review_state(db) -> tuple:
    """What changes when a pair or a decision changes (count, newest edit, decisions): a
    cache of anything computed from the pairs keys on it."""
    return db.execute(
        "SELECT count(*), max(updated_at), (SELECT count(*) FROM conflict_decisions) FROM pairs WHERE status != 'rejected'"
    ).fetchone()
