"""Reading documents back out of a workspace: lists, pages, chunks, search."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlite_utils

from kwdesk.core.base.errors import KwdeskError


@dataclass
class DocumentRow:
    id: int
    name: str
    source_path: str
    status: str
    reason: str
    title: str
    pages: int
    chunks: int
    version: int
    is_current: bool
    file_type: str
    imported_at: str
    collection: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


_DOC_COLUMNS = (
    "id, name, source_path, status, coalesce(reason, ''), coalesce(title, ''), pages, chunks, version, is_current, "
    "file_type, imported_at, (SELECT name FROM collections WHERE collections.id = documents.collection_id)"
)


# list_documents(collection_id=NO_COLLECTION): the documents in no collection.
NO_COLLECTION = 0


def list_documents(db: sqlite_utils.Database, *, include_old_versions: bool = False,
                   collection_id: int | None = None) -> list[DocumentRow]:
    """The documents (current versions and rejected files), by name; COLLECTION_ID keeps one
    collection's (NO_COLLECTION: those in none; None: all)."""
    where, args = [], []
    if not include_old_versions:
        where.append("(is_current = 1 OR status = 'rejected')")
    if collection_id == NO_COLLECTION:
        where.append("collection_id IS NULL")
    elif collection_id is not None:
        where.append("collection_id = ?")
        args.append(collection_id)
    sql = f"SELECT {_DOC_COLUMNS} FROM documents {'WHERE ' + ' AND '.join(where) if where else ''}"
    rows = db.execute(sql + " ORDER BY name COLLATE NOCASE, version", args).fetchall()
    return [DocumentRow(*row[:9], bool(row[9]), *row[10:]) for row in rows]


class DocumentNotFound(KwdeskError):
    pass


def find_document(db: sqlite_utils.Database, spec: str | int) -> DocumentRow:
    """A document by id or by file name (its current version)."""
    text = str(spec).strip()
    for row in list_documents(db):
        if (text.isdigit() and row.id == int(text)) or row.name == text:
            return row
    raise DocumentNotFound(f"There is no document {text!r} in this workspace (kwdesk docs lists them).")


def page_text(db: sqlite_utils.Database, document_id: int, number: int) -> str | None:
    row = db.execute("SELECT text FROM pages WHERE document_id = ? AND number = ?", [document_id, number]).fetchone()
    return row[0] if row else None


def search_chunks(db: sqlite_utils.Database, query: str, limit: int = 5, collection_id: int | None = None) -> list[dict]:
    """Chunks that match QUERY best (BM25), with their document and pages for citing; only
    those of one knowledge collection when COLLECTION_ID is given.

    The query is taken as words, not as FTS5 syntax, so user text cannot break it.
    """
    words = [w for w in "".join(ch if ch.isalnum() else " " for ch in query).split() if w]
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    rows = db.execute(
        """
        SELECT c.id, c.document_id, d.name, c.page_start, c.page_end, c.heading_path, c.text
        FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
        WHERE chunks_fts MATCH ? AND d.is_current = 1 AND (? IS NULL OR d.collection_id = ?)
        ORDER BY bm25(chunks_fts) LIMIT ?
        """,
        [match, collection_id, collection_id, limit],
    ).fetchall()
    keys = ("chunk_id", "document_id", "document", "page_start", "page_end", "heading_path", "text")
    return [dict(zip(keys, row)) for row in rows]
