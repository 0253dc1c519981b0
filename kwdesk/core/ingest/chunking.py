"""Cuts a document's blocks into chunks of about N tokens that never cut a sentence.

A chunk is the unit that generation works on and that provenance points to: it keeps
the pages it spans and the path of headings above it. Chunks start afresh at each
heading once they hold a third of their size, so a chunk is about one topic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kwdesk.core.text.blocks import HEADING, LIST_ITEM, PARAGRAPH, TABLE, Block
from kwdesk.core.text.sentences import approx_tokens, split_sentences

DEFAULT_CHUNK_TOKENS = 300
HEADING_SEPARATOR = " > "


@dataclass
class Chunk:
    seq: int
    text: str
    heading_path: str
    page_start: int
    page_end: int
    tokens: int

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class _Unit:
    """A sentence (or a list item's sentence) on its way into a chunk."""

    text: str
    paragraph: int  # units of one paragraph are joined by spaces, paragraphs by blank lines
    is_list: bool
    page_start: int
    page_end: int
    heading_path: str
    tokens: int
    is_row: bool = False  # a table row: one a line, never cut into sentences


def merge_continued_paragraphs(blocks: list[Block]) -> list[Block]:
    """Join a paragraph that a page or column break cut in two (it goes on in lower case)."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and block.kind == prev.kind == PARAGRAPH
            and not prev.text.rstrip().endswith((".", "!", "?", ":", ";", '"', "”"))
            # It goes on in lower case, or the first part stops on a lower-case word or a
            # comma ("drains towards" | "Ludmoor."): no sentence ends there.
            and (block.text[:1].islower() or _unfinished(prev.text))
        ):
            head = prev.text[:-1] if prev.text.endswith("-") else f"{prev.text} "
            starts = prev.page_starts or ((0, prev.page),)
            starts += tuple((len(head) + offset, page) for offset, page in (block.page_starts or ((0, block.page),)))
            out[-1] = Block(prev.kind, head + block.text, prev.page, prev.level, block.page_end, starts)
        else:
            out.append(block)
    return out


def _unfinished(text: str) -> bool:
    last = text.rstrip().rsplit(" ", 1)[-1]
    return last.endswith(",") or (last.isalpha() and last.islower())


def _units(blocks: list[Block], max_tokens: int) -> list[_Unit | Block]:
    """Sentences, with the heading blocks left in place as section marks."""
    out: list[_Unit | Block] = []
    path: list[tuple[int, str]] = []
    heading_path = ""
    for index, block in enumerate(merge_continued_paragraphs(blocks)):
        if block.kind == HEADING:
            path = [(level, text) for level, text in path if level < block.level] + [(block.level, block.text)]
            heading_path = HEADING_SEPARATOR.join(text for _, text in path)
            out.append(block)
            continue
        if block.kind == TABLE:
            for row in block.text.split("\n"):
                for piece in _fit(row, max_tokens):
                    out.append(_Unit(piece, index, False, block.page, block.page_end, heading_path,
                                     approx_tokens(piece), is_row=True))
            continue
        position = 0
        for sentence in split_sentences(block.text):
            for piece in _fit(sentence, max_tokens):
                # Each sentence keeps the pages it stands on, also inside a paragraph
                # that a page break cut in two.
                start = block.text.find(piece, position)
                start = position if start < 0 else start
                position = start + len(piece)
                pages = (block.page_at(start), block.page_at(position - 1)) if block.page_starts else (block.page, block.page_end)
                out.append(_Unit(piece, index, block.kind == LIST_ITEM, *pages, heading_path, approx_tokens(piece)))
    return out


def _fit(sentence: str, max_tokens: int) -> list[str]:
    """A sentence longer than a whole chunk (a table row run, a list with no stops) is cut
    between words: the one case where a chunk boundary falls inside a sentence. A "word"
    longer than a chunk (a run of characters with no space: base64, a broken text layer)
    is cut too, so that no chunk outgrows what a prompt can hold."""
    if approx_tokens(sentence) <= max_tokens:
        return [sentence]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    longest = max(1, max_tokens * 4)  # approx_tokens counts 4 characters a token
    words = (w[i:i + longest] for w in sentence.split() for i in range(0, len(w), longest))
    for word in words:
        cost = approx_tokens(word + " ")
        if current and size + cost > max_tokens:
            pieces.append(" ".join(current))
            current, size = [], 0
        current.append(word)
        size += cost
    if current:
        pieces.append(" ".join(current))
    return pieces


def _render(units: list[_Unit]) -> str:
    parts: list[str] = []
    last_paragraph = None
    for unit in units:
        if unit.paragraph == last_paragraph:
            separator = "\n" if unit.is_row else " "  # a table's rows stay one a line
            parts[-1] = f"{parts[-1]}{separator}{unit.text}"
        else:
            parts.append(f"- {unit.text}" if unit.is_list else unit.text)
        last_paragraph = unit.paragraph
    text = ""
    previous_list = False
    for index, part in enumerate(parts):
        is_list = part.startswith("- ")
        if index:
            # List items stay one to a line; paragraphs are set apart by a blank line.
            text += "\n" if (is_list and previous_list) else "\n\n"
        text += part
        previous_list = is_list
    return text


def _added_chars(current: list[_Unit], unit: _Unit) -> int:
    """How many characters UNIT adds to the rendered chunk (see _render)."""
    if not current:
        return len(unit.text) + (2 if unit.is_list else 0)
    last = current[-1]
    if unit.paragraph == last.paragraph:
        return 1 + len(unit.text)
    separator = 1 if (unit.is_list and last.is_list) else 2
    return separator + len(unit.text) + (2 if unit.is_list else 0)


def chunk_blocks(blocks: list[Block], max_tokens: int = DEFAULT_CHUNK_TOKENS) -> list[Chunk]:
    if max_tokens < 16:
        raise ValueError("chunks must hold at least 16 tokens")
    max_chars = max_tokens * 4  # approx_tokens counts four characters a token
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    chars = 0

    def flush() -> None:
        nonlocal current, chars
        if current:
            text = _render(current)
            chunks.append(
                Chunk(
                    seq=len(chunks),
                    text=text,
                    heading_path=current[0].heading_path,
                    page_start=min(u.page_start for u in current),
                    page_end=max(u.page_end for u in current),
                    tokens=approx_tokens(text),
                )
            )
        current, chars = [], 0

    for item in _units(blocks, max_tokens - 1):
        if isinstance(item, Block):  # a heading: a new section begins
            if not current:
                continue
            if chars >= max_chars // 3:
                flush()
                continue
            # A short section goes on in the same chunk; keep its heading as a line.
            item = _Unit(item.text, -id(item), False, item.page, item.page_end, current[0].heading_path, 0)
        added = _added_chars(current, item)
        if current and chars + added > max_chars:
            flush()
            added = _added_chars(current, item)
        current.append(item)
        chars += added
    flush()
    return chunks
