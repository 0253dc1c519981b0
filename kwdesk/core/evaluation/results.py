"""What an evaluation finds: the four ways a question is asked, scores, and the result.

Shared by the job that measures and the report that shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kwdesk.core.base.errors import KwdeskError

CONFIGS = ("base", "base+rag", "personal", "personal+rag")
# The base model with the whole of the documents in its prompt, asked where they fit its context.
FULL_CONTEXT = "base+full"


class EvaluationError(KwdeskError):
    """The evaluation cannot run; the message says what to do."""


@dataclass
class Score:
    correct: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        return {"correct": self.correct, "total": self.total, "share": round(self.share, 3)}


@dataclass
class EvalResult:
    eval_id: int
    model_name: str
    base_name: str
    heldout: dict[str, Score]
    probe_base: Score
    probe_personal: Score
    kept: Score  # of the probes the base got right, how many the personal model still gets
    replay_kept: Score  # replay prompts whose base answer's key facts the personal model still gives
    facts_learned: int
    facts_total: int
    gap_closed: float | None  # (personal - base) / (base+rag - base), closed-book
    items: list[dict] = field(default_factory=list)
    report_path: str = ""  # report.html, saved beside the model
    # Forgetting under each system prompt a user's tool asks with: {label: {"kept", "replay_kept"}}.
    kept_by_prompt: dict[str, dict[str, Score]] = field(default_factory=dict)
    # Whether the documents fit the base model's context whole: {"fits", "tokens", "context", "n_ctx"}.
    full_context: dict = field(default_factory=dict)
    seconds_per_answer: dict[str, float] = field(default_factory=dict)  # held-out questions, by config
    held_out_asked: int = 0  # of held_out_total (evaluation.job.HELD_OUT_LIMIT)
    held_out_total: int = 0
    # How many passages "with sources" gave the personal model (chat_format.sources_top_k);
    # absent from evaluations made before a small model was given one: they measured three.
    sources_passages: int = 0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["heldout"] = {k: v.to_dict() for k, v in self.heldout.items()}
        for key in ("probe_base", "probe_personal", "kept", "replay_kept"):
            out[key] = getattr(self, key).to_dict()
        out["gap_closed"] = None if self.gap_closed is None else round(self.gap_closed, 3)
        out["kept_by_prompt"] = {label: {key: score.to_dict() for key, score in scores.items()}
                                 for label, scores in self.kept_by_prompt.items()}
        out.pop("items")
        return out
