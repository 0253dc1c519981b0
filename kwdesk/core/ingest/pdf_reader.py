"""Reads a PDF into blocks with pymupdf, keeping the structure it can see cheaply.

Structure comes from a fast path: the outline (bookmarks), font sizes and bold lines for
headings, bullets and enumerators for list items, and pymupdf's text blocks for
paragraphs. Layout analysis (pymupdf4llm) gives more but reads about 4 pages a second
against about 700 here.

Pages without a text layer are read by OCR where Tesseract is installed. Files that MuPDF
opens but whose page tree it cannot read are handed to pdfminer.six.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.ingest import pdf_tables
from kwdesk.core.text.blocks import (
    HEADING,
    LIST_ITEM,
    PARAGRAPH,
    Block,
    ExtractedDocument,
    clean_text,
    is_caption,
    join_lines,
    list_item_text,
    list_marker,
    table_block,
)
from kwdesk.core.text.sentences import split_sentences

log = logging.getLogger(__name__)

PageCallback = Callable[[int, int], None]


class RejectedFile(KwdeskError):
    """A file that cannot be imported; the message is the short reason shown to the user."""


@dataclass
class _Line:
    text: str
    size: float
    bold: bool
    x0: float = 0.0
    x1: float = 0.0
    y0: float = 0.0
    y1: float = 0.0


@dataclass
class _RawBlock:
    page: int
    lines: list[_Line]
    y0: float
    y1: float
    page_height: float = 0.0  # 0: unknown (then only the first and last block count as edges)
    x0: float = 0.0
    x1: float = 0.0
    table: list[list[str]] | None = None  # a table found on the page, rows of cells
    markers: tuple[str, ...] = ()  # footnote marks (superscript numbers) in its text

    @cached_property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines])

    @cached_property
    def size(self) -> float:
        # The size most of the block's characters are set in.
        weights: Counter[float] = Counter()
        for line in self.lines:
            weights[line.size] += len(line.text)
        return weights.most_common(1)[0][0] if weights else 0.0

    @cached_property
    def bold(self) -> bool:
        return all(line.bold for line in self.lines if line.text.strip())


def _quiet_mupdf():
    """pymupdf, with MuPDF's error and warning messages kept off stdout.

    MuPDF prints a line for every oddity of a damaged file; on the CLI's stdout that breaks
    --json output, and in the app nobody reads it. The reasons that matter reach the user
    as the file's verdict; MuPDF's messages stay available through TOOLS.mupdf_warnings().
    """
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    # find_tables prints a suggestion to install another package, once, on stdout.
    if hasattr(pymupdf, "no_recommend_layout"):
        pymupdf.no_recommend_layout()
    return pymupdf


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


MIN_OCR_LETTERS = 20
# PDFs of this many pages or more are read on all cores, in ranges of at least
# PARALLEL_RANGE_PAGES pages; below it, starting worker processes costs more than it saves.
PARALLEL_MIN_PAGES = 100
PARALLEL_RANGE_PAGES = 50
# pymupdf renders pages at 72 dpi for OCR by default; Tesseract wants about 300.
OCR_DPI = 300
OCR_MISSING_HINT = "install Tesseract OCR (Debian/Ubuntu: apt install tesseract-ocr) to read it"


@dataclass
class PdfOutline:
    """A long PDF opened in a worker: what reading its page ranges elsewhere needs."""

    page_count: int
    toc: list[tuple[int, str, int]]
    title: str


def read_pdf(
    path: Path, *, ocr: bool = True, on_page: PageCallback | None = None, tesseract: bool | None = None
) -> ExtractedDocument:
    """Read PATH in this process (long PDFs on the pool's cores when there is one).

    Raises RejectedFile with a short human reason when it cannot be used. TESSERACT says
    whether Tesseract is installed (None: look now); a job decides it once for all files.
    """
    from kwdesk.core.base.process_pool import shared_pool

    if tesseract is None:
        tesseract = tesseract_available()
    first = read_pdf_or_outline(
        path, ocr=ocr, tesseract=tesseract, on_page=on_page, long_at=PARALLEL_MIN_PAGES if shared_pool() else None
    )
    if isinstance(first, PdfOutline):
        return read_long_pdf(path, first, ocr=ocr, tesseract=tesseract, on_page=on_page)
    return first


def read_pdf_or_outline(
    path: Path,
    *,
    ocr: bool,
    tesseract: bool,
    on_page: PageCallback | None = None,
    long_at: int | None = None,
) -> ExtractedDocument | PdfOutline:
    """The whole document, or only its outline when it has LONG_AT pages or more (the
    caller then reads its page ranges on several cores with ``read_long_pdf``)."""
    pymupdf = _quiet_mupdf()

    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # pymupdf raises FileDataError and plain RuntimeErrors
        raise RejectedFile(f"damaged PDF: cannot be opened ({short_error(exc)})") from exc
    with doc:
        if doc.needs_pass:
            raise RejectedFile("password-protected: remove the password (or print it to a new PDF) and import again")
        if doc.page_count == 0:
            return _read_with_pdfminer(path)
        if long_at is not None and doc.page_count >= long_at:
            return PdfOutline(doc.page_count, _safe_toc(doc), _metadata_title(doc))
        use_ocr = ocr and tesseract
        pages = _read_pages(doc, 0, doc.page_count, use_ocr, on_page)
        return _assemble(
            pages,
            PdfOutline(doc.page_count, _safe_toc(doc), _metadata_title(doc)),
            lambda: _has_images(doc),
            use_ocr=use_ocr,
            tesseract=tesseract,
        )


@dataclass
class _PagesRead:
    """What reading a range of pages gave; small enough to send back from a worker."""

    raw: list[_RawBlock]
    unreadable: list[int]
    ocr_pages: int
    hidden_chars: int = 0
    hidden_samples: list[str] = field(default_factory=list)

    def add_hidden(self, hidden: list[str]) -> None:
        self.hidden_chars += sum(len(text) for text in hidden)
        for text in hidden:
            if len(self.hidden_samples) < MAX_HIDDEN_SAMPLES and text not in self.hidden_samples:
                self.hidden_samples.append(text[:200])


MAX_HIDDEN_SAMPLES = 5


def _read_pages(doc, start: int, stop: int, use_ocr: bool, on_page: PageCallback | None = None) -> _PagesRead:
    import pymupdf

    # Ligatures are expanded (no TEXT_PRESERVE_LIGATURES); images are not loaded. Text
    # outside the page is read (no TEXT_MEDIABOX_CLIP), to be counted as hidden.
    flags = pymupdf.TEXT_PRESERVE_WHITESPACE
    everywhere = pymupdf.INFINITE_RECT()  # the page's own rectangle would clip it away
    out = _PagesRead([], [], 0)
    for index in range(start, stop):
        number = index + 1
        try:
            page = doc[index]
            hidden: list[str] = []
            data = page.get_text("dict", flags=flags, clip=everywhere)
            data["width"], data["height"] = page.rect.width, page.rect.height  # not the clip's
            blocks = _page_blocks(data, number, hidden, _Backgrounds(page))
            if not blocks and use_ocr and page.get_images():
                hidden = []
                textpage = page.get_textpage_ocr(flags=flags, full=True, dpi=OCR_DPI)
                blocks = _page_blocks(page.get_text("dict", textpage=textpage, flags=flags), number)
                # OCR of a photo or a drawing yields a few stray letters: not text.
                if sum(ch.isalpha() for b in blocks for line in b.lines for ch in line.text) < MIN_OCR_LETTERS:
                    blocks = []
                out.ocr_pages += 1 if blocks else 0
            elif pdf_tables.worth_looking(blocks):
                try:
                    blocks = _with_tables(page, blocks)
                except Exception as exc:  # a table finder's failure costs the tables, not the page
                    log.warning("page %d: tables not read: %s", number, exc)
            out.add_hidden(hidden)
        except Exception as exc:
            log.warning("page %d unreadable: %s", number, exc)
            out.unreadable.append(number)
            blocks = []
        out.raw.extend(blocks)
        if on_page is not None:
            on_page(number, doc.page_count)
    return out


def _with_tables(page, blocks: list[_RawBlock]) -> list[_RawBlock]:
    """The page's blocks with each table's cells made one table block, where the table's
    first block stood."""
    tables: list[tuple[pdf_tables.FoundTable, set[int]]] = []
    taken: set[int] = set()
    for table in pdf_tables.ruled_tables(page):
        members = {i for i, block in enumerate(blocks) if pdf_tables.inside(block, table.bbox)}
        if members:
            tables.append((table, members))
            taken |= members
    tables += pdf_tables.text_tables(blocks, taken)
    if not tables:
        return blocks
    first = {min(members): table for table, members in tables}
    taken = set().union(*(members for _, members in tables))
    out: list[_RawBlock] = []
    for index, block in enumerate(blocks):
        table = first.get(index)
        if table is not None:
            x0, y0, x1, y1 = table.bbox
            lines = [_Line(" ".join(cell for cell in row if cell), 0.0, False, x0, x1, y0, y1) for row in table.rows]
            out.append(_RawBlock(block.page, lines, y0, y1, block.page_height, x0, x1, table=table.rows))
        if index not in taken:
            out.append(block)
    return out


class _Backgrounds:
    """What lies under white text on a page: filled shapes that are not white, and images.
    Read only when a page has white text (most have none)."""

    def __init__(self, page):
        self.page = page
        self._rects: list[tuple[float, float, float, float]] | None = None

    def under(self, bbox) -> bool:
        if self._rects is None:
            self._rects = []
            try:
                for path in self.page.get_cdrawings():
                    fill = path.get("fill")
                    if fill is not None and min(fill) < 0.9:
                        self._rects.append(tuple(path["rect"]))
                self._rects += [tuple(info["bbox"]) for info in self.page.get_image_info()]
            except Exception:
                return True  # cannot tell: the text stays
        cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
        return any(r[0] <= cx <= r[2] and r[1] <= cy <= r[3] for r in self._rects)


def _has_images(doc) -> bool:
    try:
        return any(doc[i].get_images() for i in range(min(doc.page_count, 50)))
    except Exception:
        return False


def _read_pages_in_worker(path: str, start: int, stop: int, use_ocr: bool, beat: str | None) -> _PagesRead:
    pymupdf = _quiet_mupdf()

    from kwdesk.core.base.process_pool import Heartbeat

    heartbeat = Heartbeat(beat) if beat else None
    if heartbeat:
        heartbeat.beat(f"{start} 0")
    with pymupdf.open(path, filetype="pdf") as doc:
        return _read_pages(doc, start, stop, use_ocr, (lambda n, total: heartbeat.beat(f"{n} {total}")) if heartbeat else None)


def _has_images_in_worker(path: str) -> bool:
    pymupdf = _quiet_mupdf()

    with pymupdf.open(path, filetype="pdf") as doc:
        return _has_images(doc)


def stalled_reason(stall: Exception) -> str:
    """The user's reason for a file whose reading stopped making progress."""
    page = (getattr(stall, "progress", "") or "").split(" ")[0]
    where = f" on page {int(page) + 1}" if page.isdigit() else ""
    seconds = getattr(stall, "seconds", 0)
    return f"damaged or too complex: the PDF reader stopped responding{where} (no progress for {seconds:.0f} s)"


def read_long_pdf(
    path: Path,
    outline: PdfOutline,
    *,
    ocr: bool,
    tesseract: bool,
    on_page: PageCallback | None = None,
    stall_limit: float | None = None,
    beat_dir: Path | None = None,
    check: Callable[[], None] | None = None,
) -> ExtractedDocument:
    """Read a long PDF in page ranges on the pool's workers (in this process without one).

    A range that crashes its worker, or makes no progress for STALL_LIMIT seconds, rejects
    the file. ON_PAGE (which may raise to cancel) hears after each range.
    """
    from kwdesk.core.base.process_pool import (
        BrokenProcessPool,
        Stalled,
        again_if_the_pool_died,
        shared_pool,
    )

    use_ocr = ocr and tesseract
    if shared_pool() is None:
        pymupdf = _quiet_mupdf()

        with pymupdf.open(path, filetype="pdf") as doc:
            pages = _read_pages(doc, 0, doc.page_count, use_ocr, on_page)
            return _assemble(pages, outline, lambda: _has_images(doc), use_ocr=use_ocr, tesseract=tesseract)
    try:
        pages, has_images = again_if_the_pool_died(
            lambda: _read_ranges(path, outline, use_ocr, on_page, stall_limit, beat_dir, check)
        )
    except BrokenProcessPool as exc:
        raise RejectedFile("damaged PDF: it crashed the PDF reader") from exc
    except Stalled as exc:
        raise RejectedFile(stalled_reason(exc)) from exc
    return _assemble(pages, outline, lambda: bool(has_images), use_ocr=use_ocr, tesseract=tesseract)


def _read_ranges(path, outline: PdfOutline, use_ocr, on_page, stall_limit, beat_dir, check) -> tuple[_PagesRead, bool | None]:
    import tempfile

    from kwdesk.core.base.process_pool import (
        Heartbeat,
        pool_size,
        shared_pool,
        wait_for,
    )

    pool = shared_pool()
    count = outline.page_count
    step = max(PARALLEL_RANGE_PAGES, -(-count // (4 * pool_size(pool))))
    ranges = [(start, min(start + step, count)) for start in range(0, count, step)]
    parts: list[_PagesRead] = []
    has_images = None
    with tempfile.TemporaryDirectory(prefix="read-", dir=beat_dir) as beats:
        hearts = [Heartbeat(Path(beats) / f"{a}") for a, _ in ranges]
        futures = [
            pool.submit(_read_pages_in_worker, str(path), a, b, use_ocr, str(heart.path))
            for (a, b), heart in zip(ranges, hearts)
        ]
        try:
            for (a, b), future, heart in zip(ranges, futures, hearts):
                parts.append(wait_for(future, stall_limit, heart, check))
                if on_page is not None:
                    on_page(b, count)  # may raise Cancelled
            if not any(part.raw for part in parts):
                has_images = wait_for(pool.submit(_has_images_in_worker, str(path)), stall_limit, None, check)
        finally:
            for future in futures:
                future.cancel()
    pages = _PagesRead(
        [block for part in parts for block in part.raw],
        [number for part in parts for number in part.unreadable],
        sum(part.ocr_pages for part in parts),
    )
    for part in parts:
        pages.hidden_chars += part.hidden_chars
        pages.hidden_samples += part.hidden_samples[: MAX_HIDDEN_SAMPLES - len(pages.hidden_samples)]
    return pages, has_images


def _assemble(
    pages: _PagesRead, outline: PdfOutline, has_images: Callable[[], bool], *, use_ocr: bool, tesseract: bool
) -> ExtractedDocument:
    """The document from its pages' raw blocks, or the reason it has no usable text."""
    raw, unreadable, ocr_pages = pages.raw, pages.unreadable, pages.ocr_pages
    if not raw:
        if len(unreadable) == outline.page_count:
            raise RejectedFile("damaged PDF: no page could be read")
        if has_images():
            if not use_ocr:
                hint = OCR_MISSING_HINT if not tesseract else "import it again with OCR on"
                raise RejectedFile(f"no text layer (a scanned document?): {hint}")
            raise RejectedFile("no text layer, and OCR found no readable text in its images (photos or drawings?)")
        raise RejectedFile("empty: no text on any page")
    furniture = _running_headers(raw, outline.page_count)  # found once, used twice below
    blocks = _structure(raw, outline.toc, furniture)
    # Without a title in its metadata, a document's running head names it better than its
    # first heading does ("BRISK HARBOUR PORT AUTHORITY | MARINE OPERATIONS MANUAL | REV. 4"
    # rather than "1. Scope").
    title = outline.title or running_head(raw, furniture) or next(
        (b.text for b in blocks if b.kind == HEADING), "")
    return ExtractedDocument(
        page_count=outline.page_count,
        blocks=blocks,
        extractor="pymupdf" + ("+ocr" if ocr_pages else ""),
        title=title[:200],
        ocr_pages=ocr_pages,
        unreadable_pages=unreadable,
        hidden_chars=pages.hidden_chars,
        hidden_samples=pages.hidden_samples,
    )


# Text smaller than this many points cannot be read on a page.
MIN_VISIBLE_SIZE = 1.0


def _is_white(color: int) -> bool:
    return (color >> 16) & 0xFF >= 0xF0 and (color >> 8) & 0xFF >= 0xF0 and color & 0xFF >= 0xF0


def _page_blocks(data: dict, number: int, hidden: list[str] | None = None,
                 backgrounds: _Backgrounds | None = None) -> list[_RawBlock]:
    """A page's text blocks. Text a reader cannot see is left out and its strings added
    to HIDDEN; a footnote mark (a superscript number) is left out of the text and kept in
    the block's markers."""
    out: list[_RawBlock] = []
    width = float(data.get("width") or 0.0)
    height = float(data.get("height") or 0.0)
    for block in data.get("blocks", ()):
        if block.get("type", 0) != 0:
            continue
        lines: list[_Line] = []
        markers: list[str] = []
        for line in block.get("lines", ()):
            # A hot loop (about 50 lines a page): plain loops, no generators.
            parts = []
            size = 0.0
            bold = True
            inked = False
            for span in line.get("spans", ()):
                span_text = span.get("text", "")
                if not span_text.strip():
                    parts.append(span_text)
                    continue
                span_size = span.get("size", 0.0)
                box = span.get("bbox", (0, 0, 0, 0))
                if hidden is not None and (
                    span_size < MIN_VISIBLE_SIZE
                    or (width and (box[0] >= width or box[2] <= 0 or box[1] >= height or box[3] <= 0))
                    or (_is_white(span.get("color", 0)) and backgrounds is not None and not backgrounds.under(box))
                ):
                    hidden.append(span_text.strip())
                    continue
                if span.get("flags", 0) & 1 and size and span_size < size * 0.8 and _MARK.match(span_text):
                    markers.append(span_text.strip())  # a footnote mark after a word
                    continue
                parts.append(span_text)
                inked = True
                if span_size > size:
                    size = span_size
                # Bit 4 of a span's flags is bold; fonts named "...Bold" often lack the flag.
                if bold and not (span.get("flags", 0) & 16 or "bold" in span.get("font", "").lower()):
                    bold = False
            text = clean_text("".join(parts))
            if text:
                x0, y0, x1, y1 = line.get("bbox", (0, 0, 0, 0))
                lines.append(_Line(text, round(size, 1), bold and inked, x0, x1, y0, y1))
        if lines:
            bbox = block.get("bbox", (0, 0, 0, 0))
            out.append(_RawBlock(number, lines, bbox[1], bbox[3], height, bbox[0], bbox[2], markers=tuple(markers)))
    return out


_MARK = re.compile(r"^\s*(?:\d{1,2}|[*†‡§])\s*$")
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


def _structure(raw: list[_RawBlock], toc: list[tuple[int, str, int]], furniture: dict[int, set[str]]) -> list[Block]:
    """Turn raw blocks into headings, paragraphs and list items; drop page furniture."""
    body_size = _body_size(raw)
    toc_titles = _toc_by_page(toc)

    heading_sizes = sorted(
        {b.size for b in raw if _looks_like_heading(b, body_size) and b.size > body_size * 1.12}, reverse=True
    )
    size_level = {size: min(level, 4) for level, size in enumerate(heading_sizes, start=1)}
    bold_level = min(len(heading_sizes) + 1, 5)

    notes = _footnotes(raw, body_size)
    blocks: list[Block] = []
    skip_caption: int | None = None
    for index, rb in enumerate(raw):
        if index == skip_caption or id(rb) in notes:
            continue
        text = rb.text
        if rb.table is not None:
            caption = ""
            if blocks and blocks[-1].page == rb.page and is_caption(blocks[-1].text):
                caption = blocks.pop().text
            elif index + 1 < len(raw) and raw[index + 1].page == rb.page and is_caption(raw[index + 1].text):
                caption, skip_caption = raw[index + 1].text, index + 1
            table = table_block(rb.table, rb.page, caption)
            blocks.append(table if table is not None else Block(PARAGRAPH, text, rb.page))
        elif _PAGE_NUMBER.match(text) or _furniture_key(text) in furniture.get(rb.page, ()):
            continue
        else:
            level = _toc_level(text, toc_titles.get(rb.page, ()))
            if level is None and _looks_like_heading(rb, body_size):
                if rb.size > body_size * 1.12:
                    level = size_level.get(rb.size, 4)
                elif rb.bold:
                    level = bold_level
            if level is not None:
                blocks.append(Block(HEADING, text, rb.page, level=_numbered_level(text, level)))
            else:
                blocks.extend(_split_list_items(rb))
        # A footnote follows the text that marks it, not the foot of the page.
        for marker in rb.markers:
            note = notes.pop((rb.page, marker), None)
            if note is not None:
                blocks.append(Block(PARAGRAPH, f"Note {marker}: {note}", rb.page))
    return blocks


_NOTE = re.compile(r"^(\d{1,2}|[*†‡§])\s+(\S.*)$")


def _footnotes(raw: list[_RawBlock], body_size: float) -> dict:
    """The footnotes of each page whose mark is found in the page's text: blocks in a
    smaller type than the body that start with the mark. Keyed by (page, mark) to their
    text, and by id() of their block (to leave it out where it stands)."""
    marks: dict[int, set[str]] = {}
    for rb in raw:
        if rb.markers:
            marks.setdefault(rb.page, set()).update(rb.markers)
    notes: dict = {}
    if not marks:
        return notes
    for rb in raw:
        if rb.page not in marks or rb.table is not None or rb.size >= body_size * 0.95:
            continue
        match = _NOTE.match(rb.text)
        if match and match.group(1) in marks[rb.page]:
            notes[(rb.page, match.group(1))] = match.group(2)
            notes[id(rb)] = True
    return notes


_SECTION_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s")


def _numbered_level(text: str, level: int) -> int:
    """A numbered heading one level deeper per part of its number ("2.1 Water" under "2.
    Findings"), where type sizes alone set them at one level."""
    match = _SECTION_NUMBER.match(text)
    return min(6, level + match.group(1).count(".")) if match else level


def _looks_like_heading(block: _RawBlock, body_size: float) -> bool:
    text = block.text
    if len(block.lines) > 3 or len(text) > 150 or not any(ch.isalpha() for ch in text):
        return False
    if text.endswith((".", ",", ";", ":")) and not re.match(r"^\d+(\.\d+)*\.?\s", text):
        return False
    if len(split_sentences(text)) > 1:
        return False  # two sentences are prose, however large their type
    return block.size > body_size * 1.12 or (block.bold and block.size >= body_size * 0.95 and len(text) <= 100)


def _split_list_items(rb: _RawBlock) -> list[Block]:
    """A block whose lines start with bullets becomes one list item per bullet."""
    lines = _marks_joined(rb.lines)
    if not any(list_marker(line.text) for line in lines):
        return [Block(PARAGRAPH, rb.text, rb.page)]
    out: list[Block] = []
    current: list[str] = []
    current_kind = PARAGRAPH

    def flush() -> None:
        text = join_lines(current)
        if text:
            out.append(Block(current_kind, text, rb.page))

    for line in lines:
        marker = list_marker(line.text)
        if marker:
            flush()
            current = [list_item_text(line.text, marker)]
            current_kind = LIST_ITEM
        else:
            current.append(line.text)
    flush()
    return out


def _marks_joined(lines: list[_Line]) -> list[_Line]:
    """Lines with a bullet or number set apart from its item's text (two lines on one
    baseline, as word processors often write them) joined to that text."""
    if not any(list_marker(f"{line.text} x") and len(line.text) <= 5 for line in lines):
        return lines
    out: list[_Line] = []
    for line in lines:
        prev = out[-1] if out else None
        if prev is not None and len(prev.text) <= 5 and list_marker(f"{prev.text} x") and abs(prev.y1 - line.y1) <= 2.0:
            out[-1] = _Line(f"{prev.text} {line.text}", line.size, line.bold, prev.x0, line.x1, line.y0, line.y1)
        else:
            out.append(line)
    return out


def _body_size(raw: list[_RawBlock]) -> float:
    weights: Counter[float] = Counter()
    for block in raw:
        for line in block.lines:
            weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _furniture_key(text: str) -> str:
    return _DIGITS.sub("#", text.lower())[:80]


# Running headers and footers live in the top and bottom bands of a page.
EDGE_BAND = 0.12
RUNNING_HEAD_MIN_PAGES = 3


def _edge_blocks(blocks: list[_RawBlock]) -> list[_RawBlock]:
    """The blocks in a page's top or bottom band (where its height is known), and always its
    first and last block."""
    ordered = sorted(blocks, key=lambda b: b.y0)
    edges = {id(ordered[0]): ordered[0], id(ordered[-1]): ordered[-1]}
    for block in ordered:
        height = block.page_height
        if height and (block.y1 <= height * EDGE_BAND or block.y0 >= height * (1 - EDGE_BAND)):
            edges[id(block)] = block
    return list(edges.values())


def _running_headers(raw: list[_RawBlock], page_count: int) -> dict[int, set[str]]:
    """Text repeated at the top or bottom of the pages (running heads, footers, stamps),
    with page numbers allowed to vary: on at least half the pages, and on two at least. A
    one-page document keeps all its text."""
    if page_count < 2:
        return {}
    by_page: dict[int, list[_RawBlock]] = {}
    for block in raw:
        by_page.setdefault(block.page, []).append(block)
    edge_keys: dict[int, set[str]] = {}
    counts: Counter[str] = Counter()
    in_band: Counter[str] = Counter()  # of those, in the top or bottom band proper
    for page, blocks in by_page.items():
        if len(blocks) < 2:
            continue  # the only text on a page is content, never furniture
        keys = set()
        for block in _edge_blocks(blocks):
            if len(block.text) <= 120 and block.table is None:
                key = _furniture_key(block.text)
                keys.add(key)
                if block.page_height and (block.y1 <= block.page_height * EDGE_BAND
                                          or block.y0 >= block.page_height * (1 - EDGE_BAND)):
                    in_band[key] += 1
        edge_keys[page] = keys
        counts.update(keys)
    # Short documents: on every page with text but one at most (a title page may lack it).
    needed = max(2, page_count // 2) if page_count >= 4 else max(2, len(edge_keys) - 1)
    repeated = {key for key, n in counts.items() if n >= needed}
    # A book's running head names its chapter or section ("4 2.3. SIMPLICIAL COMPLEXES"):
    # it changes every few pages, so it is on three pages or more, in the band itself.
    if page_count >= 6:
        repeated |= {key for key, n in in_band.items() if n >= RUNNING_HEAD_MIN_PAGES}
    return {page: keys & repeated for page, keys in edge_keys.items() if keys & repeated}


def running_head(raw: list[_RawBlock], furniture: dict[int, set[str]]) -> str:
    """The text of the document's running header (the top band's repeated text with the
    most letters), as printed on its first page; "" when it has none."""
    best = ""
    for block in raw:
        keys = furniture.get(block.page)
        if not keys or not block.page_height or block.y1 > block.page_height * EDGE_BAND:
            continue
        text = block.text
        if _furniture_key(text) in keys and sum(ch.isalpha() for ch in text) > sum(ch.isalpha() for ch in best):
            best = text
    return best if sum(ch.isalpha() for ch in best) >= 8 else ""


def _norm_title(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def _toc_by_page(toc: list[tuple[int, str, int]]) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = {}
    for level, title, page in toc:
        norm = _norm_title(title)
        if norm and page >= 1:
            out.setdefault(page, []).append((level, norm))
    return out


def _toc_level(text: str, entries) -> int | None:
    if not entries or len(text) > 200:
        return None
    norm = _norm_title(text)
    # Headings are often numbered in the text ("2.1 Valves") but not in the outline.
    bare = re.sub(r"^(?:\d+(?: \d+)*|[ivx]+|[a-z]) ", "", norm)
    for level, title in entries:
        if norm == title or bare == title:
            return min(level, 5)
    return None


def _safe_toc(doc) -> list[tuple[int, str, int]]:
    try:
        return [(int(e[0]), str(e[1]), int(e[2])) for e in doc.get_toc(simple=True)]
    except Exception:  # a broken outline is no reason to reject the text
        return []


def _metadata_title(doc) -> str:
    try:
        title = clean_text((doc.metadata or {}).get("title") or "")
    except Exception:
        return ""
    # Producers fill the title with file names and "Untitled"; those say nothing.
    if not title or title.lower() in {"untitled", "title"} or title.lower().endswith((".doc", ".docx", ".pdf", ".tex")):
        return ""
    return title


def _read_with_pdfminer(path: Path) -> ExtractedDocument:
    """Fallback for PDFs whose page tree MuPDF cannot read: plain paragraphs per page."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    blocks: list[Block] = []
    count = 0
    try:
        for count, layout in enumerate(extract_pages(str(path)), start=1):
            for element in layout:
                if isinstance(element, LTTextContainer):
                    texts = (clean_text(line) for line in element.get_text().splitlines())
                    lines = [_Line(text, 0.0, False) for text in texts if text]
                    if lines:
                        blocks.extend(_split_list_items(_RawBlock(count, lines, 0.0, 0.0)))
    except Exception as exc:
        raise RejectedFile(f"damaged PDF: no page could be read ({short_error(exc)})") from exc
    if count == 0:
        raise RejectedFile("damaged PDF: no page could be read")
    if not blocks:
        raise RejectedFile("empty: no text on any page")
    return ExtractedDocument(page_count=count, blocks=blocks, extractor="pdfminer")


def short_error(exc: BaseException) -> str:
    """The first line of an error, short enough for a table cell."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]
