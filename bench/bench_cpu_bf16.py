"""Training on the CPU: bf16 products (torch.autocast) against float32, same data, one run.

    .venv/bin/python bench/bench_cpu_bf16.py [--steps 16] [--pairs 64] [--replay]

kwdesk's own training job (learn-documents' LoRA: rank 16, all linear layers, packed
512-token sequences, two a step) on data shaped like `kwdesk generate`'s
(bench_train.make_workspace), twice from the same seed: with KWDESK_CPU_BF16=0 (float32
throughout, what kwdesk did before) and with the default (bf16 products where the CPU has
AVX512-BF16 or AMX; the weights, the adapter and AdamW stay float32). Prints trained tokens
a second, seconds a step, the losses side by side (the same data in the same order, so they
should stay close) and the ratio. With --replay the default's replay share and KL term run
too (a second forward pass through the base at replay answers).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

from bench_train import make_workspace

from kwdesk.core.train.job import TrainJob
from kwdesk.core.train.presets import preset


def train(root: Path, pairs: int, steps: int, replay: bool, bf16: bool) -> tuple[float, float, list[float]]:
    os.environ["KWDESK_CPU_BF16"] = "1" if bf16 else "0"
    ws = make_workspace(root, pairs)
    config = preset("learn-documents", max_steps=steps, checkpoint_every=10_000, adapt=False, micro_batch=2,
                    train_with_sources=False, **({} if replay else {"replay_ratio": 0.0}))
    start = time.perf_counter()
    result = TrainJob(ws, config).run()
    return result.tokens_per_second, (time.perf_counter() - start) / result.steps, result.losses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--replay", action="store_true")
    args = parser.parse_args()
    import torch

    from kwdesk.core.train.train_data import cpu_has_bf16

    print(f"machine: {platform.machine()} {platform.processor() or ''}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, native bf16: {cpu_has_bf16(torch)}; "
          f"{args.pairs} pairs, {args.steps} steps each{', with replay' if args.replay else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        f32, f32_step, f32_losses = train(Path(tmp) / "fp32", args.pairs, args.steps, args.replay, bf16=False)
        print(f"float32:       {f32:7.1f} trained tokens/s, {f32_step:5.2f} s a step (with loading)", flush=True)
        b16, b16_step, b16_losses = train(Path(tmp) / "bf16", args.pairs, args.steps, args.replay, bf16=True)
        print(f"bf16 products: {b16:7.1f} trained tokens/s, {b16_step:5.2f} s a step (with loading)")
    print("losses, float32 | bf16:")
    for step, (a, b) in enumerate(zip(f32_losses, b16_losses), 1):
        print(f"  step {step:3d}: {a:.3f} | {b:.3f}")
    print(f"ratio bf16 / float32 (trained tokens a second): {b16 / f32:.2f}x")


if __name__ == "__main__":
    main()
