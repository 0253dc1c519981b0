"""Reads HTML into blocks: headings, paragraphs, numbered and bulleted list items, tables.

One reader for every format that is HTML underneath: web pages, EPUB chapters (XHTML),
and Word files (which mammoth turns into clean HTML, see office_reader). Python's own
``html.parser`` is used: it reads broken markup without complaint, as browsers do, and
needs no dependency.

Text a reader of the page never sees (``hidden``, ``display:none``, ``visibility:hidden``,
a zero font size, scripts) is left out and counted. Footnotes (an anchor to an element
whose id says footnote or endnote) are moved after the paragraph that refers to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from kwdesk.core.text.blocks import (
    HEADING,
    LIST_ITEM,
    PARAGRAPH,
    Block,
    clean_text,
    table_block,
)

_SKIPPED = {"script", "style", "noscript", "template", "svg", "math", "nav", "head", "button", "select", "iframe"}
_BLOCKS = {
    "p", "div", "section", "article", "main", "aside", "header", "footer", "blockquote", "pre", "ul", "ol", "li",
    "dl", "dt", "dd", "table", "tr", "td", "th", "caption", "figure", "figcaption", "hr", "address", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "body", "html", "tbody", "thead", "tfoot", "details", "summary",
}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0*)?(?:px|pt|em|%)?\s*(?:;|$)",
                           re.IGNORECASE)
_NOTE_ID = re.compile(r"(?:foot|end)note", re.IGNORECASE)


@dataclass
class HtmlText:
    """What the reader found in one HTML document."""

    blocks: list[Block]
    title: str = ""
    hidden_chars: int = 0
    hidden_samples: list[str] = field(default_factory=list)


@dataclass
class _Table:
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    cell: list[str] | None = None  # the text of the cell being read


class _Reader(HTMLParser):
    def __init__(self, page: int):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.blocks: list[Block] = []
        self.title = ""
        self.hidden: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, hides its content)
        self._skip_depth = 0
        self._hidden_depth = 0
        self._text: list[str] = []
        self._heading = 0
        self._in_title = False
        self._lists: list[list] = []  # per open list: [ordered, next number]
        self._item: str | None = None  # the list item's number ("3.") or "" for a bullet
        self._tables: list[_Table] = []
        self._caption = False
        self._note_id: str | None = None  # the id of the footnote being read
        self._note_depth = 0
        self.notes: dict[str, str] = {}
        self.refs: dict[int, list[str]] = {}  # block index -> footnote ids it refers to
        self._pending_refs: list[str] = []
        self._ref_depth = 0

    # --- tags ------------------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _VOID:
            if tag == "br":
                self._text.append(" ")
            return
        hides = tag in _SKIPPED or "hidden" in attrs or bool(_HIDDEN_STYLE.search(attrs.get("style") or ""))
        if tag == "title" and not self._skip_depth:
            self._in_title = True
        if hides:
            if tag not in _SKIPPED:
                self._hidden_depth += 1
            self._skip_depth += 1
        self._stack.append((tag, hides))
        if self._skip_depth:
            return
        if tag == "a" and (attrs.get("href") or "").startswith("#") and _NOTE_ID.search(attrs["href"]):
            if self._note_id is None:
                self._pending_refs.append(attrs["href"][1:])
                self._ref_depth += 1  # the mark ("[1]") is not text
            else:
                self._ref_depth += 1  # the note's link back ("↑")
            return
        if tag in _BLOCKS:
            self._flush()
        if tag == "li" and attrs.get("id") and _NOTE_ID.search(attrs["id"]):
            self._note_id, self._note_depth = attrs["id"], len(self._stack)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._heading = int(tag[1])
        elif tag in ("ol", "ul"):
            start = attrs.get("start") or "1"
            self._lists.append([tag == "ol", int(start) if start.isdigit() else 1])
        elif tag == "li":
            if self._lists and self._lists[-1][0]:
                value = attrs.get("value")
                if value and value.isdigit():
                    self._lists[-1][1] = int(value)
                self._item = f"{self._lists[-1][1]}."
                self._lists[-1][1] += 1
            else:
                self._item = ""
        elif tag == "table":
            self._tables.append(_Table())
        elif tag in ("td", "th") and self._tables:
            self._tables[-1].cell = []
        elif tag == "tr" and self._tables:
            self._tables[-1].rows.append([])
        elif tag == "caption" and self._tables:
            self._caption = True

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        # Close up to the matching open tag; HTML leaves many end tags out.
        if not any(open_tag == tag for open_tag, _ in self._stack):
            return
        while self._stack:
            open_tag, hides = self._stack.pop()
            self._close(open_tag, hides)
            if open_tag == tag:
                break

    def _close(self, tag: str, hides: bool) -> None:
        if hides:
            self._skip_depth -= 1
            if tag not in _SKIPPED:
                self._hidden_depth -= 1
            return
        if tag == "title":
            self._in_title = False
        if self._skip_depth:
            return
        if tag == "a" and self._ref_depth:
            self._ref_depth -= 1
            return
        table = self._tables[-1] if self._tables else None
        if tag in ("td", "th") and table is not None and table.cell is not None:
            if not table.rows:
                table.rows.append([])
            table.rows[-1].append(clean_text(" ".join(table.cell)))
            table.cell = None
            return
        if tag == "caption" and table is not None:
            self._caption = False
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._heading = 0
        elif tag in ("ol", "ul") and self._lists:
            self._lists.pop()
        elif tag == "li":
            self._item = None
            if self._note_id is not None and len(self._stack) < self._note_depth:
                self._note_id = None
        elif tag == "table" and table is not None:
            self._tables.pop()
            block = table_block(table.rows, self.page, table.caption)
            if block is not None:
                self._emit(block)

    def handle_data(self, data):
        if self._in_title and not self._skip_depth:
            self.title += data
            return
        if self._hidden_depth and data.strip():
            self.hidden.append(clean_text(data))
            return
        if self._skip_depth or self._ref_depth:
            return
        table = self._tables[-1] if self._tables else None
        if table is not None:
            if self._caption:
                table.caption += data
                return
            if table.cell is not None:
                table.cell.append(data)
                return
        self._text.append(data)

    # --- blocks ----------------------------------------------------------------------
    def _flush(self) -> None:
        text = clean_text("".join(self._text))
        self._text = []
        if not text:
            return
        if self._tables and self._tables[-1].cell is not None:
            self._tables[-1].cell.append(text)
            return
        if self._note_id is not None:
            self.notes[self._note_id] = clean_text(f"{self.notes.get(self._note_id, '')} {text}")
            return
        if self._heading:
            block = Block(HEADING, text, self.page, level=self._heading)
        elif self._item is not None:
            block = Block(LIST_ITEM, f"{self._item} {text}" if self._item else text, self.page)
        else:
            block = Block(PARAGRAPH, text, self.page)
        self._emit(block)

    def _emit(self, block: Block) -> None:
        self.blocks.append(block)
        if self._pending_refs:
            self.refs[len(self.blocks) - 1] = self._pending_refs
            self._pending_refs = []

    def close(self):
        super().close()
        while self._stack:
            self._close(*self._stack.pop())
        self._flush()


def read_html_text(html: str, page: int = 1) -> HtmlText:
    """The blocks of one HTML document, all on page PAGE (a chapter of an EPUB is a page)."""
    reader = _Reader(page)
    reader.feed(html)
    reader.close()
    blocks: list[Block] = []
    used: set[str] = set()
    for index, block in enumerate(reader.blocks):
        blocks.append(block)
        for note_id in reader.refs.get(index, ()):
            note = reader.notes.get(note_id)
            if note and note_id not in used:
                used.add(note_id)
                number = re.sub(r"\D", "", note_id) or note_id
                blocks.append(Block(PARAGRAPH, f"Note {number}: {note.rstrip('↑ ').strip()}", block.page))
    # A note no paragraph refers to stays, at the end.
    blocks += [Block(PARAGRAPH, note, reader.page) for key, note in reader.notes.items() if key not in used and note]
    hidden = [text for text in reader.hidden if text]
    return HtmlText(blocks, clean_text(reader.title), sum(len(t) for t in hidden), hidden[:5])
