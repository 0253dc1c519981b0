"""Extraction quality on laid-out documents with known ground truth (tests/laidout.py):
kwdesk's import against pymupdf4llm (Markdown for LLMs) and pymupdf's plain get_text, in
one run, on the same files.

Counted for each: body sentences recovered whole (in one of kwdesk's passages; anywhere in
a baseline's whole output, which favours the baselines), running header and footer lines
leaked, hidden strings leaked, table cells found on one line with their row and column
headers (a Markdown table's rows are read with its header row, as a reader sees them).

    bash bench/baselines.sh          # once: pymupdf4llm in its own environment
    .venv/bin/python bench/bench_extraction.py [--seed 5] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from laidout import build_corpus, score  # noqa: E402

from kwdesk.core.ingest.importer import IMPORTED, ImportJob  # noqa: E402
from kwdesk.core.store.workspace import Workspace  # noqa: E402

BASELINE_VENV = Path(os.environ.get("KWDESK_BENCH_VENV", Path.home() / ".cache" / "kwdesk" / "bench-venv"))

# Run in the baselines' environment: each PDF's text by both baselines, as JSON.
_BASELINES = r"""
import json, sys, time
import pymupdf
import pymupdf4llm
out = {}
for path in sys.argv[1:]:
    start = time.perf_counter()
    md = pymupdf4llm.to_markdown(path, show_progress=False)
    middle = time.perf_counter()
    with pymupdf.open(path) as doc:
        plain = "\n".join(page.get_text() for page in doc)
    out[path] = {"pymupdf4llm": md, "get_text": plain,
                 "seconds": {"pymupdf4llm": middle - start, "get_text": time.perf_counter() - middle}}
print(json.dumps(out))
"""


def kwdesk_units(files: list[Path]) -> tuple[dict[str, list[str]], float]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp) / "ws")
        start = time.perf_counter()
        results = ImportJob(ws, files).run()
        seconds = time.perf_counter() - start
        db = ws.connect()
        units = {}
        for path, result in zip(files, results):
            assert result.status == IMPORTED, (path, result.reason)
            units[str(path)] = [r[0] for r in db.execute("SELECT text FROM chunks WHERE document_id = ? ORDER BY seq",
                                                         [result.document_id])]
        db.close()
    return units, seconds


def baseline_texts(files: list[Path]) -> dict:
    python = BASELINE_VENV / "bin" / "python"
    if not python.exists():
        sys.exit(f"no baseline environment at {BASELINE_VENV}: run bash bench/baselines.sh first")
    proc = subprocess.run([str(python), "-c", _BASELINES, *map(str, files)], capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode:
        sys.exit(f"the baselines failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _add(total: dict, got: dict) -> None:
    for key, value in got.items():
        total[key] = total.get(key, 0) + value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="corpora built, each with other sentences")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    totals: dict[str, dict] = {"kwdesk": {}, "pymupdf4llm": {}, "get_text": {}}
    seconds = {"kwdesk": 0.0, "pymupdf4llm": 0.0, "get_text": 0.0}
    per_document: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seed, args.seed + args.seeds):
            corpus = build_corpus(Path(tmp) / f"seed-{seed}", seed=seed)
            files = [pdf for pdf, _ in corpus]
            units, took = kwdesk_units(files)
            seconds["kwdesk"] += took
            baselines = baseline_texts(files)
            for pdf, truth in corpus:
                outputs = {"kwdesk": units[str(pdf)], "pymupdf4llm": [baselines[str(pdf)]["pymupdf4llm"]],
                           "get_text": [baselines[str(pdf)]["get_text"]]}
                for tool, output in outputs.items():
                    got = score(output, truth)
                    _add(totals[tool], got)
                    _add(per_document.setdefault(truth.name, {}).setdefault(tool, {}), got)
                for tool in ("pymupdf4llm", "get_text"):
                    seconds[tool] += baselines[str(pdf)]["seconds"][tool]

    def line(tool: str, got: dict) -> str:
        sentences = 100 * got["sentences"] / max(1, got["sentences_total"])
        cells = 100 * got["cells"] / max(1, got["cells_total"])
        return (f"  {tool:<12} sentences {got['sentences']:4d}/{got['sentences_total']:<4d} ({sentences:5.1f}%)  "
                f"header/footer leaks {got['furniture_leaks']:3d}  hidden leaks {got['hidden_leaks']}/{got['hidden_total']}  "
                f"table cells with headers {got['cells']:3d}/{got['cells_total']:<3d} ({cells:5.1f}%)  "
                f"scanned-page sentences {got['scanned']}/{got['scanned_total']}")

    print(f"\nlaid-out corpus, {args.seeds} seeds x {len(per_document)} documents")
    for tool, got in totals.items():
        print(line(tool, got) + f"  [{seconds[tool]:.1f} s]")
    print("\nper document")
    for name, tools in per_document.items():
        print(name)
        for tool, got in tools.items():
            print(line(tool, got))
    k, m = totals["kwdesk"], totals["pymupdf4llm"]
    print("\nkwdesk vs pymupdf4llm: sentences "
          f"{k['sentences'] / max(1, m['sentences']):.2f}x, leaks {k['furniture_leaks']} vs {m['furniture_leaks']}, "
          f"table cells {k['cells'] / max(1, m['cells']):.2f}x")


if __name__ == "__main__":
    main()
