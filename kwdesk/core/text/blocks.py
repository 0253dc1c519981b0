"""What a reader produces from a file: ordered blocks of text with their pages and roles.

Readers (PDF, plain text, Markdown) all produce an ``ExtractedDocument``; the chunker only
sees blocks, so it treats every format alike.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

HEADING = "heading"
PARAGRAPH = "paragraph"
LIST_ITEM = "list"
TABLE = "table"


@dataclass
class Block:
    kind: str  # HEADING, PARAGRAPH, LIST_ITEM or TABLE
    text: str  # a table's: its rows as sentences, one a line (see table_row_texts)
    page: int  # 1-based page where the block starts
    level: int = 0  # heading level, 1 = top
    page_end: int = 0  # last page, when a paragraph runs across a page break
    # Where each page's part of the text begins, (offset, page), when it spans pages.
    page_starts: tuple[tuple[int, int], ...] = ()
    # A table's cells, the header row first, and its caption ("Table 1: Berths").
    rows: tuple[tuple[str, ...], ...] = ()
    caption: str = ""

    def __post_init__(self) -> None:
        if not self.page_end:
            self.page_end = self.page

    def page_at(self, offset: int) -> int:
        """The page on which the character at OFFSET of the text stands."""
        page = self.page
        for start, number in self.page_starts:
            if start > offset:
                break
            page = number
        return page


@dataclass
class ExtractedDocument:
    page_count: int
    blocks: list[Block]
    extractor: str
    title: str = ""
    ocr_pages: int = 0
    # Pages that could not be read at all (a broken content stream), 1-based.
    unreadable_pages: list[int] = field(default_factory=list)
    # Text a reader of the page cannot see (white on white, near-zero size, outside the
    # page, display:none): dropped, and counted so the user can be told. It is how
    # instructions are hidden in files meant for LLMs.
    hidden_chars: int = 0
    hidden_samples: list[str] = field(default_factory=list)
    # What a "page" is: a printed page, or a section (Word, web pages, e-books have no
    # pages; a section is a stretch under one top-level heading, or a chapter).
    page_unit: str = "page"

    def page_texts(self) -> list[str]:
        """The text of each page for reading, with its structure kept as plain text."""
        pages: list[list[str]] = [[] for _ in range(self.page_count)]
        for block in self.blocks:
            if not 1 <= block.page <= self.page_count:
                continue
            if block.kind == HEADING:
                pages[block.page - 1].append(block.text)
            elif block.kind == LIST_ITEM:
                pages[block.page - 1].append(f"• {block.text}")
            elif block.kind == TABLE:
                pages[block.page - 1].append(table_markdown(block.rows, block.caption))
            else:
                pages[block.page - 1].append(block.text)
        return ["\n\n".join(parts) for parts in pages]

    @property
    def char_count(self) -> int:
        return sum(len(b.text) for b in self.blocks)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u00ad\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
# Dot leaders of tables of contents ("Valves . . . . . 12").
_LEADERS = re.compile(r"(?:\s?[.·…]){4,}\s*")
# Ligatures that some PDF fonts keep as one glyph.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})


def clean_text(text: str) -> str:
    """Normalise what readers return: no control characters, ligatures, odd spaces."""
    if text.isascii() and text.isprintable() and ". ." not in text and "...." not in text:
        # The common case, and a hot path: plain ASCII needs only its spaces folded.
        return " ".join(text.split())
    text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
    text = _LEADERS.sub(" ", _CONTROL.sub("", text))
    return _SPACES.sub(" ", text).strip()


# A capital letter with a full stop ("T. Ferreira") is an initial, not a list's letter:
# capitals count as enumerators only with a bracket ("A)", "(B)").
_BULLET = re.compile(
    r"^\s*(?:[•◦▪▫●○■□‣⁃∙·\-–—*]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[A-Z]\)|\(?(?:[ivx]{1,4}|[IVX]{2,4})[.)])\s+")


def list_marker(line: str) -> re.Match[str] | None:
    """The bullet or enumerator that starts a list item, if the line starts with one."""
    return _BULLET.match(line)


_SYMBOL = re.compile(r"^\s*[•◦▪▫●○■□‣⁃∙·\-–—*]\s+")


def list_item_text(line: str, marker: re.Match[str]) -> str:
    """A list item's text: a bullet symbol dropped, an enumerator kept ("2. Pilotage"), so
    that a step or clause can be named by its number."""
    return line[marker.end():] if _SYMBOL.match(marker.group(0)) else line[marker.start():].strip()


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines of one paragraph, undoing end-of-line hyphenation."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}"
    return out


def table_block(rows: list[list[str]], page: int, caption: str = "") -> Block | None:
    """A TABLE block from its cells (header row first), or None when it is no table (fewer
    than two rows or columns with text)."""
    cleaned = [tuple(clean_text(cell or "") for cell in row) for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    width = max((len(row) for row in cleaned), default=0)
    # Columns empty in every row (ruling artefacts) go.
    keep = [i for i in range(width) if any(i < len(row) and row[i] for row in cleaned)]
    cleaned = [tuple(row[i] if i < len(row) else "" for i in keep) for row in cleaned]
    if len(cleaned) < 2 or len(keep) < 2:
        return None
    caption = clean_text(caption)
    text = "\n".join(table_row_texts(cleaned, caption))
    return Block(TABLE, text, page, rows=tuple(cleaned), caption=caption)


# "Table 3: Fees", "Tab. 2 - Samples", "Table A.1 Berths"
_CAPTION = re.compile(r"^(?:table|tab\.|tbl\.)\s*[\dA-Z][\w.]*\s*[:.\-–—]?\s+\S", re.IGNORECASE)


def is_caption(text: str) -> bool:
    """Whether TEXT reads as a table's caption."""
    return len(text) <= 200 and bool(_CAPTION.match(text))


# Files without pages are cut into sections of at most this many blocks.
SECTION_BLOCKS = 60


def number_sections(blocks: list[Block]) -> int:
    """Number the sections of a document without pages, in place, as its "pages": a new
    one at each heading of the two top levels, or after SECTION_BLOCKS blocks. The count."""
    section, in_section = 1, 0  # in_section: blocks of text (not headings) so far
    for block in blocks:
        if in_section and ((block.kind == HEADING and block.level <= 2) or in_section >= SECTION_BLOCKS):
            section, in_section = section + 1, 0
        block.page = block.page_end = section
        in_section += block.kind != HEADING
    return section if blocks else 0


def attach_captions(blocks: list[Block]) -> list[Block]:
    """A table's caption, where it stands as a paragraph just before or after the table
    (as Word and web pages set it), taken into the table."""
    out: list[Block] = []
    skip = False
    for index, block in enumerate(blocks):
        if skip:
            skip = False
            continue
        if block.kind == TABLE and not block.caption:
            caption = ""
            if out and out[-1].kind == PARAGRAPH and is_caption(out[-1].text):
                caption = out.pop().text
            elif index + 1 < len(blocks) and blocks[index + 1].kind == PARAGRAPH and is_caption(blocks[index + 1].text):
                caption, skip = blocks[index + 1].text, True
            if caption:
                block = table_block([list(row) for row in block.rows], block.page, caption) or block
        out.append(block)
    return out


def table_row_texts(rows: tuple[tuple[str, ...], ...] | list, caption: str = "") -> list[str]:
    """Each body row as one sentence that names every cell by its column header, with the
    table's caption: "Berth: Oil Jetty; Depth (m): 16.8 (Table 1: Berths)". A row read
    alone (a passage, a search hit, a generated pair) still says what its numbers are."""
    header, body = rows[0], rows[1:]
    out = []
    for row in body:
        # "; " and ": " are the row's own separators (table_row_cells reads them back).
        cells = [f"{_cell(name)}: {_cell(value)}" if name else _cell(value) for name, value in zip(header, row) if value]
        if not cells:
            continue
        text = "; ".join(cells)
        out.append(f"{text} ({caption})" if caption else text)
    return out


def _cell(text: str) -> str:
    return text.replace("; ", ", ").replace(": ", " - ")


_ROW_CELL = re.compile(r"^([^:;]{1,80}): (.+)$")
_ROW_CAPTION = re.compile(r"^(.*) \(((?:table|tab\.|tbl\.)[^()]*)\)$", re.IGNORECASE)


def table_row_cells(line: str) -> tuple[list[tuple[str, str]], str] | None:
    """A line that ``table_row_texts`` wrote, read back: its (column, value) cells and the
    caption; None for any other line."""
    caption = ""
    match = _ROW_CAPTION.match(line)
    if match:
        line, caption = match.group(1), match.group(2)
    parts = line.split("; ")
    cells = [_ROW_CELL.match(part) for part in parts]
    if len(parts) < 2 or not all(cells[1:]) or cells[0] is None and ":" in parts[0]:
        return None
    # The first cell has no column name where the header's corner is empty (row labels).
    first = (cells[0].group(1), cells[0].group(2)) if cells[0] else ("", parts[0])
    return [first] + [(m.group(1), m.group(2)) for m in cells[1:]], caption


def table_markdown(rows: tuple[tuple[str, ...], ...], caption: str = "") -> str:
    """A table as GitHub Markdown (the page text's form, which the reader draws as a table)."""
    def line(row) -> str:
        return "| " + " | ".join(cell.replace("|", "/") for cell in row) + " |"

    lines = [caption] if caption else []
    lines += [line(rows[0]), "|" + "---|" * len(rows[0])] + [line(row) for row in rows[1:]]
    return "\n".join(lines)


_TABLE_LINE = re.compile(r"^\|.*\|$")
_RULE_LINE = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")


def page_parts(text: str) -> list[str | list[list[str]]]:
    """A page text cut into plain text and tables (lists of rows, the header first): what
    a reader draws. The inverse of ``page_texts``' table form."""
    parts: list[str | list[list[str]]] = []
    plain: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if _TABLE_LINE.match(lines[i]) and i + 1 < len(lines) and _RULE_LINE.match(lines[i + 1]):
            if plain:
                parts.append("\n".join(plain).strip("\n"))
                plain = []
            rows = [[c.strip() for c in lines[i].strip("|").split("|")]]
            i += 2
            while i < len(lines) and _TABLE_LINE.match(lines[i]):
                rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            parts.append(rows)
            continue
        plain.append(lines[i])
        i += 1
    if plain:
        parts.append("\n".join(plain).strip("\n"))
    return [part for part in parts if part]
