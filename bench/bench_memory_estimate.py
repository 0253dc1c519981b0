"""The training plan's memory estimate against what a run then uses, preset by preset.

    .venv/bin/python bench/bench_memory_estimate.py [--pages 2] [--steps 8] [--preset quick-try ...]

A handbook of invented facts is imported and its held-out questions are added as accepted
pairs by hand (no teacher, so the figure is the training's alone). For each preset,
`kwdesk train --plan` gives the estimate and `kwdesk train --max-steps N` the peak resident
memory of the training process (TrainResult.peak_memory_mb, the same figure the Train
page shows while it trains). The ratio is measured / estimated: near 1 is the goal, above
1 means the plan promised less memory than the run took.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from bench_eval import kwdesk  # noqa: E402
from docgen import handbook_heldout, handbook_pdf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--preset", action="append", default=None)
    args = parser.parse_args()
    presets = args.preset or ["quick-try", "learn-documents"]
    tmp = Path(tempfile.mkdtemp(prefix="kwdesk-memory-"))
    try:
        ws = tmp / "ws"
        pdf, _ = handbook_pdf(tmp / "handbook.pdf", args.pages)
        kwdesk(REPO, ws, "import", str(pdf))
        for question, answer in handbook_heldout(args.pages):
            kwdesk(REPO, ws, "pairs", "add", "--question", question, "--answer", answer)
        print(f"machine: {platform.machine()}, {platform.system()}, python {platform.python_version()}")
        print(f"{'preset':<18} {'estimated MB':>12} {'used MB':>8} {'used/estimated':>15}")
        for name in presets:
            _, plan = kwdesk(REPO, ws, "train", "--preset", name, "--plan")
            _, trained = kwdesk(REPO, ws, "train", "--preset", name, "--max-steps", str(args.steps))
            estimated, used = plan["estimated_memory_mb"], trained["peak_memory_mb"]
            print(f"{name:<18} {estimated:>12.0f} {used:>8.0f} {used / estimated:>15.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
