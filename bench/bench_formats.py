"""How the readers of Word and EPUB files were chosen: each candidate on the same generated
files, in one run, for what it keeps (sentences, list numbers, table cells with headers,
hidden text) and how long it takes.

- Word: mammoth (to HTML, then kwdesk's HTML reader; what kwdesk uses) against python-docx
  (paragraphs by style and tables, the other well-kept reader).
- EPUB: kwdesk's reading of the XHTML chapters against pymupdf's own EPUB reader (it lays
  the book out in pages; its text is then read as a PDF's would be).

    .venv/bin/python bench/bench_formats.py [--sections 400]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from formats import MANUAL, manual_truth, write_docx, write_epub  # noqa: E402
from laidout import score  # noqa: E402

from kwdesk.core.ingest.chunking import chunk_blocks  # noqa: E402
from kwdesk.core.ingest.markup_files import read_docx, read_epub  # noqa: E402


def python_docx_text(path: Path) -> str:
    """What python-docx gives without code of one's own for Word's numbering: paragraphs
    by style (the style name says "List Number", not the number) and tables as rows."""
    import docx
    from docx.table import Table

    out = []
    for item in docx.Document(str(path)).iter_inner_content():
        if isinstance(item, Table):
            rows = [[cell.text for cell in row.cells] for row in item.rows]
            out.append("\n".join(["| " + " | ".join(rows[0]) + " |", "|---|"] + ["| " + " | ".join(r) + " |" for r in rows[1:]]))
        elif item.text.strip():
            out.append(item.text)
    return "\n\n".join(out)


def big_docx(path: Path, sections: int) -> Path:
    import docx

    document = docx.Document()
    for number in range(1, sections + 1):
        document.add_heading(f"{number}. Section {number}", 1)
        document.add_paragraph("Pilotage is compulsory for vessels longer than 80 m. The pilot boards approx. 2.5 "
                               "nautical miles off the breakwater.")
        for text in ("Tugs must be ordered four hours ahead.", "The master reports the draught."):
            document.add_paragraph(text, style="List Number")
        table = document.add_table(rows=3, cols=3)
        for r, row in enumerate([["Berth", "Length (m)", "Depth (m)"], ["Oil Jetty", "310", "16.8"], ["Fish Quay", "120", "6.5"]]):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    document.save(path)
    return path


def line(label: str, got: dict, seconds: float) -> str:
    return (f"  {label:<34} sentences {got['sentences']}/{got['sentences_total']}  cells {got['cells']}/{got['cells_total']}"
            f"  hidden leaked {got['hidden_leaks']}/{got['hidden_total']}  {seconds * 1000:7.1f} ms")


def timed(read, path: Path):
    """READ(PATH) and the seconds it took."""
    start = time.perf_counter()
    return read(path), time.perf_counter() - start


def passages(read):
    return lambda path: [c.text for c in chunk_blocks(read(path).blocks)]


def pymupdf_epub_text(path: Path) -> list[str]:
    import pymupdf

    with pymupdf.open(path) as book:
        return ["\n".join(page.get_text() for page in book)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, default=400, help="sections of the long Word file (about 100 pages)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        docx_path, truth = write_docx(tmp / "manual.docx")
        print("Word: the manual (headings, numbered and bulleted lists, a table, a hidden run)")
        for label, read in (("mammoth -> kwdesk HTML reader", passages(read_docx)),
                            ("python-docx (styles, tables)", lambda p: [python_docx_text(p)])):
            units, seconds = timed(read, docx_path)
            print(line(label, score(units, truth), seconds))
        big = big_docx(tmp / "long.docx", args.sections)
        mammoth_s, docx_s = timed(read_docx, big)[1], timed(python_docx_text, big)[1]
        print(f"  long file ({args.sections} sections): mammoth path {mammoth_s:.2f} s, python-docx {docx_s:.2f} s")

        epub_path, truth = write_epub(tmp / "manual.epub")
        print("\nEPUB: the manual in two chapters")
        for label, read in (("kwdesk (XHTML chapters)", passages(read_epub)),
                            ("pymupdf EPUB reader (laid out)", pymupdf_epub_text)):
            units, seconds = timed(read, epub_path)
            print(line(label, score(units, truth), seconds))
    print(f"\n(the manual has {len(MANUAL)} parts; {len(manual_truth('x').cells)} table cells)")


if __name__ == "__main__":
    main()
