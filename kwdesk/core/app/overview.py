"""Where the expert stands: each step's state in a few words, and what to do next.

The window shows this under each step's name and the CLI prints it (`kwdesk status`), so a
user who comes back after a week sees "3 documents · 40 pairs to review · Contracts,
version 1 ready" and one next action instead of a list of plain step names. It reads the
workspace only (a few counts), cheap enough to run whenever the workspace changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from kwdesk.core.store.pairs import review_counts
from kwdesk.core.store.personal import personal_models

STEPS = ("documents", "data", "train", "chat", "models")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class NextAction:
    step: str  # one of STEPS: where the action is done
    words: str  # the action, as an instruction to the expert


@dataclass(frozen=True)
class Overview:
    documents: int
    pairs: int  # training pairs not rejected
    unreviewed: int
    approved: int
    models: int  # finished training runs: one personal model each
    chattable: int  # of those, the ones with a verified file to chat with
    newest_model: str  # the newest personal model's name ("" when none)
    newest_without_file: str  # the newest model still without a model file ("" when none)
    last_evaluation: str  # the newest evaluated model's quality in words ("" when none)
    evaluated_model: str

    def state(self, step: str) -> str:
        """STEP's state in a few words, for the line under its name."""
        if step == "documents":
            return _count(self.documents, "document") if self.documents else "none yet"
        if step == "data":
            if not self.pairs:
                return "no pairs yet"
            if self.unreviewed:
                return f"{self.unreviewed} to review" + (f" · {self.approved} approved" if self.approved else "")
            return f"{_count(self.approved, 'pair')} approved"
        if step == "train":
            if not self.models:
                return "not trained yet"
            return _count(self.models, "model") + " trained"
        if step == "chat":
            return f"{_count(self.chattable, 'model')} ready" if self.chattable else "base model only"
        if step == "models":
            return "evaluated" if self.last_evaluation else ("not evaluated yet" if self.models else "none yet")
        raise ValueError(f"unknown step {step!r}")

    def next_action(self) -> NextAction:
        if not self.documents:
            return NextAction("documents", "Add your documents: drop PDF or Word files on the window, or use the Add files… button.")
        if not self.pairs:
            return NextAction("data", f"Write questions and answers from your {_count(self.documents, 'document')}: "
                                      "Generate… on the Data step.")
        if not self.models:
            if self.unreviewed:
                return NextAction("data", f"Review the {_count(self.unreviewed, 'new pair')} (Y approves, N "
                                          "rejects), or train on them as they are.")
            return NextAction("train", f"Train your model on the {_count(self.approved, 'approved pair')}.")
        if self.newest_without_file:
            return NextAction("train", f"Make the model file of {self.newest_without_file} to chat with it.")
        if not self.last_evaluation and self.newest_model:
            return NextAction("models", f"Ask {self.newest_model} about your documents, or evaluate what it "
                                        "learned on the Models step.")
        ask = f"Ask {self.newest_model or 'your model'} about your documents."
        if self.unreviewed:
            # The model is there to use today; reviewing makes the next version better.
            return NextAction("chat", f"{ask} {_count(self.unreviewed, 'pair is', 'pairs are')} not reviewed yet: "
                                      "reviewing them and training again makes a better version.")
        return NextAction("chat", ask)

    def to_dict(self) -> dict:
        action = self.next_action()
        return {"states": {step: self.state(step) for step in STEPS}, "next": {"step": action.step,
                                                                               "words": action.words}}


def workspace_overview(db) -> Overview:
    documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    approved, unreviewed = review_counts(db)
    models = personal_models(db)  # oldest first
    without_file = [m for m in models if m.chat_file is None]
    evaluated = [m for m in models if m.quality]
    return Overview(
        documents=int(documents), pairs=approved + unreviewed, unreviewed=unreviewed, approved=approved,
        models=len(models), chattable=sum(m.chat_file is not None for m in models),
        newest_model=models[-1].name if models else "",
        newest_without_file=without_file[-1].name if without_file and without_file[-1] is models[-1] else "",
        last_evaluation=evaluated[-1].quality_in_words if evaluated else "",
        evaluated_model=evaluated[-1].name if evaluated else "",
    )
