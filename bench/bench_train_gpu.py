"""kwdesk's training on an NVIDIA GPU: bf16 LoRA and QLoRA, speed and memory, resume.

    python bench/bench_train_gpu.py --tokenizer FOLDER [--out results.json] [--budget-s 420]

Runs kwdesk's own TrainJob (the code path the app and `kwdesk train` use) on CUDA, for
bases of three sizes shaped like real ones: SmolLM2-135M (the bundled model), SmolLM2-1.7B
and Llama-3.1-8B. The bases are made here with random weights from their configurations
(only the shapes matter for speed and memory, and a GPU machine may have no model files);
the tokenizer is the bundled model's. For each size it trains the same data
packed (kwdesk's default: 512-token sequences, a block-diagonal mask) and padded (the
baseline: one example a sequence), in bf16 and, where bitsandbytes is installed, as QLoRA
(4-bit NF4 base). Figures: trained tokens (real, not padding) per second and peak GPU
memory (torch.cuda.max_memory_allocated). Then a resume check: a run cancelled at step 4
and resumed must give the losses of an uninterrupted run.

The sizes run in order and stop once the time budget is spent, so a short GPU loan still
returns the first figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_train import make_workspace  # noqa: E402

from kwdesk.core.base.jobs import Cancelled  # noqa: E402
from kwdesk.core.train.job import TrainJob, device_and_dtype  # noqa: E402
from kwdesk.core.train.presets import preset  # noqa: E402

# Shapes of real bases (from their published config.json), vocabulary cut to the tokenizer's.
SHAPES = {
    "SmolLM2-135M": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, head_dim=64, tie_word_embeddings=True),
    "SmolLM2-1.7B": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=24, num_attention_heads=32,
                         num_key_value_heads=32, head_dim=64, tie_word_embeddings=True),
    "Llama-3.1-8B-shape": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                               num_key_value_heads=8, head_dim=128, tie_word_embeddings=False),
}


def make_base(tokenizer_dir: Path, shape: dict, target: Path) -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(tokenizer_dir)
    for key, value in shape.items():
        setattr(config, key, value)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(target, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        if (tokenizer_dir / name).is_file():
            shutil.copy(tokenizer_dir / name, target / name)
    del model
    return target


WARM_UP_STEPS = 5  # the first steps pick kernels and grow the allocator's pool


def train(ws, base: Path, steps: int, packing: bool, qlora: bool, micro_batch: int) -> dict:
    config = preset("learn-documents", max_steps=steps, replay_ratio=0.0, packing=packing, micro_batch=micro_batch,
                    max_seq_len=512, checkpoint_every=10_000, qlora=qlora)
    marks = {}

    def note(p):  # (time, tokens) after the warm-up and at the end: the steady rate
        if p.done in (WARM_UP_STEPS, steps):
            marks[p.done] = (time.perf_counter(), p.tokens)

    start = time.perf_counter()
    result = TrainJob(ws, config, base=str(base)).run(note)
    (t0, n0), (t1, n1) = marks[WARM_UP_STEPS], marks[steps]
    return {"tokens_per_second": round((n1 - n0) / (t1 - t0)), "tokens_per_second_with_warm_up": round(result.tokens_per_second),
            "peak_gpu_mb": round(result.peak_memory_mb),
            "first_loss": round(result.losses[0], 3), "last_loss": round(result.losses[-1], 3),
            "seconds": round(time.perf_counter() - start, 1)}


def resume_check(ws, base: Path) -> dict:
    config = preset("learn-documents", max_steps=8, replay_ratio=0.0, micro_batch=2, checkpoint_every=100)
    job = TrainJob(ws, config, base=str(base))

    def cancel_at_four(p):
        if p.done == 4:
            job.cancel()

    try:
        job.run(cancel_at_four)
    except Cancelled:
        pass
    run_id = ws.connect().execute("SELECT max(id) FROM runs").fetchone()[0]
    resumed = TrainJob(ws, resume_run=run_id).run()
    reference = TrainJob(ws, config, base=str(base)).run()
    worst = max(abs(a - b) / max(abs(b), 1e-9) for a, b in zip(resumed.losses, reference.losses))
    return {"resumed_losses": resumed.losses, "reference_losses": reference.losses, "max_relative_difference": worst}


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", type=Path, required=True, help="folder with the bundled model's config and tokenizer")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--budget-s", type=float, default=420)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sizes", nargs="*", default=list(SHAPES), help="which of the shapes to run")
    parser.add_argument("--allow-cpu", action="store_true", help="dry run of this script on a machine without a GPU")
    args = parser.parse_args()
    started = time.monotonic()
    device, dtype = device_and_dtype()
    assert device == "cuda" or args.allow_cpu, "this benchmark needs an NVIDIA GPU"
    has_bnb = importlib.util.find_spec("bitsandbytes") is not None
    report = {"gpu": torch.cuda.get_device_name() if device == "cuda" else "none (CPU)", "torch": torch.__version__, "dtype": str(dtype),
              "bitsandbytes": has_bnb, "steps": args.steps, "pairs": args.pairs, "sizes": {}}
    print(f"{report['gpu']}, torch {torch.__version__}, {dtype}, bitsandbytes {'yes' if has_bnb else 'no'}", flush=True)

    def save():
        if args.out:
            args.out.write_text(json.dumps(report, indent=2))

    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws", args.pairs)
        for name, shape in [(n, SHAPES[n]) for n in args.sizes]:
            if time.monotonic() - started > args.budget_s:
                print(f"{name}: skipped, time budget spent", flush=True)
                break
            base = make_base(args.tokenizer, shape, Path(tmp) / name)
            params = sum(f.stat().st_size for f in base.glob("*.safetensors")) / 2 / 1e9
            figures = {"params_billion": round(params, 2)}
            report["sizes"][name] = figures
            # kwdesk's preset (2 packed sequences a step), a GPU-sized step (8 packed), the baseline
            # (8 padded examples), QLoRA at the GPU-sized step.
            runs = [("bf16 packed x2", True, False, 2), ("bf16 packed", True, False, 8), ("bf16 padded", False, False, 8)]
            if has_bnb:
                runs += [("qlora packed", True, True, 8)]
            for label, packing, qlora, micro_batch in runs:
                try:
                    figures[label] = train(ws, base, args.steps, packing, qlora, micro_batch)
                except Exception as exc:  # a failure is a finding: record it and go on
                    figures[label] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
                print(f"{name} ({params:.2f}B) {label}: {figures[label]}", flush=True)
                save()
                if device == "cuda":
                    torch.cuda.empty_cache()
            if "bf16 packed" in figures and "tokens_per_second" in figures["bf16 packed"] and "tokens_per_second" in figures["bf16 padded"]:
                ratio = figures["bf16 packed"]["tokens_per_second"] / figures["bf16 padded"]["tokens_per_second"]
                figures["ratio packed/padded"] = round(ratio, 2)
                print(f"{name}: ratio packed / padded {ratio:.2f}x", flush=True)
            if name == "SmolLM2-135M":
                report["resume"] = resume_check(ws, base)
                print(f"resume on CUDA: max relative loss difference {report['resume']['max_relative_difference']:.2e}", flush=True)
            shutil.rmtree(base)
            save()
    print(f"total {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
