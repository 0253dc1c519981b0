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
from collections.abc import Callable
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
# A run planned longer than this on this machine trains the with-sources form in fewer
# passes, then for a share of the pairs, then leaves it out, then gets fewer passes (down to
# BUDGET_MIN_PASSES). Nine closed-book passes over the 20-page handbook take about 70 minutes
# on 2 cores; 45 minutes cut them to three, which taught 14% of its facts (session 13). At 85
# minutes 17% of its pairs are also trained with their passages once: with sources 69% of its
# held-out questions against 55% without them, closed-book 63% against 66% (BENCHMARKS.md,
# session 22). A run that teaches nothing is the longer wait.
TIME_BUDGET_S = 85 * 60
# The fewest pairs, as a share, worth training with their passages when the budget cannot
# give every pair its with-sources form once: below it the form is left out.
MIN_SOURCES_SHARE = 0.125


@dataclass(frozen=True)
class Adapted:
    """A recipe chosen for the data, and why, in words for the plan."""

    epochs: float
    micro_batch: int
    learning_rate: float
    reason: str
    # The with-sources form in one pass of every this many (0: not trained).
    sources_every: int = 0


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


def adapt_recipe(cfg, examples: int, sequences_per_epoch: int, seconds_per_pass: Callable[[int], float]) -> Adapted:
    """The passes, micro batch, learning rate and with-sources turns for EXAMPLES document
    examples packed into SEQUENCES_PER_EPOCH sequences, a pass taking about SECONDS_PER_PASS
    here given how often the with-sources form is trained (SECONDS_PER_PASS(sources_every); 0: never).

    The time budget cuts the with-sources form before the passes: it is a long sequence (the
    chat's passages: about 250 tokens for one, 650 for three on the 20-page handbook, against 60
    for a pair) and would be most of each pass's work, while the passes are what make facts
    stick closed-book; the chat's sources still reach the model in the prompt."""
    scale, budget = cfg.passes_scale, cfg.time_budget_s
    minutes = max(1, round(budget / 60))  # as the plan says it
    passes = passes_for(examples, scale)
    why = [f"{passes:g} passes over {examples} examples"]
    every = cfg.sources_every if cfg.train_with_sources else 0
    if every and passes * seconds_per_pass(every) > budget:
        # Each pair's with-sources form about once in the run, else not at all.
        once = max(every, math.ceil(passes))
        if once > every and passes * seconds_per_pass(once) <= budget:
            every = once
            why.append("each pair with its passages in one pass only, to stay near "
                       f"{minutes} min on this machine")
        elif (shared := _sharing_every(passes, once, lambda e: passes * seconds_per_pass(e) <= budget)) is not None:
            # What the form teaches is reading the chat's passages, a skill, not the facts
            # (the closed-book form teaches those): a share of the pairs, once each, teaches it.
            every = shared
            why.append(f"{sources_share(passes, every):.0%} of the pairs also with their passages in the prompt, "
                       f"once each, to stay near {minutes} min on this machine")
        else:
            every = 0
            why.append("pairs with their passages in the prompt left out: they would take most of the time")
    seconds = seconds_per_pass(every)
    if seconds > 0 and passes * seconds > budget:
        fitted = max(fewest_passes(scale), math.floor(budget / seconds))
        if fitted < passes:
            why.append(f"cut to {fitted:g} to stay near {minutes} min on this machine")
            passes = float(fitted)
    micro_batch = cfg.micro_batch
    if sequences_per_epoch < SMALL_DATA_SEQUENCES and micro_batch > 1:
        micro_batch = 1
        why.append("one sequence a step (few examples learn from more updates)")
    return Adapted(passes, micro_batch, cfg.learning_rate, "; ".join(why), every)


def sources_share(passes: float, every: int) -> float:
    """The share of the pairs trained with their passages in a run of PASSES passes that
    trains the form in one pass of every EVERY (Example.for_epoch: the turn of each pair is
    shifted by its index, so that EVERY above the passes leaves some pairs without it)."""
    return min(1.0, math.ceil(passes) / every) if every > 0 else 0.0


def _sharing_every(passes: float, once: int, fits: Callable[[int], bool]) -> int | None:
    """The smallest EVERY above ONCE (one pass of the run) whose run of PASSES FITS the
    budget, the share of the pairs with their passages not below MIN_SOURCES_SHARE; None when
    none fits."""
    largest = math.floor(math.ceil(passes) / MIN_SOURCES_SHARE)
    if largest <= once:
        return None
    low, high = once + 1, largest
    if not fits(high):
        return None
    while low < high:  # the run's time falls as EVERY grows
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    return high


def apply(cfg, adapted: Adapted):
    """CFG with the adapted values in place (what the run saves and a resume reads)."""
    return replace(cfg, epochs=adapted.epochs, micro_batch=adapted.micro_batch, learning_rate=adapted.learning_rate,
                   sources_every=adapted.sources_every if cfg.train_with_sources else cfg.sources_every)
