"""How much of the trained change a model file takes, against what it learns and keeps.

    .venv/bin/python bench/bench_strength.py /tmp/bench-hb1/ws-default [--strengths 0.4,0.55,0.7,0.85,1.0]

One trained run (the newest of a bench_recipe.py workspace, kept with --keep), exported at
each strength (`kwdesk export RUN --strength S`: that share of the adapter's change merged,
the weights between the base and the trained model) and each file evaluated like for like
(`kwdesk eval`: the shared held-out questions closed-book and with sources, general answers
and replay answers kept under the three system prompts). The same adapter throughout, so
the rows trace the trade-off between learning and forgetting that one training run offers,
and show whether any strength meets both of issue 21's bars (45% closed-book, 97% kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from bench_eval import kwdesk, shared_scores  # noqa: E402
from bench_recipe import _by_prompt  # noqa: E402


def newest_finished_run(ws: Path) -> int:
    db = sqlite3.connect(ws / "kwdesk.db")
    try:
        row = db.execute("SELECT max(id) FROM runs WHERE status = 'done' AND kind = 'train'").fetchone()
    finally:
        db.close()
    if not row or row[0] is None:
        raise SystemExit(f"{ws} has no finished run: train one first (bench_recipe.py --keep DIR)")
    return row[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--strengths", default="0.4,0.55,0.7,0.85,1.0")
    parser.add_argument("--probe-limit", type=int, default=16)
    parser.add_argument("--quant", default=None, help="the model file's quantization (default: kwdesk's)")
    args = parser.parse_args()
    run = newest_finished_run(args.workspace)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.workspace}, run {run}", flush=True)
    rows = []
    for strength in [float(s) for s in args.strengths.split(",")]:
        started = time.perf_counter()
        _, exported = kwdesk(REPO, args.workspace, "export", str(run), "--strength", str(strength),
                             *(["--quant", args.quant] if args.quant else []))
        _, result = kwdesk(REPO, args.workspace, "eval", str(exported["model_id"]), "--probe-limit", str(args.probe_limit))
        h = shared_scores(args.workspace, result["eval_id"])
        rows.append(f"strength {strength:<5g} closed-book {h['personal']['correct']:>3}/{h['personal']['total']:<3} "
                    f"sources {h['personal+rag']['correct']:>3}/{h['personal+rag']['total']:<3} "
                    f"(base {h['base']['correct']}, base+sources {h['base+rag']['correct']})  kept {_by_prompt(result)}  "
                    f"{time.perf_counter() - started:.0f} s")
        print(rows[-1], flush=True)
    print("\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
