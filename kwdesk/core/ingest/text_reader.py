"""Reads plain text and Markdown files into blocks.

Plain text has no pages; it is cut into pages at form feeds, or else every
LINES_PER_PAGE lines, so that citations can still point at a place in the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from kwdesk.core.ingest.pdf_reader import RejectedFile
from kwdesk.core.text.blocks import (
    HEADING,
    LIST_ITEM,
    PARAGRAPH,
    Block,
    ExtractedDocument,
    clean_text,
    join_lines,
    list_item_text,
    list_marker,
)

LINES_PER_PAGE = 60
_ATX_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^(=+|-+)\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")


def decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise RejectedFile("not a text file (binary content)")
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    # Older Windows files; cp1252 maps nearly every byte, latin-1 all of them.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_text_file(path: Path, *, markdown: bool) -> ExtractedDocument:
    text = decode_text(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
    pages = _split_pages(text)
    blocks: list[Block] = []
    for number, page in enumerate(pages, start=1):
        blocks.extend(_markdown_blocks(page, number) if markdown else _plain_blocks(page, number))
    if not blocks:
        raise RejectedFile("empty: the file has no text")
    title = next((b.text for b in blocks if b.kind == HEADING), "") or path.stem
    return ExtractedDocument(
        page_count=len(pages), blocks=blocks, extractor="markdown" if markdown else "text", title=title[:200]
    )


def _split_pages(text: str) -> list[str]:
    if "\f" in text:
        return text.split("\f")
    lines = text.split("\n")
    pages = []
    start = 0
    while start < len(lines):
        end = min(len(lines), start + LINES_PER_PAGE)
        # Do not end a page in the middle of a paragraph if a blank line is near.
        if end < len(lines):
            for probe in range(end, max(start + LINES_PER_PAGE // 2, end - 15), -1):
                if not lines[probe - 1].strip():
                    end = probe
                    break
        pages.append("\n".join(lines[start:end]))
        start = end
    return pages or [""]


def _paragraphs(text: str) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _list_or_paragraph(lines: list[str], page: int) -> list[Block]:
    if not any(list_marker(line) for line in lines):
        text = clean_text(join_lines(lines))
        return [Block(PARAGRAPH, text, page)] if text else []
    out: list[Block] = []
    current: list[str] = []
    kind = PARAGRAPH
    for line in lines + [None]:
        marker = list_marker(line) if line is not None else None
        if line is None or marker:
            text = clean_text(join_lines(current))
            if text:
                out.append(Block(kind, text, page))
            if line is None:
                break
            current, kind = [list_item_text(line, marker)], LIST_ITEM
        else:
            current.append(line)
    return out


def _plain_blocks(text: str, page: int) -> list[Block]:
    blocks: list[Block] = []
    for lines in _paragraphs(text):
        blocks.extend(_list_or_paragraph(lines, page))
    return blocks


def _markdown_blocks(text: str, page: int) -> list[Block]:
    blocks: list[Block] = []
    in_fence = False
    fence: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            blocks.extend(_list_or_paragraph(pending, page))
            pending.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            if in_fence:
                code = "\n".join(fence).strip()
                if code:
                    blocks.append(Block(PARAGRAPH, code, page))
                fence.clear()
            else:
                flush()
            in_fence = not in_fence
            continue
        if in_fence:
            fence.append(line)
            continue
        heading = _ATX_HEADING.match(line)
        if heading:
            flush()
            title = clean_text(heading.group(2))
            if title:
                blocks.append(Block(HEADING, title, page, level=len(heading.group(1))))
            continue
        if _SETEXT_UNDERLINE.match(line) and len(pending) == 1:
            title = clean_text(pending.pop())
            blocks.append(Block(HEADING, title, page, level=1 if line.lstrip().startswith("=") else 2))
            continue
        if not line.strip() or _RULE.match(line):
            flush()
            continue
        pending.append(_strip_inline_markdown(line))
    flush()
    if fence:
        blocks.append(Block(PARAGRAPH, "\n".join(fence).strip(), page))
    return blocks


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def _strip_inline_markdown(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    line = _EMPHASIS.sub(r"\2", line)
    return re.sub(r"^\s*>\s?", "", line)
