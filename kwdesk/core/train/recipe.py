"""How long and how hard to train, from how much there is to learn.

A preset's fixed five passes trained a one-page document for 25 steps, and the model
learned none of its facts (0 of 12 held-out questions closed-book, BENCHMARKS.md "A recipe
that adapts to the data"); the same five passes over a 200-page manual take hours. Facts
stick after enough updates that see them, so a small data set gets more passes and
smaller batches (more updates for the same work), a large one fewer passes, and the time
a run may take on this machine caps both. The figures are measured by bench/bench_recipe.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

# Passes over the documents' examples: PASSES_AT_100 for 100 examples, more for fewer (by
# the square root), never fewer than MIN_PASSES nor more than MAX_PASSES. A fact sticks
# after the model has seen it often enough, whatever else there is: nine passes taught a
# one-page document 10-11 of 12 held-out facts, where three passes over the 20-page
# handbook's 752 examples taught 14% (BENCHMARKS.md, sessions 12, 13 and 20). So large data
# no longer gets fewer passes for its size; only the time a run may take cuts them.
PASSES_AT_100 = 6.0
MIN_PASSES = 9.0
MAX_PASSES = 24.0
# The time budget cuts passes down to this, never below (a 200-page manual on 2 cores).
BUDGET_MIN_PASSES = 3.0
# At most this many sequences an optimizer step while an epoch has few (small data learns
# from the number of updates); a preset's own micro batch above that.
SMALL_DATA_SEQUENCES = 24
# A run planned longer than this on this machine is given fewer passes (down to
# BUDGET_MIN_PASSES).
TIME_BUDGET_S = 45 * 60


@dataclass(frozen=True)
class Adapted:
    """A recipe chosen for the data, and why, in words for the plan."""

    epochs: float
    micro_batch: int
    learning_rate: float
    reason: str


def fewest_passes(scale: float = 1.0) -> float:
    """The fewest passes a run gets when the time budget cuts it: BUDGET_MIN_PASSES, SCALE of
    them for a preset that trades facts for time (quick-try), never less than one."""
    return max(1.0, float(round(BUDGET_MIN_PASSES * scale)))


def passes_for(examples: int, scale: float = 1.0) -> float:
    """The passes that EXAMPLES examples from the documents get; SCALE of them for a preset
    that trades facts for time (quick-try), never fewer than one."""
    if examples <= 0:
        return float(max(1, round(MIN_PASSES * scale)))
    passes = PASSES_AT_100 * math.sqrt(100 / examples)
    return float(max(1, round(min(MAX_PASSES, max(MIN_PASSES, passes)) * scale)))


def adapt_recipe(cfg, examples: int, sequences_per_epoch: int, seconds_per_pass: float) -> Adapted:
    """The passes, micro batch and learning rate for EXAMPLES document examples packed into
    SEQUENCES_PER_EPOCH sequences, a pass taking about SECONDS_PER_PASS here."""
    scale, budget = cfg.passes_scale, cfg.time_budget_s
    passes = passes_for(examples, scale)
    why = [f"{passes:g} passes over {examples} examples"]
    if seconds_per_pass > 0 and passes * seconds_per_pass > budget:
        fitted = max(fewest_passes(scale), math.floor(budget / seconds_per_pass))
        if fitted < passes:
            why.append(f"cut to {fitted:g} to stay near {budget // 60} min on this machine")
            passes = float(fitted)
    micro_batch = cfg.micro_batch
    if sequences_per_epoch < SMALL_DATA_SEQUENCES and micro_batch > 1:
        micro_batch = 1
        why.append("one sequence a step (few examples learn from more updates)")
    return Adapted(passes, micro_batch, cfg.learning_rate, "; ".join(why))


def apply(cfg, adapted: Adapted):
    """CFG with the adapted values in place (what the run saves and a resume reads)."""
    return replace(cfg, epochs=adapted.epochs, micro_batch=adapted.micro_batch, learning_rate=adapted.learning_rate)
