"""Which way a personal model answers best, from its newest evaluation: from what it learned
alone (closed-book), or with the best-matching passages of the documents (sources).

Neither is always better. On the 20-page handbook a hand-prepared run answered 65% of
held-out questions with sources and 27% without; the plain path's nine passes, 55% with and
66% without (BENCHMARKS.md, session 21), and 69% with and 63% without once a sixth of its
pairs were also trained with their passages (session 22), 83% with when given its best passage
alone instead of three (session 23: chat_format.sources_top_k); on a one-page document, trained
to the end, 92% without and 67% with, because the retrieved page names three things and the
small model mixes them up. So the chat starts in the mode that the evaluation of that very model
measured better, says so, and the expert can switch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kwdesk.core.store.evals import load_eval, newest_eval_for_model, newest_eval_of_run
from kwdesk.core.store.personal import personal_model_of


@dataclass(frozen=True)
class AnswerMode:
    with_sources: bool
    measured: bool  # False: no evaluation of this model yet (the chat's old default then)
    why: str  # for people: which mode, and the figures behind it

    @property
    def name(self) -> str:
        return "with sources" if self.with_sources else "from what it learned"


def measured_mode(db, model_id: int | None) -> AnswerMode:
    """The mode the newest evaluation of MODEL_ID's personal model (any of its files: the
    model file and the adapter file answer alike) found better on held-out questions (ties
    go to sources: an answer with passages can be checked)."""
    eval_id = newest_eval_for_model(db, model_id) if model_id is not None else None
    run = db.execute("SELECT run_id FROM models WHERE id = ?", [model_id]).fetchone() if model_id is not None else None
    if run and run[0] is not None:
        newest = newest_eval_of_run(db, run[0])
        eval_id = newest[0] if newest else eval_id
    summary = (load_eval(db, eval_id) or {}).get("summary", {}) if eval_id is not None else {}
    heldout = summary.get("heldout") or {}
    alone, sources = heldout.get("personal"), heldout.get("personal+rag")
    if not alone or not sources or not alone.get("total"):
        return AnswerMode(False, False, "Not evaluated yet: answering from what the model learned. Evaluate it "
                                        "(Evaluate page or `kwdesk eval`) to see which way it answers better.")
    mode = AnswerMode(sources["share"] >= alone["share"], True, "")
    # Evaluations made before a small model was given one passage gave it three, and it
    # answers better with one: such a figure undersells sources.
    old = "" if summary.get("sources_passages") else (" That evaluation gave the model three passages, as the chat "
                                                      "did then; evaluate it again to measure the chat as it asks now.")
    return replace(mode, why=f"Answering {mode.name}: evaluation {eval_id} found {sources['share']:.0%} of held-out "
                             f"questions right with sources and {alone['share']:.0%} without.{old}")


def chosen_mode(with_sources: bool) -> AnswerMode:
    """The mode the expert asked for."""
    mode = AnswerMode(with_sources, False, "")
    return replace(mode, why=f"Answering {mode.name}, as asked.")


def what_it_knows(db, model_id: int | None) -> str:
    """Which model answers and what its newest evaluation found, in one line for the chat."""
    model = personal_model_of(db, model_id) if model_id is not None else None
    if model is None:
        return "The base model: it has not learned your documents."
    if not model.quality:
        return f"{model.name}, {model.trained_on}: not evaluated yet. Evaluate it on the Models step to see what it learned."
    return f"{model.name} {model.quality_in_words}."
