"""Training speed against what a user would pick instead: TRL's SFTTrainer with packing, on
the same LoRA, the same tokens and labels, the same steps, side by side in one run.

    .venv/bin/python -m pip install trl        # for this benchmark only; kwdesk does not use it
    .venv/bin/python bench/bench_train_trl.py [--pairs 64] [--steps 16]

The data is shaped like `kwdesk generate`'s (bench_train.make_workspace: Q&A pairs and
rephrasings of 40 to 300 tokens). kwdesk encodes it (chat template, loss on the answers
only) and TRL is given exactly those token ids with their completion masks (a pre-tokenized
dataset: TRL does no tokenizing of its own), packed to 512 tokens (TRL's best-fit
decreasing packing, kwdesk's in order), two sequences a step, LoRA rank 16 on every linear
layer, AdamW at 1e-3 with the same warm-up. No replay and no KL term (TRL has neither), one
system prompt. The figure is real tokens trained per second between the first and the last
step (model loading and the first step's warm-up left out), and seconds per step. Both
multiply alike: in bf16 under autocast on a CPU that has it (kwdesk's default there), else in
float32 (KWDESK_CPU_BF16=0 compares float32 on any CPU).
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

from bench_train import make_workspace  # noqa: E402

from kwdesk.core.models.base_models import resolve_base  # noqa: E402
from kwdesk.core.train.job import TrainJob  # noqa: E402
from kwdesk.core.train.presets import preset  # noqa: E402
from kwdesk.core.train.train_data import IGNORE, peft_config  # noqa: E402


def kwdesk_side(ws, cfg) -> dict:
    marks: list[tuple[float, int, int]] = []  # (time, step, tokens so far) at each step

    def progress(p) -> None:
        if p.loss is not None:
            marks.append((time.perf_counter(), p.done, p.tokens or 0))

    TrainJob(ws, cfg).run(progress)
    (t0, s0, k0), (t1, s1, k1) = marks[0], marks[-1]
    return {"seconds_per_step": (t1 - t0) / (s1 - s0), "tokens_per_second": (k1 - k0) / (t1 - t0), "steps": s1}


def same_precision_bf16() -> bool:
    """Whether kwdesk multiplies in bf16 here (train_data.compute_precision): TRL is given the same."""
    import torch

    from kwdesk.core.train.train_data import compute_precision

    return not torch.cuda.is_available() and compute_precision(torch, "cpu") == "bf16"


def trl_side(ws, cfg, examples, out: Path) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    base = resolve_base(None)
    tokenizer = AutoTokenizer.from_pretrained(base.folder)
    model = AutoModelForCausalLM.from_pretrained(base.folder, dtype=torch.float32)
    rows = {"input_ids": [e.input_ids for e in examples],
            "completion_mask": [[int(label != IGNORE) for label in e.labels] for e in examples]}
    marks: list[tuple[float, int, int]] = []
    tokens = {"n": 0}

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            marks.append((time.perf_counter(), state.global_step, tokens["n"]))

    trainer_args = SFTConfig(
        output_dir=str(out), max_steps=cfg.max_steps, per_device_train_batch_size=cfg.micro_batch,
        gradient_accumulation_steps=1, learning_rate=cfg.learning_rate, lr_scheduler_type="cosine",
        warmup_steps=max(1, int(cfg.max_steps * cfg.warmup_ratio)), weight_decay=0.0, optim="adamw_torch",
        max_length=cfg.max_seq_len, packing=True, completion_only_loss=True, logging_steps=1_000_000,
        save_strategy="no", report_to=[], use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0,
        # The same products as kwdesk's: bf16 under autocast on a CPU that has it (TrainingArguments'
        # bf16 on the CPU is torch.autocast too), else float32.
        seed=cfg.seed, bf16=same_precision_bf16(), fp16=False,
    )
    trainer = SFTTrainer(model=model, args=trainer_args, train_dataset=Dataset.from_dict(rows),
                         processing_class=tokenizer,
                         peft_config=peft_config("lora", cfg.rank, cfg.alpha, cfg.dropout, cfg.target_modules),
                         callbacks=[Clock()])
    real_step = trainer.training_step

    def counting_step(model, inputs, *args, **kwargs):  # real tokens (not padding) in each batch
        mask = inputs.get("attention_mask")
        tokens["n"] += int(mask.sum()) if mask is not None and mask.dim() == 2 else int(inputs["input_ids"].numel())
        return real_step(model, inputs, *args, **kwargs)

    trainer.training_step = counting_step
    trainer.train()
    (t0, s0, k0), (t1, s1, k1) = marks[0], marks[-1]
    return {"seconds_per_step": (t1 - t0) / (s1 - s0), "tokens_per_second": (k1 - k0) / (t1 - t0), "steps": s1}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=16)
    args = parser.parse_args()
    import torch
    import trl
    from transformers import AutoTokenizer

    from kwdesk.core.train.train_data import encode_record

    tmp = Path(tempfile.mkdtemp(prefix="kwdesk-bench-trl-"))
    ws = make_workspace(tmp / "ws", args.pairs)
    cfg = preset("learn-documents", adapt=False, max_steps=args.steps, replay_ratio=0.0, replay_kl=0.0,
                 system_prompts=(None,), micro_batch=2, checkpoint_every=10**6)
    # The exact examples kwdesk trains, for TRL too.
    from kwdesk.core.train.job import training_records

    db = ws.connect()
    base = resolve_base(None)
    records = training_records(db, cfg, base).records
    db.close()
    tokenizer = AutoTokenizer.from_pretrained(base.folder)
    examples = [encode_record(tokenizer, r, cfg.max_seq_len) for r in records]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, trl {trl.__version__}; "
          f"{len(examples)} examples, {sum(len(e) for e in examples):,} tokens, {args.steps} steps of 2 x 512 tokens; "
          f"both {'in bf16 products (autocast)' if same_precision_bf16() else 'in float32'}", flush=True)
    ours = kwdesk_side(ws, cfg)
    print(f"kwdesk:           {ours['tokens_per_second']:7.1f} tokens/s, {ours['seconds_per_step']:.2f} s a step", flush=True)
    theirs = trl_side(ws, cfg, examples, tmp / "trl")
    print(f"TRL SFTTrainer:   {theirs['tokens_per_second']:7.1f} tokens/s, {theirs['seconds_per_step']:.2f} s a step",
          flush=True)
    print(f"ratio (kwdesk / TRL, tokens per second): {ours['tokens_per_second'] / theirs['tokens_per_second']:.2f}x")


if __name__ == "__main__":
    main()
