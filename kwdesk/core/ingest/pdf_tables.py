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

from dataclasses import dataclass

# A page is searched for tables when it has this many blocks of cell-like text.
MIN_CELL_BLOCKS = 3
# Text cells are short; a longer line is prose.
MAX_CELL_CHARS = 80
MIN_ROWS = 3  # the header and two rows: fewer is more often a coincidence of layout
RULED_MIN_LINES = 4  # drawn lines on a page before find_tables is worth asking


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
    return sum(1 for block in blocks if cell_like(block)) >= MIN_CELL_BLOCKS


def ruled_tables(page) -> list[FoundTable]:
    """Tables drawn with lines, by pymupdf; [] where the page has too few lines."""
    try:
        lines = sum(1 for path in page.get_cdrawings() for item in path.get("items", ()) if item[0] in ("l", "re"))
        if lines < RULED_MIN_LINES:
            return []
        found = page.find_tables(strategy="lines")
    except Exception:  # a table finder's failure is no reason to lose the page's text
        return []
    out = []
    for table in found.tables:
        rows = [[(cell or "").replace("\n", " ").strip() for cell in row] for row in table.extract()]
        if plausible(rows):
            out.append(FoundTable(tuple(table.bbox), rows))
    return out


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
    text = "".join(cells).replace(" ", "")
    return bool(text) and sum(ch.isalnum() or ch in ".,%()/-:" for ch in text) >= 0.85 * len(text)


@dataclass
class _Segment:
    x0: float
    x1: float
    y0: float
    y1: float
    text: str
    block: int  # index of its block on the page


def _rows(blocks, taken: set[int]) -> list[list[_Segment]]:
    """Lines of cell-like blocks grouped by baseline: candidate table rows, top down."""
    segments = [
        _Segment(line.x0, line.x1, line.y0, line.y1, line.text, index)
        for index, block in enumerate(blocks)
        if index not in taken and cell_like(block)
        for line in block.lines
    ]
    segments.sort(key=lambda s: (s.y1, s.x0))
    rows: list[list[_Segment]] = []
    for segment in segments:
        if rows and abs(rows[-1][0].y1 - segment.y1) <= 2.0:
            rows[-1].append(segment)
        else:
            rows.append([segment])
    for row in rows:
        row.sort(key=lambda s: s.x0)
    return rows


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
            if not row or row[0].y0 - table[-1][0].y1 > 2.5 * height or _columns_of(row, anchors) is None:
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
