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
Prefix tuning is not offered: its virtual tokens sit in every layer's attention cache,
which llama.cpp cannot load, and peft's prefix tuning cannot take kwdesk's packed
sequences (their attention masks keep examples apart). It would be a model that can never
leave Python.
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


METHODS: dict[str, Method] = {
    "lora": Method("lora", "LoRA", "low-rank updates of every projection (the default)", adapter_file=True),
    "dora": Method("dora", "DoRA", "LoRA with the weights' direction and size trained apart", adapter_file=False),
    "ia3": Method("ia3", "(IA)3", "learned scales of keys, values and feed-forward: the fewest parameters",
                  adapter_file=False, rate_factor=3.0),
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
    rate = cfg.learning_rate / METHODS[cfg.method].rate_factor * chosen.rate_factor
    return replace(cfg, method=name, learning_rate=rate)
