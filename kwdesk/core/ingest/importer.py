"""Imports files into a workspace: PDF, Word, OpenDocument text, web pages, EPUB, plain
text and Markdown; folders are walked.

Each file is one transaction: it is stored whole (document, pages, chunks, full-text
index) or not at all. A file that cannot be used is recorded as rejected with a short
reason, and the batch goes on. The same content imported again is a no-op; a changed
file at the same path becomes a new version, and the old version keeps its pairs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from kwdesk.core.base.files import file_sha256
from kwdesk.core.base.jobs import Cancelled, Job
from kwdesk.core.base.process_pool import (
    BrokenProcessPool,
    Heartbeat,
    Stalled,
    again_if_the_pool_died,
    kill_pool,
    pool_size,
    reset_pool,
    shared_pool,
    wait_for,
)
from kwdesk.core.ingest.chunking import DEFAULT_CHUNK_TOKENS, chunk_blocks
from kwdesk.core.ingest.markup_files import READERS, SUPPORTED_FORMATS_TEXT, zip_format
from kwdesk.core.ingest.pdf_reader import (
    PARALLEL_MIN_PAGES,
    PdfOutline,
    RejectedFile,
    read_long_pdf,
    read_pdf,
    read_pdf_or_outline,
    short_error,
    stalled_reason,
    tesseract_available,
)
from kwdesk.core.ingest.text_reader import read_text_file
from kwdesk.core.store.documents import (
    imported_with_hash,
    store_imported_document,
    store_rejected_file,
)
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.text.blocks import ExtractedDocument
from kwdesk.core.text.instructions import flagged_sentences

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
ZIP_SUFFIXES = {".docx": "docx", ".odt": "odt", ".epub": "epub"}
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | set(ZIP_SUFFIXES)

IMPORTED = "imported"
DUPLICATE = "duplicate"
REJECTED = "rejected"
SKIPPED = "skipped"  # found in a folder, not a kind of file kwdesk reads

# First bytes of files people drop by mistake, to say what a file is instead.
_MAGIC = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive (a Word, Excel or EPUB file?)"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"<!DOCTYPE html", "a web page"),
    (b"<html", "a web page"),
]


@dataclass
class ImportOptions:
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    ocr: bool = True  # OCR pages without a text layer, where Tesseract is installed
    # A file whose reader makes no progress for this long (opening it, or one page) is
    # rejected: a damaged file can send the PDF library into an endless loop. None: wait.
    stall_limit_s: float | None = 60.0
    collection_id: int | None = None  # the knowledge collection new documents go into


@dataclass
class ImportResult:
    path: str
    status: str  # IMPORTED, DUPLICATE, REJECTED or SKIPPED
    reason: str = ""
    pages: int = 0
    chunks: int = 0
    document_id: int | None = None
    version: int | None = None
    hidden_chars: int = 0  # text a reader of the file cannot see, left out
    page_unit: str = "page"  # "section" for files without pages

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def figures(self) -> str:
        """"12 pages, 30 passages; 70 characters of hidden text left out" """
        unit = self.page_unit
        text = f"{self.pages} {unit}{'s' * (self.pages != 1)}, {self.chunks} chunk{'s' * (self.chunks != 1)}"
        if self.hidden_chars:
            text += f"; {self.hidden_chars} characters of hidden text left out"
        return text


def collect_files(paths: Iterable[Path | str]) -> list[tuple[Path, bool]]:
    """The files to import, in a stable order, each with whether the user named it.

    Folders are walked (hidden files and folders are left out); a named file is always
    tried, a file found in a folder only when its suffix is one kwdesk reads.
    """
    out: list[tuple[Path, bool]] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith("."):
                        continue
                    child = Path(root) / name
                    if child.resolve() not in seen:
                        seen.add(child.resolve())
                        out.append((child, False))
        elif path.resolve() not in seen:
            seen.add(path.resolve())
            out.append((path, True))
    return out


def sniff(head: bytes) -> str | None:
    """What the first bytes say a non-PDF file is, for the rejection reason."""
    lowered = head[:64].lower()
    for magic, what in _MAGIC:
        if head.startswith(magic) or lowered.startswith(magic.lower()):
            return what
    return None


def _file_type(path: Path, head: bytes) -> str:
    """pdf, txt, md, html, docx, odt or epub; raises RejectedFile, with the reason and the
    formats kwdesk reads, for anything else."""
    if not head:
        raise RejectedFile("empty file (0 bytes)")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    suffix = path.suffix.lower()
    what = sniff(head)
    if suffix in PDF_SUFFIXES:
        raise RejectedFile(f"not a PDF (it looks like {what})" if what else "damaged PDF: no PDF header")
    if head.startswith(b"PK\x03\x04"):
        found = zip_format(path)
        if found:
            return found
        if suffix in ZIP_SUFFIXES:
            raise RejectedFile(f"damaged {suffix} file: its parts are missing")
    elif suffix in ZIP_SUFFIXES:
        raise RejectedFile(f"not a {suffix} file (it looks like {what})" if what else f"damaged {suffix} file: not a ZIP package")
    if what == "a web page" or suffix in HTML_SUFFIXES and not what:
        return "html"
    if suffix in TEXT_SUFFIXES | MARKDOWN_SUFFIXES and not what:
        return "md" if suffix in MARKDOWN_SUFFIXES else "txt"
    if what:
        raise RejectedFile(f"not a document kwdesk reads (it looks like {what}); {SUPPORTED_FORMATS_TEXT}")
    raise RejectedFile(f"unsupported file type ({suffix or 'no suffix'}); {SUPPORTED_FORMATS_TEXT}")


def _read(path: Path, file_type: str) -> ExtractedDocument:
    """A file that is not a PDF."""
    if file_type in READERS:
        return READERS[file_type](path)
    return read_text_file(path, markdown=file_type == "md")


def extract_file(
    path: Path, file_type: str, options: ImportOptions, on_page=None, tesseract: bool | None = None
) -> ExtractedDocument:
    if file_type == "pdf":
        return read_pdf(path, ocr=options.ocr, on_page=on_page, tesseract=tesseract)
    return _read(path, file_type)


@dataclass
class _Prepared:
    """A file that passed the cheap checks and goes on to be read."""

    path: Path
    source: str
    sha: str
    size: int
    file_type: str
    future: Future | None = None  # its reading in a worker process, when there is a pool
    heartbeat: Heartbeat | None = None  # the worker's progress, read to spot a hang


def _extract_in_worker(
    path: Path, file_type: str, options: ImportOptions, tesseract: bool, beat: str
) -> ExtractedDocument | PdfOutline:
    """A whole file, or a long PDF's outline (its page ranges are then read in parallel)."""
    heartbeat = Heartbeat(beat)
    heartbeat.beat("0 0")
    if file_type == "pdf":
        return read_pdf_or_outline(
            path,
            ocr=options.ocr,
            tesseract=tesseract,
            on_page=lambda page, pages: heartbeat.beat(f"{page} {pages}"),
            long_at=PARALLEL_MIN_PAGES,
        )
    return _read(path, file_type)


class ImportJob(Job):
    """Imports PATHS into WORKSPACE; ``run`` returns one ImportResult per file found.

    Files are read in worker processes, a few ahead of the one being stored, so that a
    folder of PDFs uses every core and a file that crashes the PDF library is rejected
    instead of taking the app down. Results are stored one file at a time, in order.
    """

    def __init__(self, workspace: Workspace, paths: Iterable[Path | str], options: ImportOptions | None = None):
        super().__init__()
        self.workspace = workspace
        self.paths = list(paths)
        self.options = options or ImportOptions()

    def _run(self) -> list[ImportResult]:
        self._tesseract = tesseract_available()
        files = collect_files(self.paths)
        results: list[ImportResult] = []
        pool = shared_pool()
        ahead = 2 * (pool_size(pool) if pool else 0)
        prepared: dict[int, _Prepared | ImportResult] = {}
        # Heartbeat files of the workers; under tmp/, which the next start clears after a kill.
        self._beats = Path(tempfile.mkdtemp(prefix="import-", dir=self.workspace.scratch_dir()))
        db = self.workspace.connect()
        try:
            for index, (path, named) in enumerate(files):
                self.check_cancelled()
                self.report(index, len(files), f"Reading {path.name}", file=str(path))
                for upcoming in range(index, min(len(files), index + ahead + 1)):
                    if upcoming not in prepared:
                        prepared[upcoming] = self._prepare(db, *files[upcoming], pool is not None)
                item = prepared.pop(index)

                def on_page(page: int, pages: int, _name=path.name, _index=index) -> None:
                    self.check_cancelled()
                    if page % 25 == 0 or page == pages:
                        self.report(_index, len(files), f"Reading {_name}: page {page} of {pages}", file=str(path))

                result = item if isinstance(item, ImportResult) else self._read_and_store(db, item, on_page)
                log.info("import %s: %s %s", path, result.status, result.reason)
                results.append(result)
                self.report(index + 1, len(files), f"{path.name}: {result.status}", file=str(path), result=result)
        finally:
            futures = [item.future for item in prepared.values() if isinstance(item, _Prepared) and item.future]
            for future in futures:
                future.cancel()
            if any(future.running() for future in futures):
                kill_pool()  # cancelled while a worker reads: it may never finish (a hang)
            db.close()
            shutil.rmtree(self._beats, ignore_errors=True)
        return results

    def _prepare(self, db, path: Path, named: bool, in_worker: bool) -> _Prepared | ImportResult:
        """Cheap checks (type, hash, duplicate); then reading starts in a worker."""
        source = str(path.resolve())
        if not named and path.suffix.lower() not in SUPPORTED_SUFFIXES:
            return ImportResult(source, SKIPPED, f"not a kind of file kwdesk reads ({path.suffix or 'no suffix'})")
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(2048)
            sha = file_sha256(path)
        except FileNotFoundError:
            return ImportResult(source, REJECTED, "file not found")
        except IsADirectoryError:
            return ImportResult(source, REJECTED, "not a file")
        except OSError as exc:
            return ImportResult(source, REJECTED, f"cannot be read: {exc.strerror or exc}")
        duplicate = self._duplicate(db, source, sha)
        if duplicate:
            return duplicate
        try:
            file_type = _file_type(path, head)
        except RejectedFile as exc:
            return self._store_rejected(db, path, source, sha, size, path.suffix.lower().lstrip(".") or "unknown", str(exc))
        item = _Prepared(path, source, sha, size, file_type)
        if in_worker:
            item.heartbeat = Heartbeat(self._beats / f"{sha[:16]}-{id(item)}")
            item.future = self._submit(item)
        return item

    def _submit(self, item: _Prepared) -> Future:
        args = (_extract_in_worker, item.path, item.file_type, self.options, self._tesseract, str(item.heartbeat.path))
        try:
            return shared_pool().submit(*args)
        except (BrokenProcessPool, RuntimeError):  # killed or shut down a moment ago: a new one
            reset_pool()
            return shared_pool().submit(*args)

    def _duplicate(self, db, source: str, sha: str) -> ImportResult | None:
        existing = imported_with_hash(db, sha)
        if existing:
            doc_id, pages, chunks, version, hidden, unit = existing
            return ImportResult(source, DUPLICATE, "already imported", pages, chunks, doc_id, version, hidden, unit)
        return None

    def _read_and_store(self, db, item: _Prepared, on_page) -> ImportResult:
        try:
            extracted = self._extracted(item, on_page)
        except RejectedFile as exc:
            return self._store_rejected(db, item.path, item.source, item.sha, item.size, item.file_type, str(exc))
        except MemoryError:
            return self._store_rejected(
                db, item.path, item.source, item.sha, item.size, item.file_type, "too large to read in the memory available"
            )
        except Cancelled:
            raise
        except Exception as exc:
            # A reader error nobody foresaw (damaged files find them): this file is rejected
            # with what the library said, and the batch goes on.
            log.warning("reading %s failed", item.path, exc_info=True)
            kind = "damaged PDF" if item.file_type == "pdf" else "unreadable file"
            return self._store_rejected(
                db, item.path, item.source, item.sha, item.size, item.file_type, f"{kind}: {short_error(exc)}"
            )
        chunks = chunk_blocks(extracted.blocks, self.options.chunk_tokens)
        self.check_cancelled()  # before the write: a cancelled import leaves nothing behind
        # The same content may have come earlier in this batch, or from another window.
        return self._duplicate(db, item.source, item.sha) or self._store(
            db, item.path, item.source, item.sha, item.size, item.file_type, extracted, chunks
        )

    def _extracted(self, item: _Prepared, on_page) -> ExtractedDocument:
        if item.future is None:  # no worker processes (KWDESK_WORKERS=0)
            return extract_file(item.path, item.file_type, self.options, on_page, self._tesseract)
        first = self._wait(item, on_page)
        if isinstance(first, PdfOutline):
            return read_long_pdf(
                item.path,
                first,
                ocr=self.options.ocr,
                tesseract=self._tesseract,
                on_page=on_page,
                stall_limit=self.options.stall_limit_s,
                beat_dir=self._beats,
                check=self.check_cancelled,
            )
        return first

    def _wait(self, item: _Prepared, on_page) -> ExtractedDocument | PdfOutline:
        def heard(said: str) -> None:
            page, _, pages = said.partition(" ")
            if page.isdigit() and pages.isdigit() and int(pages):
                on_page(int(page), int(pages))

        def wait(future: Future):
            return wait_for(future, self.options.stall_limit_s, item.heartbeat, self.check_cancelled, heard)

        try:
            return again_if_the_pool_died(lambda: wait(item.future), lambda: wait(self._submit(item)))
        except BrokenProcessPool:
            raise RejectedFile("damaged file: it crashed the PDF reader") from None
        except Stalled as exc:
            raise RejectedFile(stalled_reason(exc)) from None

    def _store_rejected(self, db, path: Path, source: str, sha: str, size: int, file_type: str, reason: str) -> ImportResult:
        doc_id = store_rejected_file(db, source=source, name=path.name, sha256=sha, size_bytes=size,
                                     file_type=file_type[:10], reason=reason)
        return ImportResult(source, REJECTED, reason, document_id=doc_id)

    def _store(self, db, path, source, sha, size, file_type, extracted: ExtractedDocument, chunks) -> ImportResult:
        doc_id, version = store_imported_document(
            db, source=source, name=path.name, sha256=sha, size_bytes=size, file_type=file_type,
            title=extracted.title or path.stem, page_texts=list(extracted.page_texts()),
            chunks=[dict(seq=c.seq, text=c.text, heading_path=c.heading_path, page_start=c.page_start,
                         page_end=c.page_end, tokens=c.tokens, text_sha256=c.text_sha256) for c in chunks],
            collection_id=self.options.collection_id, ocr_pages=extracted.ocr_pages, extractor=extracted.extractor,
            hidden_chars=extracted.hidden_chars, hidden_samples=extracted.hidden_samples, page_unit=extracted.page_unit,
            flagged=[(c.seq, sentence, reason) for c in chunks for sentence, reason in flagged_sentences(c.text)],
        )
        reason = ""
        if extracted.unreadable_pages:
            reason = f"{len(extracted.unreadable_pages)} damaged page(s) skipped"
        if extracted.extractor == "pdfminer":
            reason = "damaged page tree: read what could be read"
        return ImportResult(source, IMPORTED, reason, extracted.page_count, len(chunks), doc_id, version,
                            extracted.hidden_chars, extracted.page_unit)
