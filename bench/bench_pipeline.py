"""From a 20-page PDF to a verified personal GGUF answering questions, with the default
base model and teacher (the bundled SmolLM2-135M), on this machine, stage by stage.

    .venv/bin/python bench/bench_pipeline.py [--pages 20] [--preset quick-try] [--strategies qa,entities,rephrase]

Runs the same commands a user would (kwdesk import, generate, train, export, chat) in a new
workspace and prints the time of each stage and the total.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from docgen import handbook_pdf  # noqa: E402


def kwdesk(ws: Path, *args: str) -> tuple[float, dict | list | None]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws), *args, "--json"],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"kwdesk {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return elapsed, json.loads(proc.stdout) if proc.stdout.strip() else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--preset", default="quick-try")
    parser.add_argument("--strategies", default="qa,entities,rephrase")
    parser.add_argument("--quant", default="Q4_K_M")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        pdf, checks = handbook_pdf(Path(tmp) / "handbook.pdf", args.pages)
        stages = []
        t, out = kwdesk(ws, "import", str(pdf))
        stages.append(("import", t, f"{out[0]['pages']} pages, {out[0]['chunks']} chunks"))
        t, out = kwdesk(ws, "generate", "--strategy", args.strategies)
        stages.append(("generate", t, f"{out['pairs_added']} pairs and texts, {out['tokens_per_second']} tokens/s"))
        t, out = kwdesk(ws, "train", "--preset", args.preset)
        stages.append(("train", t, f"{out['steps']} steps, loss {out['first_loss']:.2f} -> {out['last_loss']:.2f}, "
                                   f"{out['tokens_per_second']} tokens/s"))
        t, out = kwdesk(ws, "export", "--quant", args.quant)
        v = out["verification"]
        stages.append(("export", t, f"{args.quant}, {out['size_bytes'] / 1e6:.0f} MB, agreement {v['agreement']:.0%}"))
        right = 0
        start = time.perf_counter()
        for question, expected in checks:
            _, reply = kwdesk(ws, "chat", "--once", question)
            right += expected in reply["answer"]
        stages.append(("chat", time.perf_counter() - start, f"{right}/{len(checks)} held-in 'when was it built' facts right"))
    total = 0.0
    for name, seconds, note in stages:
        total += seconds
        print(f"{name:<9} {seconds:7.1f} s   {note}")
    print(f"total     {total:7.1f} s = {total / 60:.1f} min ({args.pages}-page PDF, preset {args.preset}, "
          f"strategies {args.strategies})")


if __name__ == "__main__":
    main()
