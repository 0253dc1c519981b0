"""Held-out checks while training: stop when the model has learned what it will, keep the
best pass.

A fixed number of passes is a guess: nine passes taught a one-page document 10-11 of 12
held-out facts, three taught the 20-page handbook 14% (BENCHMARKS.md), and every pass past
the point where the facts have stuck only costs time and general knowledge (forgetting grows
with steps). So a run holds back some of the teacher's rewordings of trained questions (a
"paraphrase" pair asks a trained pair's question in other words, with the same answer),
and at the end of each pass from the second on asks them closed-book, decoded together on
the live model, graded like the evaluation (text/fact_match). It also asks a few general
questions (resources/probe_questions.json) and counts how many of those the base got right
the model still gets right. The run keeps the adapter of the best check (most held-out
answers right; among equals, the most general answers kept, then the earliest) and stops
when PATIENCE checks in a row found nothing better, or every held-out answer right.

The held-back rewordings are never trained in that run, so the check measures wordings the
model has not seen; they are a share of the rewordings only (the question they reword is
still trained, with its other rewordings), and the evaluation's held-out set is separate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kwdesk.core.models.chat_format import EVAL_SYSTEM_PROMPT, chat_messages
from kwdesk.core.models.hf_generate import greedy_batch, stop_ids
from kwdesk.core.models.probes import probe_questions
from kwdesk.core.text.fact_match import grade_against_reference, grade_short_answer

CHECKS_MAX = 24  # held-back rewordings at most: a check of 24 short answers takes seconds
CHECKS_MIN = 6  # fewer than this cannot tell one pass from the next: no early stop
CHECK_SHARE = 4  # at most one rewording in CHECK_SHARE is held back
GENERAL_QUESTIONS = 8
PATIENCE = 2  # checks in a row without a better one before the run stops
FIRST_CHECK_PASS = 2
MIN_PASSES = 3  # never stops before this many passes
MAX_TOKENS = 48
BATCH = 8


def hold_back(db, records: list[dict]) -> tuple[list[dict], list[dict]]:
    """RECORDS without the rewordings held back as checks, and those checks ({"pair_id",
    "question", "answer"}): every CHECK_SHARE-th paraphrase pair whose question it rewords is
    trained, evenly spread, at most CHECKS_MAX; none when fewer than CHECKS_MIN would be."""
    ids = {int(r["source"].split(":")[1]): r for r in records if r["source"].startswith("pair:") and r["question"]}
    if not ids:
        return records, []
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT id, parent_pair_id FROM pairs WHERE strategy = 'paraphrase' AND id IN ({marks}) "
                      "ORDER BY id", list(ids)).fetchall()
    rewordings = [pair_id for pair_id, parent in rows if parent in ids]
    count = min(CHECKS_MAX, len(rewordings) // CHECK_SHARE)
    if count < CHECKS_MIN:
        return records, []
    step = len(rewordings) / count
    held = {rewordings[int(k * step)] for k in range(count)}
    checks = [{"pair_id": p, "question": ids[p]["question"], "answer": ids[p]["answer"]} for p in sorted(held)]
    kept = [r for r in records if not (r["source"].startswith("pair:") and int(r["source"].split(":")[1]) in held)]
    return kept, checks


@dataclass
class Check:
    """One check: after PASS_NO passes (STEP steps), RIGHT of TOTAL held-out answers right,
    KEPT of the general answers the base got right (None when it got none)."""

    pass_no: int
    step: int
    right: int
    total: int
    kept: float | None
    seconds: float

    @property
    def score(self) -> tuple[int, float]:
        return self.right, self.kept if self.kept is not None else 0.0


@dataclass
class EarlyStop:
    """The checks of one run, the best so far and its adapter weights."""

    checks: list[dict]
    tokenizer: object
    device: object
    history: list[Check] = field(default_factory=list)
    best: Check | None = None
    _best_weights: dict | None = None
    _general: list[dict] = field(default_factory=list)
    _base_right: list[bool] = field(default_factory=list)

    def due(self, step: int, steps_per_epoch: int, total_steps: int) -> int | None:
        """The pass that ends at STEP, when a check is due there (not at the run's last step,
        where the run ends anyway and is checked by the evaluation); else None."""
        if not self.checks or steps_per_epoch <= 0 or step % steps_per_epoch or step >= total_steps:
            return None
        pass_no = step // steps_per_epoch
        return pass_no if pass_no >= FIRST_CHECK_PASS else None

    def check(self, model, step: int, pass_no: int) -> Check:
        """Ask the held-out rewordings and the general questions now; remember the best."""
        import time

        import torch

        from kwdesk.core.train.train_data import precision_context

        started = time.monotonic()
        was_training = model.training
        model.eval()
        try:
            with precision_context(torch, self.device):
                if not self._general:
                    self._general = probe_questions(GENERAL_QUESTIONS)
                    base = self._answers(model, [g["question"] for g in self._general], adapter=False)
                    self._base_right = [grade_short_answer(a, g["answers"]).correct for a, g in zip(base, self._general)]
                answers = self._answers(model, [c["question"] for c in self.checks], adapter=True)
                general = self._answers(model, [g["question"] for g in self._general], adapter=True)
        finally:
            if was_training:
                model.train()
        right = sum(grade_against_reference(a, c["answer"], c["question"]).correct for a, c in zip(answers, self.checks))
        base_right = sum(self._base_right)
        still = sum(ok and grade_short_answer(a, g["answers"]).correct
                    for a, g, ok in zip(general, self._general, self._base_right))
        done = Check(pass_no, step, right, len(self.checks), still / base_right if base_right else None,
                     round(time.monotonic() - started, 1))
        self.history.append(done)
        if self.best is None or done.score > self.best.score:
            self.best = done
            self._best_weights = {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}
        return done

    def should_stop(self) -> bool:
        """Every held-out answer right, or PATIENCE checks since the best, after MIN_PASSES."""
        if not self.history:
            return False
        last = self.history[-1]
        if last.pass_no < MIN_PASSES:
            return False
        if last.right == last.total:
            return True
        best_at = next(i for i, c in enumerate(self.history) if c is self.best)
        return len(self.history) - 1 - best_at >= PATIENCE

    def restore_best(self, model, final: Check | None = None) -> bool:
        """Put the best check's adapter back into MODEL when the run's end (FINAL, if checked)
        is not better than it; True when it did."""
        if self.best is None or self._best_weights is None or self.best is self.history[-1]:
            return False
        if final is not None and final.score > self.best.score:
            return False
        params = dict(model.named_parameters())
        for name, value in self._best_weights.items():
            params[name].data.copy_(value)
        return True

    def summary(self, stopped_at: int | None, restored: bool) -> dict:
        """What the run's config and result keep of the checks."""
        return {
            "checks": [c["pair_id"] for c in self.checks],
            "history": [asdict(c) for c in self.history],
            "best_pass": self.best.pass_no if self.best else None,
            "stopped_after_pass": stopped_at,
            "restored_best": restored,
        }

    def in_words(self, check: Check) -> str:
        kept = f", {check.kept:.0%} of general answers kept" if check.kept is not None else ""
        return f"held-out check after pass {check.pass_no}: {check.right}/{check.total} right{kept}"

    def _answers(self, model, questions: list[str], adapter: bool) -> list[str]:
        tokenizer = self.tokenizer
        eos = stop_ids(tokenizer)
        prompts = [tokenizer(tokenizer.apply_chat_template(chat_messages(EVAL_SYSTEM_PROMPT, q), tokenize=False,
                                                           add_generation_prompt=True), add_special_tokens=False).input_ids
                   for q in questions]
        out: list[str] = []
        for start in range(0, len(prompts), BATCH):
            ids = greedy_batch(model, prompts[start:start + BATCH], MAX_TOKENS, adapter=adapter, eos=eos, device=self.device)
            out += [tokenizer.decode(i, skip_special_tokens=True).strip() for i in ids]
        return out
