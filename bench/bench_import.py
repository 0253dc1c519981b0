"""Import throughput: kwdesk's full import (extract, structure, chunk, store, index)
against pdfminer.six text extraction alone (what synthetic-data-kit uses), same files,
one run.

    .venv/bin/python bench/bench_import.py [--pages 1000] [--corpus ../shared/pdf-corpus]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from docgen import large_pdf  # noqa: E402

from kwdesk.core.ingest.importer import IMPORTED, ImportJob, ImportOptions  # noqa: E402
from kwdesk.core.store.workspace import Workspace  # noqa: E402


def kwdesk_import(files: list[Path], repeats: int = 1) -> tuple[float, int]:
    """Median wall time of REPEATS full imports, each into a new workspace.

    OCR is off: pdfminer.six does not OCR, and the comparison is of reading the same text.
    """
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            ws = Workspace.open(Path(tmp) / "ws")
            start = time.perf_counter()
            results = ImportJob(ws, files, ImportOptions(ocr=False)).run()
            times.append(time.perf_counter() - start)
    pages = sum(r.pages for r in results if r.status == IMPORTED)
    return statistics.median(times), pages


def pdfminer_extract(files: list[Path]) -> tuple[float, int]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    start = time.perf_counter()
    pages = 0
    for path in files:
        try:
            for layout in extract_pages(str(path)):
                "".join(el.get_text() for el in layout if isinstance(el, LTTextContainer))
                pages += 1
        except Exception:
            pass  # files pdfminer cannot read count no pages, as for kwdesk's rejections
    return time.perf_counter() - start, pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "pdf-corpus")
    args = parser.parse_args()

    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    big = out / f"generated-{args.pages}-pages.pdf"
    if not big.exists():
        large_pdf(big, args.pages)
    print(f"machine: {platform.processor() or platform.machine()}, {shutil.os.cpu_count()} cores, Python {platform.python_version()}")

    # Warm both sides up (imports, kwdesk's worker processes) on a small file first: the
    # figures are throughput, not start-up.
    warm = out / "warm-up-5-pages.pdf"
    if not warm.exists():
        large_pdf(warm, 5, seed=1)
    kwdesk_import([warm])
    pdfminer_extract([warm])

    sets = [(f"generated {args.pages}-page PDF", [big])]
    if args.corpus.is_dir():
        sets.append((f"shared corpus ({args.corpus.name})", sorted(args.corpus.rglob("*.pdf"))))
    for label, files in sets:
        k_time, k_pages = kwdesk_import(files, repeats=3)
        p_time, p_pages = pdfminer_extract(files)
        k_rate, p_rate = k_pages / k_time, p_pages / p_time
        print(f"\n{label}")
        print(f"  kwdesk full import : {k_pages:5d} pages in {k_time:6.2f} s = {k_rate:7.1f} pages/s (median of 3)")
        print(f"  pdfminer.six text  : {p_pages:5d} pages in {p_time:6.2f} s = {p_rate:7.1f} pages/s")
        print(f"  ratio (kwdesk / pdfminer, pages/s): {k_rate / p_rate:.1f}x")


if __name__ == "__main__":
    main()
