"""The ways of training a personal model that kwdesk offers, and what each can become.

Every method is a peft adapter on the frozen base (train_data.peft_config builds it, in the
training job and in a bundle alike), trained by the same loop on the same data, so that
`kwdesk compare` measures the method and nothing else:
- LoRA: low-rank updates of the chosen projections (Hu et al., 2021). Merges into the
  base, and llama.cpp can also apply it as a small adapter file on a shared base.
- DoRA: LoRA with each weight's direction and magnitude trained apart (Liu et al., 2024);
  merges into the base, but llama.cpp has no DoRA adapters, so no adapter file.
- (IA)3: learned scales of the keys, values and feed-forward activations (Liu et al.,
  2022): thousands of parameters where LoRA has millions; merges into the base.
- Prefix tuning: learned keys and values put before every layer's attention (Li & Liang,
  2021), the model's own weights untouched. llama.cpp cannot load them, so it never becomes
  a model file: kwdesk trains it on unpacked sequences (peft's prefix cannot take the packed
  sequences' block masks) and evaluates it under transformers, so that the expert sees
  what the memory-style method learns and keeps beside the others, marked "cannot be
  exported".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kwdesk.core.train.presets import TrainConfig


@dataclass(frozen=True)
class Method:
    name: str  # as TrainConfig.method and `kwdesk compare --methods` spell it
    label: str  # for people
    summary: str
    adapter_file: bool  # whether llama.cpp can apply it as an adapter file on a shared base
    # The learning rate relative to the preset's: (IA)3's few scales learn slowly at LoRA's rate
    # (its authors trained at 3e-3).
    rate_factor: float = 1.0
    # Whether it becomes a model file llama.cpp runs (merged into the base); None: it does,
    # else the reason it cannot, said beside every comparison and by `kwdesk export`.
    cannot_export: str | None = None
    packs: bool = True  # trains on packed sequences (block-diagonal masks)

    @property
    def exportable(self) -> bool:
        return self.cannot_export is None


METHODS: dict[str, Method] = {
    "lora": Method("lora", "LoRA", "low-rank updates of every projection (the default)", adapter_file=True),
    "dora": Method("dora", "DoRA", "LoRA with the weights' direction and size trained apart", adapter_file=False),
    "ia3": Method("ia3", "(IA)3", "learned scales of keys, values and feed-forward: the fewest parameters",
                  adapter_file=False, rate_factor=3.0),
    "prefix": Method("prefix", "Prefix tuning",
                     "learned keys and values before every layer's attention; runs in Python only",
                     adapter_file=False, packs=False,
                     cannot_export="llama.cpp cannot load the keys and values prefix tuning learns for every layer's "
                                   "attention; it runs under transformers (Python) only"),
}


class UnknownMethod(ValueError):
    pass


def method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise UnknownMethod(f"unknown training method {name!r}; choose from {', '.join(METHODS)}") from None


def with_method(cfg: TrainConfig, name: str) -> TrainConfig:
    """CFG trained by method NAME, at that method's share of the preset's learning rate."""
    chosen = method(name)
    if cfg.method == name:
        return cfg
    previous = METHODS[cfg.method]
    rate = cfg.learning_rate / previous.rate_factor * chosen.rate_factor
    # Packing is the preset's unless a method cannot take packed sequences.
    packing = False if not chosen.packs else (True if not previous.packs else cfg.packing)
    return replace(cfg, method=name, learning_rate=rate, packing=packing)


def cannot_export(name: str) -> str | None:
    """Why a run trained by method NAME cannot become a model file (None: it can)."""
    found = METHODS.get(name)
    return found.cannot_export if found is not None else None
