"""Reading documents back out of a workspace: lists, pages, chunks, search."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import sqlite_utils

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.store.flagged import store_flagged
from kwdesk.core.store.workspace import write_transaction


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
    hidden_chars: int = 0  # text a reader cannot see, left out
    page_unit: str = "page"  # or "section", for files without pages

    def to_dict(self) -> dict:
        return asdict(self)


_DOC_COLUMNS = (
    "id, name, source_path, status, coalesce(reason, ''), coalesce(title, ''), pages, chunks, version, is_current, "
    "file_type, imported_at, (SELECT name FROM collections WHERE collections.id = documents.collection_id), "
    "hidden_chars, page_unit"
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
        SELECT c.id, c.document_id, d.name, c.page_start, c.page_end, c.heading_path, c.text, d.page_unit
        FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
        WHERE chunks_fts MATCH ? AND d.is_current = 1 AND (? IS NULL OR d.collection_id = ?)
        ORDER BY bm25(chunks_fts) LIMIT ?
        """,
        [match, collection_id, collection_id, limit],
    ).fetchall()
    keys = ("chunk_id", "document_id", "document", "page_start", "page_end", "heading_path", "text", "page_unit")
    return [dict(zip(keys, row)) for row in rows]


def documents_text(db: sqlite_utils.Database, collection_id: int | None = None) -> list[tuple[str, str]]:
    """(name, text) of every current document (of one collection, when given), its passages
    in order: what "the whole document in the prompt" gives a model."""
    rows = db.execute(
        """
        SELECT d.id, d.name, c.text FROM chunks c JOIN documents d ON d.id = c.document_id
        WHERE d.is_current = 1 AND d.status = 'imported' AND (? IS NULL OR d.collection_id = ?)
        ORDER BY d.id, c.seq
        """,
        [collection_id, collection_id],
    ).fetchall()
    out: list[tuple[int, str, list[str]]] = []
    for document_id, name, text in rows:
        if not out or out[-1][0] != document_id:
            out.append((document_id, name, []))
        out[-1][2].append(text)
    return [(name, "\n\n".join(parts)) for _, name, parts in out]


def chunk_text(db: sqlite_utils.Database, chunk_id: int | None) -> str:
    """A passage's text ("" when it is gone: its document was removed or re-imported)."""
    row = db.execute("SELECT text FROM chunks WHERE id = ?", [chunk_id]).fetchone() if chunk_id is not None else None
    return row[0] if row else ""


def hidden_text_samples(db: sqlite_utils.Database, document_id: int) -> list[str]:
    """A few of the strings a document hid from its readers (and kwdesk left out)."""
    row = db.execute("SELECT hidden_samples FROM documents WHERE id = ?", [document_id]).fetchone()
    return json.loads(row[0]) if row and row[0] else []


def cite_pages(start: int, end: int, unit: str = "page") -> str:
    """Where a passage stands, as a reader cites it: "p. 3", "p. 3-4", "sec. 2"."""
    abbreviation = "p." if unit == "page" else "sec."
    return f"{abbreviation} {start}" + (f"-{end}" if end != start else "")


def document_version(db: sqlite_utils.Database, document_id: int) -> tuple | None:
    """(id, name, version, previous version's id) of an imported document."""
    return db.execute(
        "SELECT id, name, version, previous_version_id FROM documents WHERE id = ? AND status = 'imported'",
        [document_id],
    ).fetchone()


def document_chunks(db: sqlite_utils.Database, document_id: int) -> list[tuple]:
    """(id, seq, first page, text, text hash) of a document's passages, in order."""
    return db.execute(
        "SELECT id, seq, page_start, text, text_sha256 FROM chunks WHERE document_id = ? ORDER BY seq", [document_id]
    ).fetchall()


def newer_versions(db: sqlite_utils.Database) -> list[int]:
    """The current documents that replaced an earlier version of themselves."""
    return [r[0] for r in db.execute(
        "SELECT id FROM documents WHERE status = 'imported' AND is_current = 1 AND previous_version_id IS NOT NULL ORDER BY id"
    )]


def document_identity(db: sqlite_utils.Database, document_id: int) -> tuple[str, str] | None:
    """(file name, content hash) of a document."""
    return db.execute("SELECT name, sha256 FROM documents WHERE id = ?", [document_id]).fetchone()


def chunk_identity(db: sqlite_utils.Database, chunk_id: int) -> tuple[str, int, int] | None:
    """(text hash, first page, last page) of a passage."""
    return db.execute("SELECT text_sha256, page_start, page_end FROM chunks WHERE id = ?", [chunk_id]).fetchone()


def current_document_names(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM documents WHERE status = 'imported' AND is_current = 1 ORDER BY name")]


def find_by_content(db: sqlite_utils.Database, document_sha256: str | None,
                    chunk_sha256: str | None) -> tuple[int | None, int | None]:
    """(document id, passage id) of an imported document with that content hash and its
    passage with that text hash, where this workspace has them."""
    if not document_sha256:
        return None, None
    row = db.execute("SELECT id FROM documents WHERE sha256 = ? AND status = 'imported' ORDER BY id LIMIT 1",
                     [document_sha256]).fetchone()
    if row is None:
        return None, None
    chunk = None
    if chunk_sha256:
        found = db.execute("SELECT id FROM chunks WHERE document_id = ? AND text_sha256 = ? LIMIT 1",
                           [row[0], chunk_sha256]).fetchone()
        chunk = found[0] if found else None
    return row[0], chunk


def imported_with_hash(db: sqlite_utils.Database, sha256: str) -> tuple | None:
    """(id, pages, passages, version, hidden characters, page unit) of an imported document
    with this content, if any."""
    return db.execute(
        "SELECT id, pages, chunks, version, hidden_chars, page_unit FROM documents "
        "WHERE sha256 = ? AND status = 'imported' ORDER BY id LIMIT 1",
        [sha256],
    ).fetchone()


def store_rejected_file(db: sqlite_utils.Database, *, source: str, name: str, sha256: str, size_bytes: int,
                        file_type: str, reason: str) -> int:
    """A file that could not be imported, with the reason; one row per file (a retry
    replaces the earlier verdict). Its row id."""
    with write_transaction(db):
        db.execute("DELETE FROM documents WHERE status = 'rejected' AND (source_path = ? OR sha256 = ?)", [source, sha256])
        return db["documents"].insert(dict(
            source_path=source, name=name, sha256=sha256, size_bytes=size_bytes, file_type=file_type,
            status="rejected", reason=reason, is_current=0,
        )).last_pk


def store_imported_document(db: sqlite_utils.Database, *, source: str, name: str, sha256: str, size_bytes: int,
                            file_type: str, title: str, page_texts: list[str], chunks: list[dict],
                            collection_id: int | None, ocr_pages: int, extractor: str, hidden_chars: int = 0,
                            hidden_samples: list[str] | None = None, page_unit: str = "page",
                            flagged: list[tuple[int, str, str]] | None = None) -> tuple[int, int]:
    """A read document with its pages and passages, in one transaction: a new version when
    the same file was imported before (it stays in that version's collection unless
    COLLECTION_ID names one). (document id, version)."""
    with write_transaction(db):
        previous = db.execute(
            "SELECT id, version, collection_id FROM documents WHERE source_path = ? AND status = 'imported' "
            "ORDER BY version DESC LIMIT 1",
            [source],
        ).fetchone()
        if collection_id is None and previous:
            collection_id = previous[2]
        version = previous[1] + 1 if previous else 1
        if previous:
            db.execute("UPDATE documents SET is_current = 0 WHERE source_path = ? AND status = 'imported'", [source])
        db.execute("DELETE FROM documents WHERE status = 'rejected' AND (source_path = ? OR sha256 = ?)", [source, sha256])
        doc_id = db["documents"].insert(dict(
            source_path=source, name=name, sha256=sha256, size_bytes=size_bytes, file_type=file_type, status="imported",
            title=title, pages=len(page_texts), chunks=len(chunks), version=version, is_current=1,
            previous_version_id=previous[0] if previous else None, collection_id=collection_id, ocr_pages=ocr_pages,
            extractor=extractor, hidden_chars=hidden_chars, hidden_samples=json.dumps(hidden_samples or []),
            page_unit=page_unit,
        )).last_pk
        db["pages"].insert_all(
            (dict(document_id=doc_id, number=number, text=text, ocr=0) for number, text in enumerate(page_texts, start=1)),
            batch_size=500,
        )
        db["chunks"].insert_all((dict(document_id=doc_id, **chunk) for chunk in chunks), batch_size=500)
        store_flagged(db, doc_id, flagged or [])
    return doc_id, version


def current_documents(db: sqlite_utils.Database) -> list[tuple[int, str]]:
    """(id, name) of the current versions of the imported documents."""
    return db.execute("SELECT id, name FROM documents WHERE status = 'imported' AND is_current = 1 ORDER BY id").fetchall()


def chunk_pages(db: sqlite_utils.Database, document_id: int) -> list[tuple[int, int, int]]:
    """(id, first page, last page) of a document's passages, in order."""
    return db.execute("SELECT id, page_start, page_end FROM chunks WHERE document_id = ? ORDER BY seq",
                      [document_id]).fetchall()


def chunk_row(db: sqlite_utils.Database, chunk_id: int) -> dict:
    keys = ("id", "document_id", "text", "heading_path", "page_start", "page_end")
    row = db.execute(f"SELECT {', '.join(keys)} FROM chunks WHERE id = ?", [chunk_id]).fetchone()
    return dict(zip(keys, row))


@dataclass
class RemovedDocument:
    name: str
    versions: int  # the document's versions removed (a changed file keeps its older ones)
    pairs: int  # the pairs made from it, removed with it (trained models keep what they learned)

    def in_words(self) -> str:
        versions = f" ({self.versions} versions)" if self.versions > 1 else ""
        return f"Removed {self.name}{versions} and the {self.pairs} pair{'' if self.pairs == 1 else 's'} made from it."


def remove_document(db: sqlite_utils.Database, document_id: int) -> RemovedDocument:
    """Take a document out of the workspace with every version of it and the pairs made from
    them (else they would go on being trained); pages, passages and flagged text go with it
    (ON DELETE CASCADE). The user's own file is never touched, and models already trained
    keep their run's snapshot of the data."""
    row = db.execute("SELECT name, source_path FROM documents WHERE id = ?", [document_id]).fetchone()
    if row is None:
        raise DocumentNotFound(f"There is no document {document_id} (kwdesk docs lists them).")
    name, source = row
    ids = [r[0] for r in db.execute("SELECT id FROM documents WHERE source_path = ? OR id = ?", [source, document_id])]
    marks = ",".join("?" * len(ids))
    with write_transaction(db):
        pairs = db.execute(f"DELETE FROM pairs WHERE document_id IN ({marks})", ids).rowcount
        db.execute(f"DELETE FROM documents WHERE id IN ({marks})", ids)
    return RemovedDocument(name, len(ids), pairs)
