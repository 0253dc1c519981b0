"""Training data an expert can trust: this checkout's `kwdesk generate` against an earlier
kwdesk (today's path: a git revision), side by side in one run, on the same documents, with
the defaults and the bundled teacher, as a new user would run it.

Documents: the laid-out two-column manual PDF (running header and footer, a table,
footnotes, abbreviations; tests/laidout.py) and the Word manual (tests/formats.py), and the
handbook of invented facts (tests/docgen.py). For each side:
- stored questions, and those that pass the labelled-set rules of this checkout
  (data/checks.question_problem: made and measured on tests/labelled/)
- coverage by this checkout's data/coverage.py: facts asked in 3 wordings or more, not asked
- generation time (the teacher's time: generation is the teacher's loop) and usable
  questions per minute of it
A random sample of this checkout's stored questions is written for reading by hand
(--sample, default 50).

    .venv/bin/python bench/bench_pairs_quality.py [--baseline 7f21153] [--sample 50] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def documents(folder: Path) -> list[Path]:
    from docgen import facts_pdf
    from formats import write_docx
    from laidout import build_document

    folder.mkdir(parents=True, exist_ok=True)
    manual, _ = build_document("manual-two-columns", folder)
    docx, _ = write_docx(folder / "manual.docx")
    return [manual, docx, facts_pdf(folder / "handbook.pdf")]


def kwdesk(source: Path, workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(workspace), *args],
                          capture_output=True, text=True, env=env, cwd=source, timeout=3600, check=False)


def side(name: str, source: Path, docs: list[Path], workspace: Path) -> dict:
    from kwdesk.core.data.checks import question_problem
    from kwdesk.core.data.coverage import coverage
    from kwdesk.core.store.workspace import Workspace

    out = kwdesk(source, workspace, "import", *map(str, docs))
    assert out.returncode == 0, out.stderr
    started = time.monotonic()
    out = kwdesk(source, workspace, "generate")
    seconds = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    ws = Workspace.open(workspace)
    db = ws.connect()
    rows = db.execute(
        """SELECT p.question, p.answer, p.made_by, p.strategy, CASE WHEN p.kind = 'table' THEN p.answer ELSE c.text END
           FROM pairs p LEFT JOIN chunks c ON c.id = p.chunk_id WHERE p.question != '' AND p.split = 'train'"""
    ).fetchall()
    # A table cell's question is checked against its cell (row and column), not against the
    # passage, whose other cells share its words: as generation checks it.
    passing = [r for r in rows if question_problem(r[0], r[4] or r[1], r[1]) is None]
    report = coverage(db)
    return {
        "side": name,
        "questions": len(rows),
        "pass_rules": len(passing),
        "by_rule": sum(1 for r in rows if r[2] == "kwdesk-rules"),
        "facts": len(report.facts),
        "covered_3": len(report.covered),
        "not_asked": len(report.not_asked),
        "seconds": round(seconds, 1),
        "usable_per_minute": round(len(passing) / (seconds / 60), 1),
        "stdout": out.stdout.strip().splitlines(),
        "_rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="7f21153", help="git revision of today's path ('none': this checkout only)")
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "pairs-quality")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kwdesk-bench-pairs-"))
    baseline_src = tmp / "baseline-src"
    with_baseline = args.baseline != "none"
    if with_baseline:
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline_src), args.baseline],
                       capture_output=True, check=True)
    try:
        docs = documents(tmp / "docs")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"documents: {', '.join(d.name for d in docs)}; baseline {args.baseline}")
        results = [side(f"baseline {args.baseline}", baseline_src, docs, tmp / "ws-baseline")] if with_baseline else []
        results.append(side("kwdesk (this checkout)", REPO, docs, tmp / "ws-kwdesk"))
    finally:
        if with_baseline:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline_src)],
                           capture_output=True, check=False)
    print(f"\n{'':<24} {'questions':>9} {'pass rules':>10} {'by rule':>7} {'facts':>5} {'3+ ways':>7} "
          f"{'not asked':>9} {'seconds':>7} {'usable/min':>10}")
    for r in results:
        print(f"{r['side']:<24} {r['questions']:>9} {r['pass_rules']:>10} {r['by_rule']:>7} {r['facts']:>5} "
              f"{r['covered_3']:>7} {r['not_asked']:>9} {r['seconds']:>7} {r['usable_per_minute']:>10}")
    new = results[-1]
    if with_baseline:
        base = results[0]
        print(f"\nusable questions per minute: {new['usable_per_minute'] / max(base['usable_per_minute'], 0.1):.1f}x; "
              f"facts in 3+ wordings: {new['covered_3']}/{new['facts']} vs {base['covered_3']}/{base['facts']}")
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1)
    sample = rng.sample(new["_rows"], min(args.sample, len(new["_rows"])))
    with (args.out / "sample.jsonl").open("w") as fh:
        for question, answer, made_by, strategy, _ in sample:
            fh.write(json.dumps({"question": question, "answer": answer, "made_by": made_by, "strategy": strategy}) + "\n")
    (args.out / "results.json").write_text(json.dumps([{k: v for k, v in r.items() if k != "_rows"} for r in results], indent=1))
    print(f"sample for reading by hand: {args.out / 'sample.jsonl'}")


if __name__ == "__main__":
    main()
