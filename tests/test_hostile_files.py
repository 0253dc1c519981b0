"""Hostile and broken documents: the importer never crashes, never hangs, and says why.

The fuzz runs import damaged copies of the shared corpus (../shared/pdf-corpus) in one
batch, as a user dropping a folder would. CI runs 200 files; `-m slow` runs 1,000.
Figures land in build/reliability/ for RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from docgen import facts_pdf, large_pdf
from fuzz_pdfs import make_fuzzed_pdfs

from kwdesk.core.base import process_pool
from kwdesk.core.base.files import file_sha256
from kwdesk.core.ingest.importer import (
    DUPLICATE,
    IMPORTED,
    REJECTED,
    ImportJob,
    ImportOptions,
)

FIGURES = Path(__file__).resolve().parents[1] / "build" / "reliability"
STALL_S = 10.0


def _fuzz(workspace, db, tmp_path, pdf_corpus, count: int, seed: int) -> dict:
    sources = sorted(pdf_corpus.rglob("*.pdf"))
    files = make_fuzzed_pdfs(sources, tmp_path / "fuzzed", count, seed)
    started = time.monotonic()
    # OCR off: Tesseract's time would swamp the parser's, and the parser is what is fuzzed.
    results = ImportJob(workspace, files, ImportOptions(ocr=False, stall_limit_s=STALL_S)).run()
    elapsed = time.monotonic() - started

    assert len(results) == count
    statuses = Counter(r.status for r in results)
    assert set(statuses) <= {IMPORTED, REJECTED, DUPLICATE}, statuses
    for result in results:
        if result.status == REJECTED:
            assert result.reason.strip(), result.path
        if result.status == IMPORTED:
            assert result.pages >= 1
    # Every verdict is in the workspace, which is whole.
    stored = dict(db.execute("SELECT status, count(*) FROM documents GROUP BY status").fetchall())
    assert stored.get("imported", 0) == statuses[IMPORTED]
    assert stored.get("rejected", 0) == statuses[REJECTED]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    reasons = Counter(r.reason.split(":")[0].split("(")[0].strip() for r in results if r.status == REJECTED)
    figures = {
        "files": count,
        "seed": seed,
        "imported": statuses[IMPORTED],
        "rejected": statuses[REJECTED],
        "duplicate": statuses[DUPLICATE],
        "stalled": sum(1 for r in results if "stopped responding" in r.reason),
        "crashed_reader": sum(1 for r in results if "crashed the PDF reader" in r.reason),
        "seconds": round(elapsed, 1),
        "slowest_allowed_stall_s": STALL_S,
        "reasons": dict(reasons.most_common()),
    }
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"fuzz-{count}.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    return figures


def test_fuzzed_pdfs_are_imported_or_rejected_with_a_reason(workspace, db, tmp_path, pdf_corpus):
    figures = _fuzz(workspace, db, tmp_path, pdf_corpus, 200, seed=1)
    # The mutations are not all fatal: some files still read, many do not.
    assert figures["imported"] > 0 and figures["rejected"] > 0


@pytest.mark.slow
def test_a_thousand_fuzzed_pdfs(workspace, db, tmp_path, pdf_corpus):
    _fuzz(workspace, db, tmp_path, pdf_corpus, 1000, seed=2)


def _warm_pool() -> list:
    """Start every worker of the pool now and return their processes."""
    pool = process_pool.shared_pool()
    size = process_pool.pool_size(pool)
    for future in [pool.submit(time.sleep, 0.3) for _ in range(size)]:
        future.result()
    return list(pool._processes.values())


def test_a_file_that_hangs_the_reader_is_rejected_and_the_batch_goes_on(workspace, db, tmp_path):
    first = facts_pdf(tmp_path / "hangs.pdf")
    others = [large_pdf(tmp_path / f"fine-{n}.pdf", 3, seed=n) for n in range(3)]
    # Frozen workers make no progress, exactly like a reader stuck in a loop in C code.
    for process in _warm_pool():
        os.kill(process.pid, signal.SIGSTOP)
    started = time.monotonic()
    results = ImportJob(workspace, [first, *others], ImportOptions(stall_limit_s=3)).run()
    elapsed = time.monotonic() - started

    assert results[0].status == REJECTED
    # Its worker froze before it could say which page it was on.
    assert "the PDF reader stopped responding (no progress for 3 s)" in results[0].reason
    # The files read beside it lost their worker too; they were read again and imported.
    assert [r.status for r in results[1:]] == [IMPORTED] * 3
    assert elapsed < 3 + 30
    assert not list(workspace.tmp_dir.glob("p*/import-*")), "heartbeat files left behind"


def test_a_file_that_crashes_the_reader_is_rejected_and_the_batch_goes_on(workspace, db, tmp_path):
    crashing = large_pdf(tmp_path / "crashes.pdf", 99, seed=5)
    fine = [large_pdf(tmp_path / f"fine-{n}.pdf", 2, seed=n) for n in range(3)]
    prefix = file_sha256(crashing)[:16]
    done = threading.Event()
    kills = []

    def crash_whoever_reads_it():
        # A native crash of the PDF library, whenever a worker starts on this file.
        seen = None
        while not done.is_set():
            for beat in workspace.tmp_dir.glob(f"p*/import-*/{prefix}-*"):
                try:
                    state = (beat.stat().st_mtime_ns, beat.read_text())
                except OSError:
                    continue
                page, _, pages = state[1].partition(" ")
                if state != seen and page.isdigit() and (pages == "0" or int(page) < int(pages or 0)):
                    seen = state
                    pool = process_pool._pool
                    for process in list(pool._processes.values()) if pool else []:
                        os.kill(process.pid, signal.SIGSEGV)
                        kills.append(process.pid)
            time.sleep(0.002)

    watcher = threading.Thread(target=crash_whoever_reads_it)
    watcher.start()
    try:
        results = ImportJob(workspace, [fine[0], crashing, *fine[1:]], ImportOptions(ocr=False)).run()
    finally:
        done.set()
        watcher.join()
    assert kills, "the reader of the file was never crashed"
    assert results[1].status == REJECTED
    assert results[1].reason == "damaged file: it crashed the PDF reader"
    assert [results[0].status, results[2].status, results[3].status] == [IMPORTED] * 3


def _import_in_child(workspace_dir: Path, *files: Path) -> tuple[str, float]:
    """Runs `kwdesk import` in a child process; returns its output and peak memory (MB).

    The peak is the child's VmHWM, polled: getrusage's ru_maxrss would also count the
    memory of this test process, which a fork hands to the child before its exec.
    """
    import tempfile

    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kwdesk", "--workspace", str(workspace_dir), "import", *map(str, files)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        peak_kb = 0
        status = Path(f"/proc/{proc.pid}/status")
        while proc.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        out.seek(0)
        text = out.read()
    assert proc.returncode == 0, text
    return text, peak_kb / 1024


def test_huge_files_import_in_bounded_memory(tmp_path):
    import pymupdf

    pages_5000 = tmp_path / "5000-pages.pdf"
    doc = pymupdf.open()
    for n in range(5000):
        doc.new_page().insert_text((72, 72), f"Section {n}. Pump K{n} runs at {1000 + n} rpm; service it every {30 + n % 50} days.")
    doc.save(pages_5000)
    million = tmp_path / "million-characters.pdf"
    doc = pymupdf.open()
    line = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " * 2
    doc.new_page(width=14000, height=14000).insert_text((10, 10), "\n".join([line] * 7000), fontsize=2, lineheight=1.0)
    doc.save(million)
    no_spaces = tmp_path / "one-word.txt"
    no_spaces.write_text("x" * 1_000_000)

    out, peak_mb = _import_in_child(tmp_path / "ws", pages_5000, million, no_spaces)
    assert "3 imported" in out, out
    from kwdesk.core.store.workspace import Workspace

    db = Workspace.open(tmp_path / "ws").connect()
    rows = db.execute("SELECT name, pages, chunks FROM documents ORDER BY id").fetchall()
    assert rows[0][:2] == ("5000-pages.pdf", 5000)
    assert db.execute("SELECT max(length(text)) FROM chunks").fetchone()[0] < 4000  # no chunk outgrows a prompt
    assert db.execute("SELECT count(*) FROM pages WHERE document_id = 2").fetchone()[0] == 1
    assert len(db.execute("SELECT text FROM pages WHERE document_id = 2").fetchone()[0]) > 900_000
    # The app's process holds one range of pages at a time, not the whole text of 5,000.
    assert peak_mb < 400, f"peak memory {peak_mb:.0f} MB"
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / "huge-files.json").write_text(json.dumps({"peak_mb": round(peak_mb), "files": [list(r) for r in rows]}))


@pytest.fixture(autouse=True)
def _fresh_pool():
    """Each test starts and ends with a pool of live workers (some tests freeze or crash them)."""
    process_pool.kill_pool()
    yield
    process_pool.kill_pool()
    shutil.rmtree(FIGURES / "tmp", ignore_errors=True)
