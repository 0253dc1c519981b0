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
import time
from dataclasses import dataclass
from pathlib import Path

from kwdesk.core.base.jobs import Job, Progress, format_duration
from kwdesk.core.base.system import usable_cores
from kwdesk.core.chat.engine import ChatEngine, documents_prompt
from kwdesk.core.evaluation.results import (
    CONFIGS,
    FULL_CONTEXT,
    EvalResult,
    EvaluationError,
    Score,
)
from kwdesk.core.models.chat_format import DEFAULT_SYSTEM_PROMPT, EVAL_SYSTEM_PROMPT
from kwdesk.core.models.probes import probe_questions
from kwdesk.core.models.targets import (
    ModelSpec,
    base_target,
    chat_target,
    comparable_base,
)
from kwdesk.core.store.documents import documents_text
from kwdesk.core.store.evals import held_out_items, held_out_sample, store_eval
from kwdesk.core.store.models import get_model, model_id_for_path
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.text.fact_match import grade_against_reference, grade_short_answer

log = logging.getLogger(__name__)

# Held-out questions asked at most (every one the expert chose, then kwdesk's own wordings
# spread evenly): about 20 minutes of answers on a 2-core CPU with the bundled model; a share
# measured on 200 questions is within about 7 points of the whole set's (95% confidence).
HELD_OUT_LIMIT = 200
# Tokens beside the documents in a full-context prompt: the system prompt, the chat template
# and the question.
FULL_CONTEXT_ROOM = 256
# Questions decoded together under transformers (an adapter evaluated as PEFT loads it).
ANSWER_BATCH = 8

# Forgetting is measured under each system prompt a user's tool asks with: the evaluation's
# own (first: the headline figures), kwdesk's chat and its exported Modelfile, and none (the
# chat template's default, as PEFT, vLLM or LM Studio run a model).
FORGETTING_PROMPTS: tuple[tuple[str, str | None], ...] = (
    ("evaluation", EVAL_SYSTEM_PROMPT), ("kwdesk chat", DEFAULT_SYSTEM_PROMPT), ("no system prompt", None))


@dataclass(frozen=True)
class PeftRunFiles:
    """What a training run's adapter needs to answer under transformers."""

    name: str
    base_name: str
    base_folder: Path
    adapter_dir: Path
    collection_id: int | None
    method: str


def peft_run_files(db, run_id: int) -> PeftRunFiles:
    """The adapter of finished training run RUN_ID and its base folder (EvaluationError when
    it is not a finished run or its files are gone)."""
    from kwdesk.core.store.personal import knowledge_name
    from kwdesk.core.store.runs import get_run
    from kwdesk.core.train.methods import METHODS

    run = get_run(db, run_id, kind="train", status="done")
    if run is None:
        raise EvaluationError(f"Run {run_id} is not a finished training run.")
    config = run.saved_config()
    if config is None:
        raise EvaluationError(f"The files of run {run_id} are missing from {run.path}.")
    folder = Path(run.path)
    trained = config.get("train", {})
    method = trained.get("method", "lora")
    label = METHODS[method].label if method in METHODS else method
    collection_id = trained.get("collection_id")
    name = f"{knowledge_name(db, collection_id)}, run {run_id} ({label}, under transformers)"
    return PeftRunFiles(name, config["base_name"], Path(config["base_folder"]), folder / "adapter", collection_id, method)


def answer_key(engine, question: str, with_sources: bool, system_prompt: str | None, full: bool = False) -> tuple:
    """What an answer is cached under: the same model asked the same way answers the same
    (greedy). One place for it, so that answers made together (`_answer_together`) are the
    ones the loops then look up."""
    return id(engine), question, with_sources, system_prompt, full


class EvaluateJob(Job):
    """Evaluate MODEL (a library id or GGUF path; default: the newest verified export)."""

    def __init__(self, workspace: Workspace, model: str | None = None, *, probe_limit: int | None = None,
                 max_tokens: int = 64, make_held_out: bool = True, teacher=None,
                 held_out_limit: int | None = HELD_OUT_LIMIT, base_answers: dict | None = None,
                 peft_run: int | None = None) -> None:
        super().__init__()
        # A training run whose adapter is asked under transformers, as PEFT loads it (and its base
        # the same way), instead of a model file: the methods llama.cpp cannot run, and the
        # adapter format a PEFT or vLLM user takes away. MODEL is not used then.
        self.peft_run = peft_run
        # The base model's answers by (its file, question, how asked), kept across evaluations
        # of several models on one base (kwdesk compare): the base answers the same each time.
        self.base_answers = base_answers
        # At most this many held-out questions are asked (None: all): every one the expert
        # chose, then kwdesk's own wordings spread evenly.
        self.held_out_limit = held_out_limit
        self.workspace = workspace
        self.model_spec = ModelSpec.parse(model)
        self.probe_limit = probe_limit
        self.max_tokens = max_tokens
        self.make_held_out = make_held_out  # write new wordings for trained questions that have none
        # For those wordings: a Teacher or a spec (open_teacher's); None: the bundled model. The front
        # ends pass the one the settings name (kwdesk.core.app.teacher_from_settings).
        self.teacher = teacher

    def _run(self) -> EvalResult:
        db = self.workspace.connect()
        engines = []
        try:
            # The model first: a wrong id must fail before any held-out question is written.
            if self.peft_run is None:
                target = chat_target(db, self.model_spec)
                # The base made into a file the way the personal model was, where it can be.
                base_target_ = comparable_base(db, self.model_spec) or base_target(db, self.model_spec)
            else:
                peft = peft_run_files(db, self.peft_run)
            held = held_out_items(db)
            if self.make_held_out and (self.held_out_limit is None or len(held) < self.held_out_limit):
                self._make_held_out()  # not when there are enough to ask already: minutes of the teacher's time
                held = held_out_items(db)
            held_total = len(held)
            held = held_out_sample(held, self.held_out_limit)
            if not held:
                raise EvaluationError(
                    "There are no held-out questions: there are no Q&A pairs to reword (generate pairs first), or "
                    "the teacher made no usable new wording (see `kwdesk generate --strategy heldout`)."
                )
            probes = probe_questions(self.probe_limit)
            self.report(0, None, "Loading the models…")
            if self.peft_run is None:
                model_id = target.model_id if target.model_id is not None else model_id_for_path(db, target.gguf)
                personal_name, base_name = target.name, base_target_.name
                personal = ChatEngine.for_target(self.workspace, target)
                engines.append(personal)
                same_file = Path(base_target_.gguf) == Path(target.gguf) and target.adapter is None
                base = personal if same_file else ChatEngine.for_target(self.workspace, base_target_)
                if base is not personal:
                    engines.append(base)
                base_file = str(base_target_.gguf)
            else:
                from kwdesk.core.chat.peft_engine import PeftModels

                model_id, personal_name, base_name = None, peft.name, f"{peft.base_name} (under transformers)"
                models = PeftModels(peft.base_folder, peft.adapter_dir)
                engines.append(models)
                personal = models.engine(self.workspace, adapter=True, name=personal_name,
                                         collection_id=peft.collection_id)
                base = models.engine(self.workspace, adapter=False, name=base_name, collection_id=peft.collection_id)
                base_file = f"{peft.base_folder} (transformers)"  # the base's answers there differ from a file's

            from kwdesk.core.train.replay import EVAL_PROMPTS, replay_prompts

            replay = replay_prompts()[: min(EVAL_PROMPTS, self.probe_limit or EVAL_PROMPTS)]
            collection_id = target.collection_id if self.peft_run is None else peft.collection_id
            documents, full_context = self._documents_in_full(base, collection_id, db)
            configs = CONFIGS + ((FULL_CONTEXT,) if full_context["fits"] else ())
            full_engine = base
            if full_context["fits"] and full_context["n_ctx"] > base.n_ctx and self.peft_run is None:
                # A context as long as they need (transformers' engine has its whole context).
                full_engine = ChatEngine.for_target(self.workspace, base_target_, n_ctx=full_context["n_ctx"])
                engines.append(full_engine)
            total = len(held) * len(configs) + (2 * len(probes) + 2 * len(replay)) * len(FORGETTING_PROMPTS)
            done = 0
            # The same model asked the same way answers the same (greedy): (answer, seconds it took).
            answers: dict[tuple, tuple[str, float]] = {}
            timing: dict[str, list[float]] = {}  # config: [seconds, answers] of the held-out questions

            if self.base_answers is not None:
                answers.update({(id(full_engine if k[4] else base), *k[1:]): v
                                for k, v in self.base_answers.items() if k[0] == base_file})

            def remember(engine, key: tuple, answer: str, seconds: float) -> None:
                answers[key] = answer, seconds
                if self.base_answers is not None and engine is not personal:
                    self.base_answers[(base_file, *key[1:])] = answers[key]

            def ask(engine, question: str, rag: bool, system_prompt: str | None = EVAL_SYSTEM_PROMPT,
                    full: str | None = None, timed: str | None = None) -> str:
                key = answer_key(engine, question, rag, system_prompt, full is not None)
                if key not in answers:
                    started = time.perf_counter()
                    answer = engine.complete(question, with_sources=rag, max_tokens=self.max_tokens,
                                             system_prompt=system_prompt, documents=full)
                    remember(engine, key, answer, time.perf_counter() - started)
                if timed:
                    spent = timing.setdefault(timed, [0.0, 0])
                    spent[0] += answers[key][1]
                    spent[1] += 1
                return answers[key][0]

            if self.peft_run is not None:
                # Under transformers the questions are answered several at a time, before the
                # loops below ask them one by one (and find them answered).
                self._answer_together(
                    [(personal if config.startswith("personal") else base, item["question"], config.endswith("+rag"),
                      EVAL_SYSTEM_PROMPT) for config in configs if config != FULL_CONTEXT for item in held]
                    + [(engine, question, False, system_prompt) for _, system_prompt in FORGETTING_PROMPTS
                       for engine in (base, personal)
                       for question in [p["question"] for p in probes] + replay],
                    answers, remember)

            items: list[dict] = []
            heldout = {config: Score() for config in configs}
            for config in configs:
                engine = full_engine if config == FULL_CONTEXT else personal if config.startswith("personal") else base
                for item in held:
                    self.check_cancelled()
                    answer = ask(engine, item["question"], config.endswith("+rag"),
                                 full=documents if config == FULL_CONTEXT else None, timed=config)
                    grade = grade_against_reference(answer, item["reference"], item["question"])
                    heldout[config].total += 1
                    heldout[config].correct += grade.correct
                    items.append({"item_set": "heldout", "config": config, "pair_id": item["pair_id"],
                                  "fact_pair_id": item["fact_pair_id"], "question": item["question"],
                                  "reference": item["reference"], "answer": answer, **self._grade_columns(grade)})
                    done += 1
                    self.report(done, total, f"{config}: held-out question {len(items)}")

            def tick(steps: int, message: str) -> None:
                nonlocal done
                done += steps
                self.report(done, total, message)

            forgetting = {}
            for label, system_prompt in FORGETTING_PROMPTS:
                forgetting[label] = self._forgetting(base, personal, probes, replay, system_prompt, label, ask, tick, items)
            probe_scores, kept, replay_kept = forgetting[FORGETTING_PROMPTS[0][0]]
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
                kept_by_prompt={label: {"kept": f[1], "replay_kept": f[2]} for label, f in forgetting.items()},
                full_context=full_context,
                held_out_asked=len(held), held_out_total=held_total,
                seconds_per_answer={config: round(s / n, 3) for config, (s, n) in timing.items() if n},
                sources_passages=personal.sources_top_k,
            )
            result.eval_id = store_eval(db, model_id, result.model_name, result.base_name, result.to_dict(), result.items)
            from kwdesk.core.evaluation.report import save_report

            result.report_path = str(save_report(self.workspace, db, result.eval_id))
            self._refresh_model_card(db, model_id)
            return result
        finally:
            for engine in engines:
                engine.close()
            db.close()

    def _answer_together(self, wanted: list[tuple], answers: dict, remember) -> None:
        """Answer WANTED ((engine, question, with sources?, system prompt), those not in
        ANSWERS yet) ANSWER_BATCH at a time through each engine's `complete_many`; each answer's
        seconds are its share of its batch's. Questions of one kind and about one length go
        together: the batch waits for its longest prompt and its longest answer."""
        todo: dict[tuple, tuple] = {}
        for engine, question, rag, system_prompt in wanted:
            key = answer_key(engine, question, rag, system_prompt)
            if key not in answers:
                todo.setdefault(key, (engine, question, rag, system_prompt))
        order = sorted(todo.values(), key=lambda w: (id(w[0]), w[2], str(w[3]), len(w[1])))
        for start in range(0, len(order), ANSWER_BATCH):
            self.check_cancelled()
            batch = order[start:start + ANSWER_BATCH]
            for engine in {id(w[0]): w[0] for w in batch}.values():
                group = [w for w in batch if w[0] is engine]
                started = time.perf_counter()
                outs = engine.complete_many([{"question": q, "with_sources": rag, "system_prompt": system_prompt}
                                             for _, q, rag, system_prompt in group], self.max_tokens)
                seconds = (time.perf_counter() - started) / len(group)
                for (_, question, rag, system_prompt), answer in zip(group, outs):
                    remember(engine, answer_key(engine, question, rag, system_prompt), answer, seconds)
            self.report(min(start + ANSWER_BATCH, len(order)), len(order),
                        f"Answering under transformers, {ANSWER_BATCH} at a time")

    def _forgetting(self, base, personal, probes, replay, system_prompt, label: str, ask, tick, items: list[dict]):
        """The general questions and the replay prompts, asked of both models under
        SYSTEM_PROMPT: ({"base": [right?], "personal": [...]}, kept, replay kept). Items asked
        under another prompt than the evaluation's name it in their config: "personal (LABEL)"."""
        suffix = "" if system_prompt == EVAL_SYSTEM_PROMPT else f" ({label})"
        probe_scores = {"base": [], "personal": []}
        for config, engine in (("base", base), ("personal", personal)):
            for probe in probes:
                self.check_cancelled()
                answer = ask(engine, probe["question"], False, system_prompt)
                grade = grade_short_answer(answer, probe["answers"])
                probe_scores[config].append(grade.correct)
                items.append({"item_set": "probe", "config": config + suffix, "pair_id": None, "fact_pair_id": None,
                              "question": probe["question"], "reference": " / ".join(probe["answers"]),
                              "answer": answer, **self._grade_columns(grade)})
                tick(1, f"{config}: general question {len(probe_scores[config])} ({label})")
        # The replay prompts (general requests, no short answer): does the personal model still
        # give the key facts of the base model's own answer?
        replay_kept = Score()
        for prompt in replay:
            self.check_cancelled()
            reference = ask(base, prompt, False, system_prompt)
            answer = ask(personal, prompt, False, system_prompt)
            grade = grade_against_reference(answer, reference, prompt)
            replay_kept.total += 1
            replay_kept.correct += grade.correct
            items.append({"item_set": "replay", "config": "personal" + suffix, "pair_id": None, "fact_pair_id": None,
                          "question": prompt, "reference": reference, "answer": answer, **self._grade_columns(grade)})
            tick(2, f"replay prompt {replay_kept.total} ({label})")
        base_right = [i for i, ok in enumerate(probe_scores["base"]) if ok]
        kept = Score(sum(probe_scores["personal"][i] for i in base_right), len(base_right))
        return probe_scores, kept, replay_kept

    def _documents_in_full(self, engine, collection_id, db) -> tuple[str, dict]:
        """The documents as one prompt, and whether they fit the base model's context with a
        question and an answer: {"fits", "tokens", "context", "n_ctx"}."""
        text = documents_prompt(documents_text(db, collection_id))
        tokens = engine.prompt_tokens(text)
        context = engine.context_length()
        needed = tokens + FULL_CONTEXT_ROOM + self.max_tokens
        n_ctx = -(-needed // 256) * 256  # whole blocks of 256
        return text, {"fits": needed <= context, "tokens": tokens, "context": context, "n_ctx": min(n_ctx, context)}

    def _make_held_out(self) -> None:
        """Held-out wordings for trained questions that have none yet. Made after training is
        as good as before: the wording was never trained either way, and split 'eval' keeps
        it out of every later run."""
        from kwdesk.core.data.generate import HELD_OUT, GenerateJob, GenerateOptions

        job = GenerateJob(self.workspace, self.teacher, GenerateOptions(strategies=(HELD_OUT,)))
        self.run_part(job, lambda p: Progress(0, None, f"Writing held-out questions: {p.done}/{p.total or '?'}",
                                              p.elapsed_s))

    def _refresh_model_card(self, db, model_id: int | None) -> None:
        """The card beside an evaluated personal model now shows this evaluation."""
        from kwdesk.core.export.model_card import write_model_card

        entry = get_model(db, model_id) if model_id else None
        if entry is None or entry.run_id is None:
            return
        folder = Path(entry.path).resolve().parent
        if self.workspace.root.resolve() in folder.parents:
            write_model_card(folder, db, entry.run_id)

    @staticmethod
    def _grade_columns(grade) -> dict:
        return {"correct": int(grade.correct), "found": json.dumps(grade.found), "missing": json.dumps(grade.missing)}


# Seconds an answer with the bundled 135M model on 2 cores, over the ways of asking
# (BENCHMARKS.md, the 20-page evaluation: 0.32-1.00 s), and seconds the bundled teacher
# takes to write one held-out wording; scaled by the cores here. Rough, and said so.
_SECONDS_AN_ANSWER_2_CORES = 0.65
_SECONDS_A_WORDING_2_CORES = 1.0


@dataclass
class EvalPlan:
    """What an evaluation will ask and add, and about how long it takes here, said before
    it starts (the expert's walk: Evaluate began at once, then showed 16 minutes left, and
    added held-out questions to the review table without a word)."""

    asked: int  # held-out questions about the documents
    to_write: int  # new held-out wordings the teacher writes first
    general: int  # general questions (forgetting), each asked under several prompts
    seconds: float

    def in_words(self) -> str:
        if not self.asked:
            return "Evaluate needs Q&A pairs to make test questions from: generate pairs first."
        written = (f" (first writing {self.to_write} new ones from your pairs: they are never trained, and show in "
                   "the review table as held out)" if self.to_write else "")
        return (f"Evaluate asks {self.asked} test questions about your documents{written} and {self.general} general "
                f"questions, of this model and of its base: about {format_duration(self.seconds)} here.")


def plan_evaluation(db, probe_limit: int | None = None, held_out_limit: int | None = HELD_OUT_LIMIT,
                    make_held_out: bool = True) -> EvalPlan:
    """What EvaluateJob would ask now (database reads only: quick enough for a selection)."""
    from kwdesk.core.data.generate import HELD_OUT
    from kwdesk.core.store.pairs import questions_without_held_out_wording
    from kwdesk.core.train.replay import EVAL_PROMPTS

    held = len(held_out_items(db))
    to_write = 0
    if make_held_out and (held_out_limit is None or held < held_out_limit):
        documents = [row[0] for row in db.execute("SELECT id FROM documents WHERE is_current = 1")]
        to_write = len(questions_without_held_out_wording(db, documents, HELD_OUT))
    asked = held + to_write if held_out_limit is None else min(held_out_limit, held + to_write)
    general = len(probe_questions(probe_limit))
    replay = min(EVAL_PROMPTS, probe_limit or EVAL_PROMPTS)
    answers = asked * (len(CONFIGS) + 1) + (2 * general + 2 * replay) * len(FORGETTING_PROMPTS)
    scale = 2 / max(1, usable_cores())
    seconds = (answers * _SECONDS_AN_ANSWER_2_CORES + to_write * _SECONDS_A_WORDING_2_CORES) * scale
    return EvalPlan(asked, to_write, general, seconds)
