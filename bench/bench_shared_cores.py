"""The teacher on shared cores: a thread per core, one thread, the cores left free when the
model loaded, and following the cores left free per request (llama_set_n_threads after
base/system.CoreWatch), side by side in one run, alone, beside a second generation and
beside a training run.

Each generation asks the bundled teacher kwdesk's question prompts for the invented facts
(--prompts, --tokens new tokens each, greedy). The training run is the bundled model in
transformers doing forward and backward passes on 256-token batches with torch's default
threads, as `kwdesk train` does on a CPU. Tokens per second of the measured generation.

    .venv/bin/python bench/bench_shared_cores.py [--prompts 12] [--tokens 40]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _generate(mode: str, prompts: int, tokens: int) -> float:
    from docgen import INVENTED_FACTS

    from kwdesk.core.data.prompts import question_messages
    from kwdesk.core.data.teacher import LlamaCppTeacher
    from kwdesk.core.models.bundled import bundled_model_path
    from kwdesk.core.text.anchors import sentence_kind

    if mode == "one core":
        teacher = LlamaCppTeacher(bundled_model_path(), n_threads=1)
    else:
        teacher = LlamaCppTeacher(bundled_model_path(), thread_policy=mode)
    made = 0
    started = time.monotonic()
    for i in range(prompts):
        fact = INVENTED_FACTS[i % len(INVENTED_FACTS)]
        out = teacher.chat(question_messages(fact, sentence_kind(fact)), max_tokens=tokens, temperature=0.7, seed=i)
        made += out.completion_tokens
    rate = made / (time.monotonic() - started)
    teacher.close()
    return rate


def _train(stop) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from kwdesk.core.models.base_models import resolve_base

    model = AutoModelForCausalLM.from_pretrained(str(resolve_base(None).folder), torch_dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    batch = torch.randint(0, 1000, (2, 256))
    while not stop.is_set():
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def measure(mode: str, beside: str, prompts: int, tokens: int) -> float:
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    other = None
    if beside == "a training run":
        other = ctx.Process(target=_train, args=(stop,))
        other.start()
        time.sleep(20)  # the model loaded and the steps running
    elif beside == "a second generation":
        other = ctx.Process(target=_generate, args=(mode, prompts * 3, tokens))
        other.start()
        time.sleep(3)
    rate = _generate(mode, prompts, tokens)
    if other is not None:
        stop.set()
        if beside == "a second generation":
            other.terminate()  # it had more prompts than the measured one: still running
        other.join(60)
        if other.is_alive():
            other.kill()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=40)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    modes = ("every core", "one core", "free at load", "follow")
    print(f"{'beside':<22} " + " ".join(f"{m:>12}" for m in modes) + "   (teacher tokens/s; both generations in the same mode)")
    for beside in ("nothing", "a second generation", "a training run"):
        rates = [measure(mode, beside, args.prompts, args.tokens) for mode in modes]
        print(f"{beside:<22} " + " ".join(f"{r:>12.1f}" for r in rates), flush=True)


if __name__ == "__main__":
    main()
