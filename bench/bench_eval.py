"""Proof of learning on a generated handbook of invented facts, with the default model.

    .venv/bin/python bench/bench_eval.py [--pages 20] [--preset learn-documents] [--probe-limit 100]

The commands a user would run, in a new workspace: import, generate (training data and
held-out wordings), train, export, eval. Prints the evaluation beside the goal of issue 7:
the personal model closes >= 80% of the gap between base and base + sources closed-book,
keeps >= 95% of the base's right general answers, and with sources beats sources alone.
The baseline is in the same run: the base model, closed-book and with sources.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from bench_pipeline import kwdesk  # noqa: E402  (the same way of running a command)
from docgen import handbook_pdf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--preset", default="learn-documents")
    parser.add_argument("--strategies", default="qa,paraphrase")
    parser.add_argument("--probe-limit", type=int, default=100)
    parser.add_argument("--quant", default="Q8_0")
    parser.add_argument("--strength", type=float, help="export this share of the trained change (default: the preset's)")
    parser.add_argument("--replay-kl", type=float, help="weight of the KL term at replay answers (default: the preset's)")
    parser.add_argument("--keep", metavar="DIR", help="keep the workspace here")
    args = parser.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kwdesk-bench-eval-"))
    tmp.mkdir(parents=True, exist_ok=True)
    ws = tmp / "ws"
    pdf, _checks = handbook_pdf(tmp / "handbook.pdf", args.pages)
    times = {}
    times["import"], _ = kwdesk(ws, "import", str(pdf))
    strategies = args.strategies.split(",")
    # Paraphrases are made of accepted questions: accept what qa made, as a reviewer would.
    times["generate"], made = kwdesk(ws, "generate", "--strategy", ",".join(s for s in strategies if s != "paraphrase"))
    subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws), "pairs", "accept", "--all"], check=True,
                   capture_output=True)
    if "paraphrase" in strategies:
        t, _ = kwdesk(ws, "generate", "--strategy", "paraphrase")
        times["generate"] += t
    t, held = kwdesk(ws, "generate", "--strategy", "heldout")
    times["generate"] += t
    # Contradicting pairs stop training; a reviewer would settle them, the benchmark counts
    # them and trains anyway (the number says how clean the generated data is).
    conflicts = json.loads(subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws), "conflicts", "--json"],
                                          check=True, capture_output=True, text=True).stdout)
    times["train"], trained = kwdesk(ws, "train", "--preset", args.preset, *(["--allow-conflicts"] if conflicts else []),
                                     *(["--replay-kl", str(args.replay_kl)] if args.replay_kl is not None else []))
    times["export"], _ = kwdesk(ws, "export", "--quant", args.quant,
                                *(["--strength", str(args.strength)] if args.strength is not None else []))
    times["eval"], result = kwdesk(ws, "eval", "--probe-limit", str(args.probe_limit), "--report", str(tmp / "report.html"))

    h = result["heldout"]
    print(f"{args.pages}-page handbook, preset {args.preset}, strategies {args.strategies}, {args.quant}; "
          f"{made['pairs_added']} training pairs, {held['pairs_added']} held-out questions, "
          f"{len(conflicts)} conflicting pair(s) trained anyway")
    print(f"training: {trained['steps']} steps, loss {trained['first_loss']:.2f} -> {trained['last_loss']:.2f}")
    for config in ("base", "base+rag", "personal", "personal+rag"):
        print(f"  {config:<14} {h[config]['correct']:>4}/{h[config]['total']:<4} {h[config]['share']:6.1%}")
    gap = result["gap_closed"]
    print(f"gap closed: {'n/a' if gap is None else f'{gap:.0%}'} (goal >= 80%)")
    print(f"general questions kept: {result['kept']['share']:.0%} of the base's {result['kept']['total']} right answers "
          f"(goal >= 95%); personal + sources {'above' if h['personal+rag']['share'] > h['base+rag']['share'] else 'not above'} "
          f"sources alone")
    print("times: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    print(f"report: {tmp / 'report.html'}")


if __name__ == "__main__":
    main()
