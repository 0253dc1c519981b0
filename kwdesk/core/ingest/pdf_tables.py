"""Finds the tables on a PDF page, ruled or not, as rows of cells with the header first.

Ruled tables (cells drawn with lines) are found by pymupdf's ``find_tables``, which reads
the ruling. Tables without ruling are found here from the text itself: rows of short cells
side by side on one baseline, three rows or more, whose cells line up under the header's
columns. (``find_tables(strategy="text")`` was tried first: on a page that also has prose
it cuts the prose into columns too.)

Both cost something (``find_tables`` about 10 ms a page), so a page is only looked at when
its text has the shape of a table: three blocks or more of cell-like text. A page of prose
costs nothing more than before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kwdesk.core.text.blocks import join_lines

# A page is searched for tables when it has this many blocks of cell-like text.
MIN_CELL_BLOCKS = 3
# Text cells are short; a longer line is prose.
MAX_CELL_CHARS = 80
MIN_ROWS = 3  # the header and two rows: fewer is more often a coincidence of layout
RULED_MIN_HORIZONTAL = 3  # drawn lines on a page before find_tables is worth asking
RULED_MIN_VERTICAL = 3
MIN_STROKE = 10.0  # points: shorter strokes are a drawing's, not a table's ruling
MAX_DRAWING_ITEMS = 1000  # more vector strokes than this on a page: a figure, not a table's ruling


@dataclass
class FoundTable:
    bbox: tuple[float, float, float, float]
    rows: list[list[str]]  # the header row first


def _baseline_spread(block) -> float:
    ends = [line.y1 for line in block.lines]
    return max(ends) - min(ends)


def cell_like(block) -> bool:
    """A block that could be a table row or a cell: one line of text, or several side by
    side on one baseline, each short."""
    return (
        len(block.text) <= MAX_CELL_CHARS * max(1, len(block.lines))
        and all(len(line.text) <= MAX_CELL_CHARS for line in block.lines)
        and (len(block.lines) == 1 or _baseline_spread(block) <= 2.0)
    )


def worth_looking(blocks) -> bool:
    """Three blocks or more that are cells or rows: one line, or lines side by side."""
    count = 0
    for block in blocks:
        if cell_like(block) or (len(block.lines) > 1 and len({round(line.x0) for line in block.lines}) > 1
                                and len(block.text) <= MAX_CELL_CHARS * WRAPPED_CELL_LINES * 2):
            count += 1
            if count >= MIN_CELL_BLOCKS:
                return True
    return False


def ruled_tables(page) -> list[FoundTable]:
    """Tables drawn with lines, by pymupdf; [] where the page has too few lines."""
    try:
        area = _grid_area(page.get_cdrawings())
        if area is None:
            return []
        found = page.find_tables(clip=area, strategy="lines")
    except Exception:  # a table finder's failure is no reason to lose the page's text
        return []
    out = []
    for table in found.tables:
        rows = [[(cell or "").replace("\n", " ").strip() for cell in row] for row in table.extract()]
        if plausible(rows):
            out.append(FoundTable(tuple(table.bbox), rows))
    return out


def _grid_area(drawings) -> tuple[float, float, float, float] | None:
    """Where a page's vector graphics could rule a table of two rows and two columns (the
    box around its long strokes), or None: three horizontal and three vertical strokes of
    10 pt or more are needed (a box counts as both, a thin filled box as the line it
    draws). Fraction bars, frames around a theorem and the strokes of a plot are not, and
    find_tables (10 to 250 ms a page) is not asked then."""
    if sum(len(path.get("items", ())) for path in drawings) > MAX_DRAWING_ITEMS:
        return None  # a plot or a drawing fills the page: a figure
    horizontal = vertical = 0
    area = [float("inf"), float("inf"), float("-inf"), float("-inf")]
    for path in drawings:
        for item in path.get("items", ()):
            kind = item[0]
            if kind == "re":
                x0, y0, x1, y1 = item[1]
            elif kind == "l":
                (x0, y0), (x1, y1) = item[1], item[2]
            else:
                continue
            width, height = abs(x1 - x0), abs(y1 - y0)
            if width >= MIN_STROKE and height >= MIN_STROKE and kind == "re":
                horizontal += 2
                vertical += 2
            elif width >= MIN_STROKE and height <= 1.5:
                horizontal += 1
            elif height >= MIN_STROKE and width <= 1.5:
                vertical += 1
            else:
                continue
            area = [min(area[0], x0, x1), min(area[1], y0, y1), max(area[2], x0, x1), max(area[3], y0, y1)]
    if horizontal >= RULED_MIN_HORIZONTAL and vertical >= RULED_MIN_VERTICAL:
        return (area[0] - 2, area[1] - 2, area[2] + 2, area[3] + 2)
    return None


def plausible(rows: list[list[str]]) -> bool:
    """Whether cells found on a page read as a table and not as a drawing's labels or a
    formula (lines of a plot or a diagram look like ruling to find_tables): a header and
    two rows or more, few empty cells, a header of words, cells of letters and digits."""
    if len(rows) < 3 or max(len(row) for row in rows) < 2:
        return False
    width = max(len(row) for row in rows)
    cells = [cell for row in rows for cell in row + [""] * (width - len(row))]
    if sum(1 for cell in cells if not cell.strip()) > 0.25 * len(cells):
        return False
    header = rows[0][1:] if rows[0] and not rows[0][0].strip() else rows[0]  # the corner may be empty
    if not header or any(not cell.strip() for cell in header):
        return False
    if sum(1 for cell in header if any(ch.isalpha() for ch in cell)) < len(header) / 2:
        return False
    if rows[0][0].strip() and any(_NUMERIC.match(cell) for cell in rows[0][1:]):
        return False  # a number in a header that names its rows: a row of data (a contents list)
    filled = [cell.strip() for cell in cells if cell.strip()]
    if sum(1 for cell in filled if len(cell) == 1) > 0.25 * len(filled):
        return False  # the letters of a diagram or the symbols of a formula
    if all(_MARKER.match(row[0] + " x") for row in rows if row and row[0]):
        return False  # a list: its numbers or bullets set apart from the items' text
    text = "".join(cells).replace(" ", "")
    return bool(text) and sum(ch.isalnum() or ch in ".,%()/-:" for ch in text) >= 0.9 * len(text)


_NUMERIC = re.compile(r"^\s*[\d.,\s%-]+\s*$")
_MARKER = re.compile(r"^\s*(?:[•◦▪▫●○■□‣⁃∙·\-–—*]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+x$")


@dataclass
class _Segment:
    x0: float
    x1: float
    y0: float
    y1: float  # the baseline of its first line: cells of a row are set from one top line
    text: str
    block: int  # index of its block on the page
    bottom: float = 0.0  # where its last line ends (a wrapped cell is taller than its row's line)
    wrapped: bool = False


# A cell whose text wraps is a block of a few short lines in a narrow box.
WRAPPED_CELL_LINES = 6
WRAPPED_CELL_WIDTH = 200.0
WRAPPED_LINE_CHARS = 60


def _wrapped_cell(block) -> bool:
    return (
        2 <= len(block.lines) <= WRAPPED_CELL_LINES
        and block.x1 - block.x0 <= WRAPPED_CELL_WIDTH
        and all(len(line.text) <= WRAPPED_LINE_CHARS for line in block.lines)
        and _baseline_spread(block) > 2.0
    )


def _cells_of(block, index: int) -> list[_Segment]:
    """A block's lines gathered into cells: lines whose widths overlap stand one under the
    other in one cell (a wrapped cell), lines side by side are cells of one row."""
    columns: list[list] = []
    for line in sorted(block.lines, key=lambda l: l.x0):
        if columns and line.x0 < max(l.x1 for l in columns[-1]) - 1.0:
            columns[-1].append(line)
        else:
            columns.append([line])
    cells = []
    for lines in columns:
        lines.sort(key=lambda l: l.y1)
        cells.append(_Segment(min(l.x0 for l in lines), max(l.x1 for l in lines), lines[0].y0, lines[0].y1,
                              join_lines([l.text for l in lines]), index, lines[-1].y1, wrapped=len(lines) > 1))
    return cells


def _rows(blocks, taken: set[int]) -> list[list[_Segment]]:
    """Cells grouped by the baseline of their first line: candidate table rows, top down.
    A block of cells side by side gives its cells; a wrapped cell alone is one cell."""
    segments: list[_Segment] = []
    for index, block in enumerate(blocks):
        if index in taken:
            continue
        cells = _cells_of(block, index)
        if len(cells) >= 2 and max(c.y1 for c in cells) - min(c.y1 for c in cells) <= 2.0:
            if all(len(c.text) <= MAX_CELL_CHARS * WRAPPED_CELL_LINES for c in cells):
                segments += cells  # a row in one block
        elif len(cells) == 1 and (cell_like(block) or _wrapped_cell(block)):
            segments += cells
    segments.sort(key=lambda s: (s.y1, s.x0))
    rows: list[list[_Segment]] = []
    for segment in segments:
        if rows and abs(rows[-1][0].y1 - segment.y1) <= 2.0:
            rows[-1].append(segment)
        else:
            rows.append([segment])
    for row in rows:
        row.sort(key=lambda s: s.x0)
    # A wrapped cell belongs to a table only beside two cells or more: two paragraphs side
    # by side (a two-column page) are not a table's row.
    return [row for row in rows if not any(s.wrapped for s in row) or len(row) >= 3]


def _within(row: list[_Segment], left: float, right: float) -> list[_Segment]:
    """ROW's segments between LEFT and RIGHT: a line of the other column of a two-column
    page can stand on the same baseline as a table's row."""
    return [s for s in row if s.x1 >= left - 5.0 and s.x0 <= right + 20.0]


def _columns_of(row: list[_Segment], anchors: list[float]) -> list[int] | None:
    """The column of each of ROW's cells under the header's ANCHORS, or None when the row
    does not line up (two cells in one column)."""
    columns = []
    for segment in row:
        column = max((i for i, x in enumerate(anchors) if x <= segment.x0 + 3.0), default=None)
        if column is None or (columns and column <= columns[-1]):
            return None
        columns.append(column)
    return columns


def text_tables(blocks, taken: set[int]) -> list[tuple[FoundTable, set[int]]]:
    """Tables without ruling, each with the indexes of the blocks it is made of."""
    out = []
    rows = [row for row in _rows(blocks, taken) if len(row) >= 2]
    i = 0
    while i < len(rows):
        header = rows[i]
        anchors = [s.x0 for s in header]
        if _columns_of(header, anchors) is None:  # two cells start at one x: no header row
            i += 1
            continue
        left, right = header[0].x0, header[-1].x1
        height = max(s.y1 - s.y0 for s in header)
        table = [header]
        j = i + 1
        while j < len(rows):
            row = _within(rows[j], left, right)
            above = max(s.bottom for s in table[-1])  # the foot of the row above's tallest cell
            if not row or row[0].y0 - above > 2.5 * height or _columns_of(row, anchors) is None:
                break
            table.append(row)
            j += 1
        cells = []
        for row in table:
            line = [""] * len(anchors)
            for segment, column in zip(row, _columns_of(row, anchors)):
                line[column] = segment.text
            cells.append(line)
        if len(table) >= MIN_ROWS and plausible(cells):
            x0 = min(s.x0 for row in table for s in row)
            x1 = max(s.x1 for row in table for s in row)
            bbox = (x0, table[0][0].y0, x1, table[-1][0].y1)
            out.append((FoundTable(bbox, cells), {s.block for row in table for s in row}))
            i = j
        else:
            i += 1
    return out


def inside(block, bbox: tuple[float, float, float, float]) -> bool:
    cx = (block.x0 + block.x1) / 2
    cy = (block.y0 + block.y1) / 2
    return bbox[0] - 1 <= cx <= bbox[2] + 1 and bbox[1] - 1 <= cy <= bbox[3] + 1
