"""Training throughput: packed sequences against padded batches, same data, one run.

    .venv/bin/python bench/bench_train.py [--steps 12] [--pairs 64]

Trains the bundled SmolLM2-135M with LoRA (the learn-documents preset: rank 16, all linear
layers) on data shaped like kwdesk's own (short Q&A pairs and longer rephrasings), first
with kwdesk's packing (whole examples packed into 512-token sequences, 2 a step, a
block-diagonal mask keeping them apart), then one example per sequence, 8 a step, padded
to the longest in the batch. Both see the same examples; the figure is
trained tokens (real tokens, not padding) per second. Peak memory (RSS) is reported.
A third run packs as the first but computes the output layer at every position, as kwdesk
did before it took logits only where a label is learned (`--every-logit`).
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from docgen import INVENTED_FACTS  # noqa: E402

from kwdesk.core.store.workspace import Workspace, write_transaction  # noqa: E402
from kwdesk.core.train.job import TrainJob, device_and_dtype  # noqa: E402
from kwdesk.core.train.presets import preset  # noqa: E402


def make_workspace(root: Path, pairs: int) -> Workspace:
    """Data shaped like what `kwdesk generate` makes: about half Q&A pairs with one-sentence
    answers, half training texts (rephrasings, fact lists) of 2 to 22 sentences. Real
    output of `kwdesk generate` on four documents ran from 35 to 306 tokens an example
    (median 63); this data runs from about 40 to 300."""
    rng = random.Random(3)
    ws = Workspace.open(root)
    db = ws.connect()
    rows = []
    for i in range(pairs):
        fact = rng.choice(INVENTED_FACTS)
        if i % 2:
            rows.append({"question": f"What does the handbook say about {fact.split()[1]} ({i})?", "answer": fact, "kind": "qa", "strategy": "qa"})
        else:
            text = " ".join(rng.choices(INVENTED_FACTS, k=rng.randint(2, 22)))
            rows.append({"question": "", "answer": text, "kind": "rephrase", "strategy": "rephrase"})
    with write_transaction(db):
        db["pairs"].insert_all(rows)
    db.close()
    return ws


def run(ws: Workspace, steps: int, packing: bool) -> tuple[float, float, int]:
    config = preset("learn-documents", max_steps=steps, replay_ratio=0.0, packing=packing, micro_batch=2 if packing else 8, max_seq_len=512,
                    checkpoint_every=10_000, adapt=False)
    result = TrainJob(ws, config).run()
    return result.tokens_per_second, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, result.steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--every-logit", action="store_true", help="also train with logits at every position (before)")
    args = parser.parse_args()
    device, dtype = device_and_dtype()
    print(f"machine: {platform.machine()}, device {device} ({dtype}); {args.pairs} pairs, {args.steps} steps each")
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws", args.pairs)
        start = time.perf_counter()
        packed, mem_packed, _ = run(ws, args.steps, packing=True)
        print(f"packed (2 x 512-token sequences a step): {packed:7.1f} trained tokens/s, peak RSS {mem_packed:.0f} MB, {time.perf_counter() - start:.0f} s")
        start = time.perf_counter()
        padded, mem_padded, _ = run(ws, args.steps, packing=False)
        print(f"padded (8 examples a step):              {padded:7.1f} trained tokens/s, peak RSS {mem_padded:.0f} MB, {time.perf_counter() - start:.0f} s")
    print(f"ratio packed / padded: {packed / padded:.2f}x")
    if args.every_logit:
        from kwdesk.core.train import train_data

        # The old cost: the output layer at every position, the learned ones picked after.
        train_data._logits_at = lambda model, inputs, where: model(**inputs).logits[where]
        with tempfile.TemporaryDirectory() as tmp:
            ws = make_workspace(Path(tmp) / "ws", args.pairs)
            every, _, _ = run(ws, args.steps, packing=True)
        print(f"packed, logits at every position:        {every:7.1f} trained tokens/s")
        print(f"ratio logits at learned tokens / at every position: {packed / every:.2f}x")


if __name__ == "__main__":
    main()
