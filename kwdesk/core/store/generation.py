"""The generation_items table: what a teacher has already been asked (one row per strategy,
item, teacher and prompt version), so that a stopped generation goes on where it stopped
and a second run asks only what is new. The one place that reads or writes it."""

from __future__ import annotations

import json

from kwdesk.core.store.workspace import write_transaction


def items_done(db, strategy: str, teacher: str, prompt_version: str) -> set[str]:
    rows = db.execute(
        "SELECT item FROM generation_items WHERE strategy = ? AND teacher = ? AND prompt_version = ?",
        [strategy, teacher, prompt_version],
    )
    return {row[0] for row in rows}


def store_item(db, *, strategy: str, item: str, teacher: str, prompt_version: str, run_id: int, attempts: int,
               pairs: list[dict], rejected: dict[str, int]) -> int:
    """An item's new pairs and its record, in one transaction (a kill between the two can
    neither lose the pairs nor ask for them again). How many pairs were stored."""
    with write_transaction(db):
        if pairs:
            db["pairs"].insert_all(pairs)
        db.execute(
            """INSERT OR REPLACE INTO generation_items
               (strategy, item, teacher, prompt_version, run_id, attempts, usable, rejected)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [strategy, item, teacher, prompt_version, run_id, attempts, len(pairs), json.dumps(rejected)],
        )
    return len(pairs)
