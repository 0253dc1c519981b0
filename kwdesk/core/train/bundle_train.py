"""Trains a kwdesk training bundle's LoRA adapter on another machine, under accelerate.

    accelerate launch train.py                      # every GPU of this machine, data parallel
    accelerate launch --multi_gpu --num_processes 2 train.py   # no GPU: 2 CPU processes
    accelerate launch --use_fsdp train.py           # a base that does not fit one GPU

This file is copied into every bundle as train.py, beside train_data.py (kwdesk's own
encoding, packing and masking, so a bundle trains exactly what kwdesk would train), the
records (dataset.jsonl) and the configuration (config.json). It needs torch, transformers,
peft and accelerate, not kwdesk. The adapter lands in output/adapter; `kwdesk bundle
import` brings it back into the workspace.

Data parallel: every process takes every WORLD-th micro-batch of the same epoch order, so
one step of N processes sees what N steps of one would.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__:  # imported as part of kwdesk
    from kwdesk.core.train.train_data import (
        encode_record,
        epoch_batches,
        optimizer_steps,
        peft_config,
        training_dtype,
        warmup_cosine,
    )
else:  # run as a bundle's train.py: its own copy of train_data.py, beside it
    sys.path.insert(0, str(HERE))
    from train_data import (  # type: ignore
        encode_record,
        epoch_batches,
        optimizer_steps,
        peft_config,
        training_dtype,
        warmup_cosine,
    )


def load_bundle(folder: Path) -> tuple[dict, list[dict]]:
    config = json.loads((folder / "config.json").read_text())
    records = [json.loads(line) for line in (folder / "dataset.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    return config, records


def choose_base(config: dict, override: str | None) -> str:
    """The base to load: --base, else the local copy the bundle was made from (same machine),
    else its Hub id."""
    if override:
        return override
    local = config["base"].get("local_folder")
    if local and Path(local).is_dir():
        return local
    if config["base"].get("hub_id"):
        return config["base"]["hub_id"]
    raise SystemExit("This bundle's base model is not on this machine; name it with --base (a folder or a Hub id).")


def main(argv: list[str] | None = None) -> None:
    import torch
    from accelerate import Accelerator
    from accelerate.utils import gather_object
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    parser = argparse.ArgumentParser(description="Train a kwdesk bundle's LoRA adapter.")
    parser.add_argument("--bundle", type=Path, default=HERE)
    parser.add_argument("--base", help="a model folder or Hub id (default: the bundle's base)")
    parser.add_argument("--output", type=Path, help="default: BUNDLE/output")
    parser.add_argument("--max-steps", type=int)
    args = parser.parse_args(argv)
    config, records = load_bundle(args.bundle)
    cfg = config["train"]
    output = args.output or args.bundle / "output"

    # Without a GPU, say so: the processes then talk over gloo (MULTI_CPU) instead of each
    # training alone.
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    world, rank = accelerator.num_processes, accelerator.process_index
    cuda = accelerator.device.type == "cuda"
    dtype = training_dtype(torch, cuda)
    base = choose_base(config, args.base)
    tokenizer = AutoTokenizer.from_pretrained(base)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype, use_safetensors=True)
    systems = tuple(cfg.get("system_prompts") or (None,))
    examples = [encode_record(tokenizer, record, cfg["max_seq_len"], systems) for record in records]

    def batches(epoch: int) -> list[list]:
        all_batches = epoch_batches(examples, epoch, seed=cfg["seed"], max_seq_len=cfg["max_seq_len"],
                                    micro_batch=cfg["micro_batch"], packing=cfg["packing"],
                                    sources_every=cfg.get("sources_every", 4) if cfg.get("train_with_sources") else 0)
        # Every process the same number of micro-batches (a short last round is dropped,
        # except when that would leave nothing), then every WORLD-th of them.
        usable = max(world, len(all_batches) // world * world)
        all_batches = (all_batches * world)[:usable] if len(all_batches) < world else all_batches[:usable]
        return all_batches[rank::world]

    per_rank = len(batches(0))
    steps_per_epoch = max(1, math.ceil(per_rank / cfg["grad_accum"]))
    total_steps = args.max_steps or cfg.get("max_steps") or max(1, math.ceil(steps_per_epoch * cfg["epochs"]))

    torch.manual_seed(cfg["seed"])
    model = get_peft_model(model, peft_config(cfg.get("method", "lora"), cfg["rank"], cfg["alpha"], cfg["dropout"],
                                             cfg["target_modules"]))
    # Model and optimizer prepared together: FSDP2 swaps the parameters for its shards and
    # points the optimizer at them (it refuses them one at a time).
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg["learning_rate"],
                                  weight_decay=cfg["weight_decay"])
    model, optimizer = accelerator.prepare(model, optimizer)
    params = [p for p in model.parameters() if p.requires_grad]
    warmup = max(1, int(total_steps * cfg["warmup_ratio"]))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step, warmup, total_steps))
    model.train()

    def micro_batches():
        epoch = 0
        while True:
            yield from batches(epoch)
            epoch += 1

    stream = micro_batches()
    losses, sources_seen, tokens = [], [], 0
    started = time.monotonic()
    # The same loop as kwdesk's own training job, with accelerate's backward, clipping,
    # gradient sync and loss averaging.
    for done in optimizer_steps(
        model, optimizer, scheduler, stream, params, first_step=0, total_steps=total_steps, grad_accum=cfg["grad_accum"],
        pad_id=pad_id, device=accelerator.device, replay_kl=cfg.get("replay_kl") or 0.0,
        backward=accelerator.backward, clip=lambda ps: accelerator.clip_grad_norm_(ps, 1.0),
        no_sync=lambda last: _nothing() if last else accelerator.no_sync(model),
        mean_over_processes=lambda loss: accelerator.reduce(loss, "mean").item(),
    ):
        sources_seen.extend([s for pack in micro for s in pack] for micro in done.sources)
        tokens += done.tokens
        losses.append(round(done.loss, 6))
        if accelerator.is_main_process:
            print(f"step {done.step}/{total_steps}, loss {done.loss:.3f}", flush=True)

    accelerator.wait_for_everyone()
    seen = gather_object([sources_seen])  # which examples each process trained on
    elapsed = time.monotonic() - started
    state = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        adapter = output / "adapter"
        adapter.mkdir(parents=True, exist_ok=True)
        accelerator.unwrap_model(model).save_pretrained(adapter, state_dict=state, safe_serialization=True)
        tokenizer.save_pretrained(adapter)
        (output / "metrics.json").write_text(json.dumps({
            "steps": total_steps, "losses": losses, "world_size": world, "device": accelerator.device.type,
            "distributed_type": str(accelerator.distributed_type).split(".")[-1],
            "tokens_per_second": round(tokens * world / elapsed, 1) if elapsed else 0.0,
            "sources_by_process": seen, "dataset_sha256": config["dataset_sha256"], "base": base,
        }))
        print(f"adapter saved in {adapter}", flush=True)
    accelerator.wait_for_everyone()
    accelerator.end_training()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    main()
