"""Proof of learning on a generated handbook of invented facts, with the default model,
this checkout beside a git revision (today's path) in one run.

    .venv/bin/python bench/bench_eval.py [--pages 20] [--baseline 7f21153] [--preset learn-documents] [--probe-limit 100]

Each side runs the commands a user would, in a new workspace: import, generate (questions,
then, after accepting them as a reviewer would, paraphrases), train, export, eval. Both
sides are asked the same held-out questions (docgen.handbook_heldout: four facts of every
paragraph, worded unlike either side's question shapes), so a difference is the data's and
not the questions'. Prints each side's evaluation beside the goal of issue 7: the personal
model closes >= 80% of the gap between base and base + sources closed-book, keeps >= 95% of
the base's right general answers, and with sources beats sources alone.
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

from docgen import handbook_heldout, handbook_pdf  # noqa: E402


def kwdesk(source: Path, ws: Path, *args: str, json_out: bool = True) -> tuple[float, dict | list | None]:
    """Run a kwdesk command of the checkout at SOURCE; (seconds, its --json output)."""
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(source)}
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws), *args, *(["--json"] if json_out else [])],
                          capture_output=True, text=True, env=env, cwd=source)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"kwdesk {' '.join(args)} failed ({source}):\n{proc.stderr[-3000:]}")
    return elapsed, json.loads(proc.stdout) if json_out and proc.stdout.strip() else None


def side(source: Path, ws: Path, pdf: Path, heldout: list[tuple[str, str]], args) -> dict:
    times = {}
    times["import"], _ = kwdesk(source, ws, "import", str(pdf))
    strategies = args.strategies.split(",")
    # Paraphrases are made of accepted questions: accept what qa made, as a reviewer would.
    times["generate"], made = kwdesk(source, ws, "generate", "--strategy", ",".join(s for s in strategies if s != "paraphrase"))
    kwdesk(source, ws, "pairs", "accept", "--all", json_out=False)
    if "paraphrase" in strategies:
        t, _ = kwdesk(source, ws, "generate", "--strategy", "paraphrase")
        times["generate"] += t
    pairs = kwdesk(source, ws, "pairs", "list")[1]
    ids = []
    for question, reference in heldout:
        _, added = kwdesk(source, ws, "pairs", "add", "--question", question, "--answer", reference)
        ids.append(str(added))
    kwdesk(source, ws, "pairs", "holdout", *ids, json_out=False)
    # Contradicting pairs stop training; a reviewer would settle them, the benchmark counts
    # them and trains anyway (the number says how clean the generated data is).
    _, conflicts = kwdesk(source, ws, "conflicts")
    times["train"], trained = kwdesk(source, ws, "train", "--preset", args.preset,
                                     *(["--allow-conflicts"] if conflicts else []),
                                     *(["--replay-kl", str(args.replay_kl)] if args.replay_kl is not None else []))
    times["export"], _ = kwdesk(source, ws, "export", "--quant", args.quant,
                                *(["--strength", str(args.strength)] if args.strength is not None else []))
    times["eval"], result = kwdesk(source, ws, "eval", "--probe-limit", str(args.probe_limit),
                                   "--report", str(ws.parent / f"{ws.name}-report.html"))
    return {"pairs": len(pairs), "conflicts": len(conflicts or []), "trained": trained, "result": result, "times": times,
            "shared": shared_scores(ws, result["eval_id"])}


def shared_scores(ws: Path, eval_id: int) -> dict:
    """Each configuration's score on the shared held-out questions alone (the pairs added by
    hand above); a side's eval also asks held-out wordings its own generation made."""
    import sqlite3

    db = sqlite3.connect(ws / "kwdesk.db")
    try:
        rows = db.execute("SELECT e.config, SUM(e.correct), COUNT(*) FROM eval_items e JOIN pairs p ON p.id = e.pair_id "
                          "WHERE e.eval_id = ? AND e.item_set = 'heldout' AND p.strategy = 'manual' GROUP BY e.config",
                          [eval_id]).fetchall()
    finally:
        db.close()
    return {config: {"correct": right, "total": total, "share": right / total} for config, right, total in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--baseline", default="7f21153", help="git revision of today's path ('none': this checkout only)")
    parser.add_argument("--preset", default="learn-documents")
    parser.add_argument("--strategies", default="qa,paraphrase")
    parser.add_argument("--probe-limit", type=int, default=100)
    parser.add_argument("--quant", default="Q8_0")
    parser.add_argument("--strength", type=float, help="export this share of the trained change (default: the preset's)")
    parser.add_argument("--replay-kl", type=float, help="weight of the KL term at replay answers (default: the preset's)")
    parser.add_argument("--keep", metavar="DIR", help="keep the workspaces here")
    args = parser.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kwdesk-bench-eval-"))
    tmp.mkdir(parents=True, exist_ok=True)
    pdf, _checks = handbook_pdf(tmp / "handbook.pdf", args.pages)
    heldout = handbook_heldout(args.pages)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.pages}-page handbook, {len(heldout)} held-out questions, preset {args.preset}, "
          f"strategies {args.strategies}, {args.quant}", flush=True)
    sides = []
    if args.baseline != "none":
        baseline_src = tmp / "baseline-src"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline_src), args.baseline],
                       capture_output=True, check=True)
        try:
            sides.append((f"baseline {args.baseline}", side(baseline_src, tmp / "ws-baseline", pdf, heldout, args)))
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline_src)],
                           capture_output=True, check=False)
        print(json.dumps(sides[-1][1]["shared"]), flush=True)
    sides.append(("kwdesk (this checkout)", side(REPO, tmp / "ws-kwdesk", pdf, heldout, args)))
    for name, s in sides:
        h, trained = s["shared"], s["trained"]
        print(f"\n{name}: {s['pairs']} training pairs and texts, {s['conflicts']} conflicting pair(s) trained anyway; "
              f"training {trained['steps']} steps, loss {trained['first_loss']:.2f} -> {trained['last_loss']:.2f}")
        own = s["result"]["heldout"]
        print("  shared held-out questions (and the eval's whole held-out set, with the side's own wordings):")
        for config in ("base", "base+rag", "personal", "personal+rag"):
            print(f"  {config:<14} {h[config]['correct']:>4}/{h[config]['total']:<4} {h[config]['share']:6.1%}"
                  f"   ({own[config]['correct']}/{own[config]['total']})")
        gap = s["result"]["gap_closed"]
        print(f"  gap closed (whole set): {'n/a' if gap is None else f'{gap:.0%}'} (goal >= 80%); general questions kept: "
              f"{s['result']['kept']['share']:.0%} of the base's {s['result']['kept']['total']} right answers (goal >= 95%); "
              f"personal + sources {'above' if h['personal+rag']['share'] > h['base+rag']['share'] else 'not above'} sources alone")
        print("  times: " + ", ".join(f"{k} {v:.0f} s" for k, v in s["times"].items()))
    if len(sides) == 2:
        before, after = (s["shared"]["personal"]["share"] for _, s in sides)
        print(f"\nclosed-book on the shared held-out questions: {before:.1%} -> {after:.1%}")
    print(f"workspaces and reports: {tmp}")


if __name__ == "__main__":
    main()
