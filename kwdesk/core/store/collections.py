"""Knowledge collections: several bodies of knowledge in one workspace ("contracts",
"maintenance manuals"), each with its documents, the pairs made from them, and the
adapters trained on those pairs, all on one shared base model.

A document belongs to at most one collection; a pair belongs to its document's collection.
A new version of a document stays in the collection of the version before it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.store.workspace import write_transaction


class CollectionError(KwdeskError):
    """The collection cannot be made or found; the message says why."""


@dataclass
class Collection:
    id: int
    name: str
    description: str
    documents: int = 0  # current versions
    pairs: int = 0  # not rejected
    adapters: int = 0  # verified adapter files of runs trained on it

    def to_dict(self) -> dict:
        return asdict(self)


def create_collection(db, name: str, description: str = "") -> Collection:
    name = " ".join(name.split())
    if not name:
        raise CollectionError("A collection needs a name.")
    if name.isdigit():
        raise CollectionError("A collection's name cannot be only digits (they are read as ids).")
    try:
        with write_transaction(db):
            cid = db["collections"].insert({"name": name, "description": description}).last_pk
    except sqlite3.IntegrityError:
        raise CollectionError(f"There is a collection called {name} already.") from None
    return Collection(cid, name, description)


def find_collection(db, spec: str | int) -> Collection:
    """A collection by id or by name (case does not matter)."""
    row = db.execute(
        "SELECT id, name, description FROM collections WHERE id = ? OR name = ? COLLATE NOCASE",
        [int(spec) if str(spec).isdigit() else -1, str(spec)],
    ).fetchone()
    if row is None:
        raise CollectionError(f"There is no collection {spec} (kwdesk collections lists them).")
    return Collection(*row)


def list_collections(db) -> list[Collection]:
    rows = db.execute(
        """SELECT c.id, c.name, c.description,
                  (SELECT count(*) FROM documents d WHERE d.collection_id = c.id AND d.status = 'imported' AND d.is_current = 1),
                  (SELECT count(*) FROM pairs p JOIN documents d ON d.id = p.document_id
                    WHERE d.collection_id = c.id AND p.status != 'rejected')
           FROM collections c ORDER BY c.name COLLATE NOCASE"""
    ).fetchall()
    adapters = adapter_counts(db)
    return [Collection(*row, adapters=adapters.get(row[0], 0)) for row in rows]


def adapter_counts(db) -> dict[int, int]:
    """Verified adapter files per collection id, from the runs' configuration."""
    import json

    counts: dict[int, int] = {}
    for (config,) in db.execute(
        "SELECT r.config FROM models m JOIN runs r ON r.id = m.run_id WHERE m.kind = 'gguf-lora' AND m.verified = 1"
    ):
        cid = json.loads(config or "{}").get("collection_id")
        if cid is not None:
            counts[cid] = counts.get(cid, 0) + 1
    return counts


def move_documents(db, collection: Collection | None, document_ids: list[int]) -> int:
    """Put documents (every version of each) into COLLECTION, or into none."""
    if not document_ids:
        return 0
    marks = ",".join("?" * len(document_ids))
    with write_transaction(db):
        # All versions move together: a document's history belongs to one collection.
        cur = db.execute(
            f"""UPDATE documents SET collection_id = ? WHERE source_path IN
                (SELECT source_path FROM documents WHERE id IN ({marks}))""",
            [collection.id if collection else None, *document_ids],
        )
    return cur.rowcount


def rename_collection(db, collection: Collection, name: str) -> Collection:
    name = " ".join(name.split())
    if not name or name.isdigit():
        raise CollectionError("A collection needs a name that is not only digits.")
    try:
        with write_transaction(db):
            db.execute("UPDATE collections SET name = ? WHERE id = ?", [name, collection.id])
    except sqlite3.IntegrityError:
        raise CollectionError(f"There is a collection called {name} already.") from None
    return Collection(collection.id, name, collection.description)


def collection_pair_filter(collection_id: int | None, alias: str = "pairs") -> tuple[str, list]:
    """An SQL condition (and its parameters) that keeps the pairs of a collection; every
    pair when COLLECTION_ID is None."""
    if collection_id is None:
        return "1", []
    return f"{alias}.document_id IN (SELECT id FROM documents WHERE collection_id = ?)", [collection_id]
