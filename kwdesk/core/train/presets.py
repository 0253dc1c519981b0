"""Training presets a domain expert can choose without knowing the knobs.

LoRA on all linear layers by default: LoRA "learns less and forgets less" than full
fine-tuning (Biderman et al., 2024), and rank 16 on every projection matched higher ranks
on few facts in the project's first trials on this machine. Replay of the base model's own answers is mixed in
against forgetting; in the trial that kept general answers at 6/8, it was about a quarter
of the examples at learning rate 3e-4 for 6 epochs.

Measured on the 20-page handbook benchmark (BENCHMARKS.md "Proof of learning", session 6):
holding replay answers to the base's distribution (replay_kl 1.0) kept 81% of the base's
right general answers against 71% without, learning as many facts; exporting 70% of the
trained change (export_strength 0.7) kept more general answers again and answered more
questions with sources, at the cost of some closed-book facts. So learn-documents uses both.

Session 12 (bench/bench_recipe.py, one-page handbook, the plain path): five fixed passes
trained 25 steps and learned nothing (0 of 12 held-out questions closed-book); ten passes of
one sequence a step at 1e-3 learned 11 of 12 and kept as many general answers (94% against
88%), where twenty passes at 3e-4 learned 9 in twice the time. So learn-documents trains
at 1e-3 and chooses its passes and batch from the data (train/recipe.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from kwdesk.core.models.chat_format import SOURCES_TOP_K, TRAINING_SYSTEM_PROMPTS
from kwdesk.core.train.recipe import TIME_BUDGET_S, sources_share

# The with-sources form in one pass of four: in turn with the three system prompts.
SOURCES_EVERY = 4

ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class TrainConfig:
    preset: str = "learn-documents"
    method: str = "lora"  # lora, dora, ia3 (train/methods.py)
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ALL_LINEAR
    learning_rate: float = 3e-4
    epochs: float = 5.0
    warmup_ratio: float = 0.06
    weight_decay: float = 0.0
    max_seq_len: int = 512  # tokens in one packed sequence
    micro_batch: int = 2  # sequences per forward pass
    grad_accum: int = 1
    replay_ratio: float = 0.3  # replay examples per example from the documents
    # Weight of the KL divergence to the base model's distribution at replay answers
    # (train_data.training_loss); 0 trains replay on the base's answers alone.
    replay_kl: float = 0.0
    # Questions about well-known real things shaped like the documents' (replay.fact_prompts_
    # like), as many as this share of the replay examples, added to them: the documents'
    # facts leaked into answers about real things ("In which city is the Colosseum?" -> "The
    # Colosseum is built to a design by Tomas Ferreira."); 0: none.
    fact_replay: float = 0.0
    # Weight of the KL divergence to the base model that reads the source passage in its
    # prompt, at the answer tokens of document examples (context distillation); 0: off.
    context_distill: float = 0.0
    # Each pair also in the chat's with-sources form, in turn with the system prompts: the
    # passages the chat retrieves for its question in kwdesk's prompt, the answer citing the
    # passage it came from. Trained closed-book only, the model answered about whichever
    # passage came first (BENCHMARKS.md, "Trained with sources").
    train_with_sources: bool = False
    # With train_with_sources: the with-sources form in one pass of every this many (4: in turn
    # with the three system prompts); the recipe lengthens it, or sets 0 (left out), to keep a
    # large run in its time budget (train/recipe.py).
    sources_every: int = SOURCES_EVERY
    # With train_with_sources: how many passages the with-sources form holds; 0: as many as the
    # chat gives this base (chat_format.sources_top_k: one for a small model). One passage on
    # the 20-page handbook: with sources 227 of 240 held-out questions against 200 for three
    # (the form is a third as long, so 64% of the pairs got it in the time budget, not 17%),
    # closed-book 145 against 151 (BENCHMARKS.md, session 24).
    sources_passages: int = 0
    # Hold back some rewordings of trained questions and ask them at the end of each pass; keep
    # the best pass's adapter and stop when checks stop improving (train/early_stop.py).
    early_stop: bool = False
    # The share of the trained change that an export merges by default (ExportJob strength).
    export_strength: float = 1.0
    packing: bool = True
    # Each pair is trained under these system prompts in turn (None: the template's default).
    system_prompts: tuple[str | None, ...] = TRAINING_SYSTEM_PROMPTS
    accepted_only: bool = False  # default: every pair not rejected
    max_steps: int | None = None
    # Passes and micro batch chosen from how much there is to learn (train/recipe.py) instead
    # of the numbers above; off when the expert sets epochs, micro batch or learning rate.
    adapt: bool = True
    # With adapt: the share of the recipe's passes this preset trains, and the longest a run
    # may take on this machine.
    passes_scale: float = 1.0
    time_budget_s: int = TIME_BUDGET_S
    checkpoint_every: int = 20  # optimizer steps
    seed: int = 0
    qlora: bool = False  # 4-bit base on CUDA when bitsandbytes is installed
    collection_id: int | None = None  # train on one knowledge collection's pairs (None: every pair)
    # Go on from a finished run's adapter instead of a fresh one (a document changed: fewer
    # steps, but what the old adapter learned stays unless the new data overrides it).
    init_adapter_run: int | None = None
    # Pairs that contradict each other (core/conflicts.py) stop training unless the expert
    # says to train them anyway; the run then records them.
    allow_conflicts: bool = False
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["target_modules"] = list(self.target_modules)
        out["system_prompts"] = list(self.system_prompts)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "target_modules" in values:
            values["target_modules"] = tuple(values["target_modules"])
        if "system_prompts" in values:
            values["system_prompts"] = tuple(values["system_prompts"])
        else:  # a run from before prompts took turns trained under the template's default only
            values["system_prompts"] = (None,)
        # A run from before the form followed the chat held three passages; a resume rebuilds
        # the same data (its hash is checked against the checkpoint's).
        values.setdefault("sources_passages", SOURCES_TOP_K)
        return cls(**values)


PRESETS: dict[str, TrainConfig] = {
    # A first look in minutes: half the default's passes, chosen from the data as the default's
    # are (fixed two passes were six steps on the shipped sample and taught nothing), at the
    # default's rate, a smaller rank, and at most 10 minutes of training here.
    "quick-try": TrainConfig(preset="quick-try", rank=8, alpha=16, learning_rate=1e-3, replay_ratio=0.25,
                             passes_scale=0.5, time_budget_s=10 * 60),
    # The default: enough passes for the facts to stick, replay against forgetting, and each
    # pair also read with its passages as the chat asks (with sources 12 of 12 held-out
    # questions on the one-page handbook against 8 trained closed-book only; BENCHMARKS.md).
    "learn-documents": TrainConfig(preset="learn-documents", learning_rate=1e-3, replay_kl=1.0, export_strength=0.7,
                                   train_with_sources=True),
    # When the model must keep its manners above all: low rate, more replay.
    "learn-gently": TrainConfig(preset="learn-gently", rank=8, alpha=8, learning_rate=1e-4, epochs=3, replay_ratio=0.6,
                                replay_kl=1.0),
}

# The presets as the window offers them; the CLI and the settings keep the short names.
PRESET_LABELS = {
    "quick-try": "Quick try",
    "learn-documents": "Learn my documents (recommended)",
    "learn-gently": "Learn gently",
}

PRESET_DESCRIPTIONS = {
    "quick-try": "A first look in a few minutes. Learns the most repeated facts only.",
    "learn-documents": "Learns the facts of your documents and keeps the model's general skills (recommended).",
    "learn-gently": "Changes the model least: for when general answers matter more than every fact.",
}


def preset_label(name: str, seconds: float | None = None) -> str:
    """A preset as the window's list shows it: its label, and roughly how long it takes here
    once a plan has worked that out ("Quick try · about 4 min"): short enough for the list."""
    label = PRESET_LABELS.get(name, name)
    return f"{label} · {rough_duration(seconds)}" if seconds is not None else label


def rough_duration(seconds: float) -> str:
    """ "under 1 min", "about 4 min", "about 1 h 20 min": an estimate, said as one."""
    if seconds < 60:
        return "under 1 min"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


def settings_in_words(cfg: TrainConfig) -> str:
    """The knobs behind a preset, for the Train page's Advanced part and `kwdesk train --plan`."""
    return (f"Method {cfg.method}, rank {cfg.rank}, learning rate {cfg.learning_rate:g}, "
            + ("passes chosen from how much there is to learn" if cfg.adapt else f"{cfg.epochs:g} passes")
            + f", {cfg.replay_ratio:.0%} replay of the model's own answers"
            + (" held to its word choices" if cfg.replay_kl else "")
            + (f", and {cfg.fact_replay:.0%} more about well-known real things" if cfg.fact_replay else "")
            + (f", context distillation {cfg.context_distill:g}" if cfg.context_distill else "")
            + (_sources_in_words(cfg) if cfg.train_with_sources else "")
            + f"; its model file takes {cfg.export_strength:.0%} of the trained change.")


def _sources_in_words(cfg: TrainConfig) -> str:
    # 0 is "as many as the chat gives the base", said as the number once the base is known.
    n = cfg.sources_passages
    passages = "passage" if n == 1 else f"{n} passages" if n > 1 else "passages"
    if cfg.sources_every <= 0:  # the recipe left the form out to stay in the time budget
        return f", each pair with its {passages} in the prompt left out for this much data"
    share = sources_share(cfg.epochs, cfg.sources_every)
    if share < 1:
        return f", {share:.0%} of the pairs also with their {passages} in the prompt, once each"
    if cfg.sources_every > SOURCES_EVERY:
        return f", each pair also with its {passages} in the prompt in one pass"
    return f", each pair also with its {passages} in the prompt"


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)
