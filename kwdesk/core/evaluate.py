"""Proof of learning: does a personal model know the documents, and what did it forget?

Held-out set: pairs with split 'eval' (new wordings of trained questions made by the
'heldout' generation strategy, or pairs the user marked for evaluation). Each is asked,
closed-book and with retrieved passages (the chat's top-k), of the base model and of the
personal model; the grader (core.grading) checks the key facts of the reference answer.
Forgetting: the bundled probe set of general questions with short answers, asked of both;
the share of the base model's right answers that the personal model still gets right; and
the replay prompts, where the personal model should still give the key facts of the base
model's own answer.
Everything is stored per evaluation (evals, eval_items), answers included, so that every
verdict can be read and checked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from kwdesk.core.grading import grade_against_reference, grade_short_answer
from kwdesk.core.jobs import Job, ProgressCallback
from kwdesk.core.workspace import Workspace, write_transaction

log = logging.getLogger(__name__)

CONFIGS = ("base", "base+rag", "personal", "personal+rag")
# The system prompt of the evaluation: short answers, as the probe references are short.
EVAL_SYSTEM_PROMPT = "You are a helpful assistant. Answer the question briefly and correctly."


class EvaluationError(Exception):
    """The evaluation cannot run; the message says what to do."""


def probe_questions(limit: int | None = None) -> list[dict]:
    data = json.loads(resources.files("kwdesk.resources").joinpath("probe_questions.json").read_text(encoding="utf-8"))
    items = data["items"]
    if limit is not None and limit < len(items):
        # An even spread over the topics rather than the first N (which are all capitals).
        step = len(items) / limit
        items = [items[int(i * step)] for i in range(limit)]
    return items


def held_out_items(db) -> list[dict]:
    rows = db.execute(
        """SELECT id, question, answer, coalesce(parent_pair_id, id) FROM pairs
           WHERE split = 'eval' AND question != '' AND status != 'rejected' ORDER BY id"""
    ).fetchall()
    return [{"pair_id": r[0], "question": r[1], "reference": r[2], "fact_pair_id": r[3]} for r in rows]


@dataclass
class Score:
    correct: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0


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

    def to_dict(self) -> dict:
        out = asdict(self)
        out["heldout"] = {k: {"correct": v.correct, "total": v.total, "share": round(v.share, 3)} for k, v in self.heldout.items()}
        for key in ("probe_base", "probe_personal", "kept", "replay_kept"):
            score = getattr(self, key)
            out[key] = {"correct": score.correct, "total": score.total, "share": round(score.share, 3)}
        out["gap_closed"] = None if self.gap_closed is None else round(self.gap_closed, 3)
        out.pop("items")
        return out


class EvaluateJob(Job):
    """Evaluate MODEL (a library id or GGUF path; default: the newest verified export)."""

    def __init__(self, workspace: Workspace, model: str | None = None, *, probe_limit: int | None = None,
                 max_tokens: int = 64, make_held_out: bool = True, teacher=None) -> None:
        super().__init__()
        self.workspace = workspace
        self.model_spec = model
        self.probe_limit = probe_limit
        self.max_tokens = max_tokens
        self.make_held_out = make_held_out  # write new wordings for trained questions that have none
        self.teacher = teacher  # for those wordings; default: the settings' teacher, else the bundled one

    def run(self, progress: ProgressCallback | None = None) -> EvalResult:
        from kwdesk.core.chat import ChatEngine, base_of, chat_target, comparable_base

        self._progress = progress
        db = self.workspace.connect()
        engines = []
        try:
            if self.make_held_out:
                self._make_held_out()
            held = held_out_items(db)
            if not held:
                raise EvaluationError(
                    "There are no held-out questions: there are no Q&A pairs to reword (generate pairs first), or "
                    "the teacher made no usable new wording (see `kwdesk generate --strategy heldout`)."
                )
            probes = probe_questions(self.probe_limit)
            self.report(0, None, "Loading the models…")
            personal_path, personal_name, personal_lora = chat_target(db, self.model_spec)
            # The base made into a file the way the personal model was, where it can be.
            base_path, base_name = comparable_base(db, self.model_spec) or base_of(db, self.model_spec)
            model_id = int(self.model_spec) if self.model_spec and str(self.model_spec).isdigit() else self._model_id(db, personal_path)
            personal = ChatEngine(self.workspace, personal_path, personal_name, lora_path=personal_lora)
            engines.append(personal)
            base = personal if Path(base_path) == Path(personal_path) and personal_lora is None else ChatEngine(self.workspace, base_path, base_name)
            if base is not personal:
                engines.append(base)

            from kwdesk.core.replay import EVAL_PROMPTS, replay_prompts

            replay = replay_prompts()[: min(EVAL_PROMPTS, self.probe_limit or EVAL_PROMPTS)]
            total = len(held) * len(CONFIGS) + 2 * len(probes) + 2 * len(replay)
            done = 0
            answers: dict[tuple, str] = {}  # the same model asked the same way answers the same (greedy)

            def ask(engine, question: str, rag: bool) -> str:
                key = (id(engine), question, rag)
                if key not in answers:
                    answers[key] = engine.complete(question, with_sources=rag, max_tokens=self.max_tokens,
                                                   system_prompt=EVAL_SYSTEM_PROMPT)
                return answers[key]

            items: list[dict] = []
            heldout = {config: Score() for config in CONFIGS}
            for config in CONFIGS:
                engine = personal if config.startswith("personal") else base
                for item in held:
                    self.check_cancelled()
                    answer = ask(engine, item["question"], config.endswith("+rag"))
                    grade = grade_against_reference(answer, item["reference"], item["question"])
                    heldout[config].total += 1
                    heldout[config].correct += grade.correct
                    items.append({"item_set": "heldout", "config": config, "pair_id": item["pair_id"],
                                  "fact_pair_id": item["fact_pair_id"], "question": item["question"],
                                  "reference": item["reference"], "answer": answer, **self._grade_columns(grade)})
                    done += 1
                    self.report(done, total, f"{config}: held-out question {len(items)}")
            probe_scores = {"base": [], "personal": []}
            for config, engine in (("base", base), ("personal", personal)):
                for probe in probes:
                    self.check_cancelled()
                    answer = ask(engine, probe["question"], False)
                    grade = grade_short_answer(answer, probe["answers"])
                    probe_scores[config].append(grade.correct)
                    items.append({"item_set": "probe", "config": config, "pair_id": None, "fact_pair_id": None,
                                  "question": probe["question"], "reference": " / ".join(probe["answers"]),
                                  "answer": answer, **self._grade_columns(grade)})
                    done += 1
                    self.report(done, total, f"{config}: general question {len(probe_scores[config])}")
            # The replay prompts (general requests, no short answer): does the personal model still
            # give the key facts of the base model's own answer?
            replay_kept = Score()
            for prompt in replay:
                self.check_cancelled()
                reference = ask(base, prompt, False)
                answer = ask(personal, prompt, False)
                grade = grade_against_reference(answer, reference, prompt)
                replay_kept.total += 1
                replay_kept.correct += grade.correct
                items.append({"item_set": "replay", "config": "personal", "pair_id": None, "fact_pair_id": None,
                              "question": prompt, "reference": reference, "answer": answer, **self._grade_columns(grade)})
                done += 2
                self.report(done, total, f"replay prompt {replay_kept.total}")
            base_right = [i for i, ok in enumerate(probe_scores["base"]) if ok]
            kept = Score(sum(probe_scores["personal"][i] for i in base_right), len(base_right))
            facts = {}
            for item in items:
                if item["item_set"] == "heldout" and item["config"] == "personal":
                    facts[item["fact_pair_id"]] = facts.get(item["fact_pair_id"], False) or bool(item["correct"])
            gap = heldout["base+rag"].share - heldout["base"].share
            result = EvalResult(
                0, personal_name, base_name, heldout,
                Score(sum(probe_scores["base"]), len(probes)), Score(sum(probe_scores["personal"]), len(probes)), kept,
                replay_kept,
                sum(facts.values()), len(facts),
                (heldout["personal"].share - heldout["base"].share) / gap if gap > 0 else None,
                items,
            )
            result.eval_id = self._store(db, model_id, result)
            from kwdesk.core.eval_report import save_report

            result.report_path = str(save_report(self.workspace, db, result.eval_id))
            self._refresh_model_card(db, model_id)
            return result
        finally:
            for engine in engines:
                engine.close()
            db.close()

    def _make_held_out(self) -> None:
        """Held-out wordings for trained questions that have none yet. Made after training is
        as good as before: the wording was never trained either way, and split 'eval' keeps
        it out of every later run."""
        from kwdesk.core.generate import HELD_OUT, GenerateJob, GenerateOptions

        teacher = self.teacher
        if teacher is None:
            from kwdesk.core.settings import load_settings

            teacher = load_settings().teacher or None
        job = GenerateJob(self.workspace, teacher, GenerateOptions(strategies=(HELD_OUT,)))
        job._cancel = self._cancel  # one cancel for both
        job.run(lambda p: self.report(0, None, f"Writing held-out questions: {p.done}/{p.total or '?'}"))

    def _refresh_model_card(self, db, model_id: int | None) -> None:
        """The card beside an evaluated personal model now shows this evaluation."""
        from kwdesk.core.model_card import write_model_card

        row = db.execute("SELECT path, run_id FROM models WHERE id = ?", [model_id]).fetchone() if model_id else None
        if row is None or row[1] is None:
            return
        folder = Path(row[0]).resolve().parent
        if self.workspace.root.resolve() in folder.parents:
            write_model_card(folder, db, row[1])

    @staticmethod
    def _grade_columns(grade) -> dict:
        return {"correct": int(grade.correct), "found": json.dumps(grade.found), "missing": json.dumps(grade.missing)}

    @staticmethod
    def _model_id(db, path: Path) -> int | None:
        row = db.execute("SELECT id FROM models WHERE path = ? ORDER BY id DESC LIMIT 1", [str(path)]).fetchone()
        return row[0] if row else None

    @staticmethod
    def _store(db, model_id: int | None, result: EvalResult) -> int:
        with write_transaction(db):
            eval_id = db["evals"].insert(
                {"model_id": model_id, "model_name": result.model_name, "base_name": result.base_name,
                 "summary": json.dumps(result.to_dict())}
            ).last_pk
            db["eval_items"].insert_all({**item, "eval_id": eval_id} for item in result.items)
        return eval_id


def facts_learned(db, eval_id: int | None = None) -> dict[int, bool]:
    """Per trained pair: did the personal model answer its held-out wording right (newest
    evaluation, or EVAL_ID)?"""
    if eval_id is None:
        row = db.execute("SELECT max(id) FROM evals").fetchone()
        eval_id = row[0] if row else None
    if eval_id is None:
        return {}
    rows = db.execute(
        """SELECT fact_pair_id, max(correct) FROM eval_items
           WHERE eval_id = ? AND item_set = 'heldout' AND config = 'personal' AND fact_pair_id IS NOT NULL
           GROUP BY fact_pair_id""",
        [eval_id],
    )
    return {pair_id: bool(correct) for pair_id, correct in rows}
