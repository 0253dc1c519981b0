"""The evals and eval_items tables, and the held-out pairs they ask: the one place that
reads or writes them. Every answer of every evaluation is kept, so that each verdict can
be read and checked."""

from __future__ import annotations

import json

from kwdesk.core.store.workspace import write_transaction

# Per trained pair, whether the newest evaluation found it learned: 1, 0, or no row.
LEARNED_SQL = """SELECT fact_pair_id, max(correct) AS correct FROM eval_items
              WHERE eval_id = (SELECT max(id) FROM evals) AND item_set = 'heldout' AND config = 'personal'
                AND fact_pair_id IS NOT NULL GROUP BY fact_pair_id"""


def held_out_items(db) -> list[dict]:
    """The held-out set: pairs in split 'eval' (never trained), with the trained pair each
    rewords and whether kwdesk wrote the wording ("made": the heldout strategy) or the expert
    chose it (a pair held out by hand, a question added for testing)."""
    rows = db.execute(
        """SELECT id, question, answer, coalesce(parent_pair_id, id), strategy = 'heldout' FROM pairs
           WHERE split = 'eval' AND question != '' AND status != 'rejected' ORDER BY id"""
    ).fetchall()
    return [{"pair_id": r[0], "question": r[1], "reference": r[2], "fact_pair_id": r[3], "made": bool(r[4])}
            for r in rows]


def held_out_sample(items: list[dict], limit: int | None) -> list[dict]:
    """The held-out questions an evaluation asks: every one the expert chose, then the ones
    kwdesk wrote, evenly spread over them (so every document keeps its share), up to LIMIT
    in all (None: every one)."""
    chosen = [i for i in items if not i["made"]]
    made = [i for i in items if i["made"]]
    room = len(made) if limit is None else max(0, limit - len(chosen))
    if room >= len(made):
        return items
    step = len(made) / room if room else 0
    picked = {id(made[int(k * step)]) for k in range(room)}
    return [i for i in items if not i["made"] or id(i) in picked]


def store_eval(db, model_id: int | None, model_name: str, base_name: str, summary: dict, items: list[dict]) -> int:
    """One evaluation with every item, in one transaction; returns its id."""
    with write_transaction(db):
        eval_id = db["evals"].insert(
            {"model_id": model_id, "model_name": model_name, "base_name": base_name, "summary": json.dumps(summary)}
        ).last_pk
        db["eval_items"].insert_all({**item, "eval_id": eval_id} for item in items)
    return eval_id


def facts_learned(db, eval_id: int | None = None) -> dict[int, bool]:
    """Per trained pair: did the personal model answer its held-out wording right (newest
    evaluation, or EVAL_ID)?"""
    if eval_id is None:
        row = db.execute("SELECT max(id) FROM evals").fetchone()
        eval_id = row[0] if row else None
    if eval_id is None:
        return {}
    rows = db.execute(
        """SELECT fact_pair_id, max(correct) FROM eval_items
           WHERE eval_id = ? AND item_set = 'heldout' AND config = 'personal' AND fact_pair_id IS NOT NULL
           GROUP BY fact_pair_id""",
        [eval_id],
    )
    return {pair_id: bool(correct) for pair_id, correct in rows}


def load_eval(db, eval_id: int | None = None) -> dict | None:
    """An evaluation's summary and items (the newest when EVAL_ID is None)."""
    row = db.execute(
        "SELECT id, model_id, model_name, base_name, summary, created_at FROM evals "
        + ("WHERE id = ?" if eval_id is not None else "ORDER BY id DESC LIMIT 1"),
        [eval_id] if eval_id is not None else [],
    ).fetchone()
    if row is None:
        return None
    items = [
        dict(zip(("item_set", "config", "question", "reference", "answer", "correct", "found", "missing"), r))
        for r in db.execute(
            """SELECT item_set, config, question, reference, answer, correct, found, missing FROM eval_items
               WHERE eval_id = ? ORDER BY id""",
            [row[0]],
        )
    ]
    for item in items:
        item["found"], item["missing"] = json.loads(item["found"]), json.loads(item["missing"])
    return {"id": row[0], "model_id": row[1], "model_name": row[2], "base_name": row[3],
            "summary": json.loads(row[4]), "created_at": row[5], "items": items}


def newest_eval_for_model(db, model_id: int) -> int | None:
    row = db.execute("SELECT max(id) FROM evals WHERE model_id = ?", [model_id]).fetchone()
    return row[0] if row else None


def eval_history(db) -> list[dict]:
    """Every evaluation, oldest first, with what was evaluated (model, run, collection, the
    data it was trained on): versions of data and adapters side by side."""
    rows = db.execute(
        """SELECT e.id, e.created_at, e.model_name, e.summary, m.kind, m.run_id, r.config, r.dataset_sha256
           FROM evals e LEFT JOIN models m ON m.id = e.model_id LEFT JOIN runs r ON r.id = m.run_id ORDER BY e.id"""
    ).fetchall()
    collections = dict(db.execute("SELECT id, name FROM collections").fetchall())
    out = []
    for eval_id, created, name, summary, kind, run_id, config, data_hash in rows:
        summary = json.loads(summary or "{}")
        config = json.loads(config or "{}")
        heldout = summary.get("heldout", {})
        out.append({
            "eval_id": eval_id, "created_at": created, "model": name, "kind": kind, "run_id": run_id,
            "collection": collections.get(config.get("collection_id")), "from_run": config.get("init_adapter_run"),
            "dataset_sha256": data_hash,
            "personal": (heldout.get("personal") or {}).get("share"),
            "personal+rag": (heldout.get("personal+rag") or {}).get("share"),
            "base": (heldout.get("base") or {}).get("share"),
            "gap_closed": summary.get("gap_closed"), "kept": (summary.get("kept") or {}).get("share"),
        })
    return out


def newest_eval_of_run(db, run_id: int) -> tuple[int, dict] | None:
    """(id, summary) of the newest evaluation of a model made from training run RUN_ID."""
    row = db.execute(
        """SELECT e.id, e.summary FROM evals e JOIN models m ON m.id = e.model_id
           WHERE m.run_id = ? ORDER BY e.id DESC LIMIT 1""",
        [run_id],
    ).fetchone()
    return (row[0], json.loads(row[1])) if row else None
