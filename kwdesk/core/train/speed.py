"""How fast training computes here, for the plan's time estimate and the recipe's time budget.

A run measures its own speed and leaves it in the user's state folder; the next plan for the
same set-up (device, precision, base size, method, batch shape, cores) divides by that. Before
any run, a prior from the base's size and the hardware stands in. The prior was measured on
one machine: on a CPU without AVX512-BF16, a laptop's cores, or a GPU it can be off several
times, and on a GPU the CPU formula was off by up to fifty times (a 1.7B base: about 70
tokens a second promised, 3,700 trained on an H200), which made the recipe cut the passes and
the with-sources form as if the run were a day long.

The unit is computed tokens a second: each micro batch padded to its longest sequence, and a
third more where replay is held to the base's distribution (its extra forward pass), the
tokens `estimate_run` counts.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kwdesk.core.base.paths import user_state_dir
from kwdesk.core.base.system import usable_cores

SPEED_FILE = "training-speed.json"
# The newest measurements kept for a set-up; the plan takes their median (one run slowed by
# another job beside it does not set the next estimate).
KEPT = 3
# Steps left out at a run's start (the first steps allocate and warm caches), and the fewest
# steps after them worth recording.
WARM_UP_STEPS = 3
MIN_MEASURED_STEPS = 10
# A step of short sequences (a handful of pairs, nothing to pack) is mostly its fixed cost:
# its speed a token would promise a large run far too long. Recorded only from sequences of
# at least this share of the longest, as packing makes them on real documents.
MIN_SEQUENCE_FILL = 0.25

# Measured on the 2-core development machine with the bundled 135M model: about 115 trained
# tokens a second on the CPU in float32 (BENCHMARKS.md). Scaled by model size and cores, and
# by the speed-up of bf16 products where the CPU has them (2.1x measured by
# bench/bench_cpu_bf16.py on the same machine; train_data.compute_precision).
CPU_TOKENS_PER_S_135M_2_CORES = 115.0
CPU_BF16_SPEEDUP = 2.0
# A GPU before its first run: LoRA's forward and backward cost about 4 x parameters FLOPs a
# token (no gradients for the frozen weights); 12 TFLOPS is what a mid-range consumer card
# sustains on a small model's matrices. An H200 trained faster than this at every size
# (BENCHMARKS.md "On an NVIDIA GPU"), so the first run's plan errs long, never short. At
# small bases the step's fixed overhead rules: 2,480 tokens a second for 135M at 2 x 512 a
# step on the H200, and a little under it assumed for each sequence of the micro batch.
GPU_PRIOR_FLOPS = 12e12
GPU_TOKENS_PER_S_PER_SEQUENCE = 1200.0


@dataclass(frozen=True)
class Setup:
    """What sets training's speed: the measured speed of one set-up is not another's."""

    device: str  # "cpu", or the GPU's name
    precision: str  # "bf16", "fp32", "nf4" (QLoRA)
    parameters: int  # the base's weights
    method: str  # lora, dora, ...: DoRA computes more a token
    micro_batch: int
    max_seq_len: int
    cores: int  # the CPU's usable cores; 0 on a GPU

    @property
    def key(self) -> str:
        return (f"{self.device}|{self.precision}|{self.parameters}|{self.method}|"
                f"{self.micro_batch}x{self.max_seq_len}|{self.cores}")


@dataclass(frozen=True)
class Speed:
    tokens_per_s: float
    measured: bool  # from an earlier run of this set-up here; False: the prior


def current_setup(cfg, parameters: int) -> Setup:
    """The set-up a run of CFG (a TrainConfig) on a base of PARAMETERS weights trains on here."""
    import torch

    from kwdesk.core.train.train_data import compute_precision, training_dtype

    if torch.cuda.is_available():
        precision = "nf4" if cfg.qlora else "bf16" if training_dtype(torch, True) == torch.bfloat16 else "fp32"
        return Setup(torch.cuda.get_device_name(0), precision, parameters, cfg.method, cfg.micro_batch,
                     cfg.max_seq_len, 0)
    return Setup("cpu", compute_precision(torch, "cpu"), parameters, cfg.method, cfg.micro_batch, cfg.max_seq_len,
                 usable_cores())


def prior_tokens_per_s(setup: Setup) -> float:
    """The speed assumed before any run of SETUP here."""
    if setup.device != "cpu":
        return min(GPU_PRIOR_FLOPS / (4 * setup.parameters), GPU_TOKENS_PER_S_PER_SEQUENCE * setup.micro_batch)
    speed = CPU_TOKENS_PER_S_135M_2_CORES * (135e6 / setup.parameters) * (setup.cores / 2)
    return speed * CPU_BF16_SPEEDUP if setup.precision == "bf16" else speed


def training_speed(setup: Setup) -> Speed:
    """The median of this set-up's newest measured speeds here, or the prior."""
    measured = _read().get(setup.key, {}).get("tokens_per_s") or []
    if measured:
        return Speed(statistics.median(measured), True)
    return Speed(prior_tokens_per_s(setup), False)


def record_speed(setup: Setup, tokens_per_s: float) -> None:
    """Keep a run's measured speed for the next plans of SETUP. A state file that cannot be
    written costs estimates only: never the run."""
    if not tokens_per_s > 0:
        return
    speeds = _read()
    entry = speeds.setdefault(setup.key, {})
    entry["tokens_per_s"] = ([*entry.get("tokens_per_s", []), round(tokens_per_s, 1)])[-KEPT:]
    entry["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path = speed_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.part")
        tmp.write_text(json.dumps({"version": 1, "speeds": speeds}, indent=1))
        tmp.replace(path)
    except OSError:
        pass


class SpeedMeter:
    """A run's computed tokens over the seconds its optimizer steps took: the steps' own time,
    not the checkpoints, held-out checks or reports between them, and not the first
    WARM_UP_STEPS."""

    def __init__(self, kl_factor: float, max_seq_len: int) -> None:
        self.kl_factor = kl_factor
        self.max_seq_len = max_seq_len
        self.steps = 0
        self.tokens = 0
        self.sequences = 0
        self.seconds = 0.0

    def add(self, computed_tokens: int, sequences: int, seconds: float) -> None:
        self.steps += 1
        if self.steps > WARM_UP_STEPS:
            self.tokens += computed_tokens
            self.sequences += sequences
            self.seconds += seconds

    @property
    def tokens_per_s(self) -> float | None:
        """The speed, or None when too few steps, or too short sequences, were measured to say."""
        if self.steps - WARM_UP_STEPS < MIN_MEASURED_STEPS or self.seconds <= 0:
            return None
        if self.tokens < MIN_SEQUENCE_FILL * self.max_seq_len * self.sequences:
            return None
        return self.tokens * self.kl_factor / self.seconds


def speed_file() -> Path:
    return user_state_dir() / SPEED_FILE


def _read() -> dict:
    try:
        data = json.loads(speed_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    speeds = data.get("speeds") if isinstance(data, dict) else None
    return speeds if isinstance(speeds, dict) else {}
