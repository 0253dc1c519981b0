"""Flows that chain stages, for the window and the CLI alike."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Job, Progress
from kwdesk.core.data.generate import GenerateJob, GenerateOptions, GenerateResult
from kwdesk.core.evaluation.job import EvaluateJob
from kwdesk.core.evaluation.results import EvalResult, EvaluationError
from kwdesk.core.export.job import ExportJob, ExportResult
from kwdesk.core.models.gguf import DEFAULT_QUANTIZATION
from kwdesk.core.store.pairs import review_counts
from kwdesk.core.store.personal import personal_model
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.train.job import TrainJob, TrainResult
from kwdesk.core.train.presets import TrainConfig


@dataclass
class TrainedAndExported:
    training: TrainResult
    export: ExportResult


class TrainThenExportJob(Job):
    """Train, then make the verified model file of that run (`kwdesk train --export`, and
    the Train page's "make the model file when training ends"). Cancelling stops whichever
    part runs; a finished training is kept when the export fails."""

    def __init__(self, train: TrainJob, quantization: str = DEFAULT_QUANTIZATION, strength: float | None = None) -> None:
        super().__init__()
        self.train = train
        self.quantization = quantization
        self.strength = strength

    def _run(self) -> TrainedAndExported:
        trained = self.run_part(self.train)
        self.check_cancelled()
        export = ExportJob(self.train.workspace, trained.run_id, self.quantization, self.strength)
        # The export's five stages after the training's steps, on one bar.
        exported = self.run_part(export, lambda p: Progress(p.done, p.total, f"Model file: {p.message}", p.elapsed_s))
        return TrainedAndExported(trained, exported)


# --- teach my documents: the whole way from documents to a tested model, in one job ----------

TEACH_STAGES = ("Writing questions and answers", "Training", "Making the model file", "Testing what it learned")
# A short evaluation: enough held-out questions and general ones to say whether the model
# learned and kept its manners (minutes here), where Evaluate asks up to 200.
TEACH_HELD_OUT = 24
TEACH_PROBES = 8


class NothingToTeach(KwdeskError):
    """No pairs to train on after generation; the message says what to do."""


@dataclass
class Taught:
    generated: GenerateResult | None  # None: generation was skipped (every passage had its data)
    training: TrainResult
    export: ExportResult
    evaluation: EvalResult | None  # None when it could not run: EVALUATION_PROBLEM says why
    model_name: str
    evaluation_problem: str = ""
    # Seconds each stage took, by TEACH_STAGES name, in the order run: where the time went
    # (the plain path on two pages trained 85 of its 93 minutes).
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def in_words(self) -> str:
        """What the expert got, for the end of the window's progress and the CLI."""
        from kwdesk.core.store.personal import quality_in_words

        made = (f"{self.generated.pairs_added} new pairs written, " if self.generated else "")
        if self.evaluation is not None:
            known = quality_in_words(self.evaluation.to_dict())
        else:
            known = f"not tested ({self.evaluation_problem})"
        return f"{self.model_name} is ready: {made}{self.training.steps} training steps; it {known}.{self.time_in_words()}"

    def time_in_words(self) -> str:
        """' It took 93 min: writing questions and answers 3 min, training 85 min, ...'"""
        if not self.stage_seconds:
            return ""
        parts = ", ".join(f"{name.lower()} {_duration(seconds)}" for name, seconds in self.stage_seconds.items())
        return f" It took {_duration(sum(self.stage_seconds.values()))}: {parts}."


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds))} s" if seconds < 90 else f"{round(seconds / 60)} min"


class TeachJob(Job):
    """Teach my documents: generate the pairs the documents do not have yet, train, make the
    verified model file, and test it briefly, on one progress line with one cancel (`kwdesk
    teach`, and the window's Teach my documents). Each stage keeps what it finished: pairs
    written stay for review, a trained run can be exported or resumed from the Train step."""

    def __init__(self, workspace: Workspace, teacher=None, options: GenerateOptions | None = None,
                 config: TrainConfig | None = None, base: str | None = None, quantization: str = DEFAULT_QUANTIZATION,
                 generate: bool = True, evaluate: bool = True) -> None:
        super().__init__()
        self.workspace = workspace
        self.teacher = teacher
        self.options = options
        self.config = config
        self.base = base
        self.quantization = quantization
        self.generate = generate
        self.evaluate = evaluate
        self._shown = 0  # the bar's furthest point, in thousandths

    def _stage(self, index: int):
        """Reports of stage INDEX as a share of the whole: each stage a quarter of the bar."""
        name = TEACH_STAGES[index]

        def mapped(p: Progress) -> Progress:
            share = (p.done / p.total) if p.total else 0.0
            # Forward only: a stage that learns its total late (or grows it) does not move
            # the one bar back.
            done = self._shown = max(self._shown, int(1000 * (index + min(1.0, share)) / len(TEACH_STAGES)))
            message = f"Step {index + 1} of {len(TEACH_STAGES)}, {name.lower()}" + (f": {p.message}" if p.message else "")
            return Progress(done, 1000, message, p.elapsed_s)

        return mapped

    def _timed(self, index: int, job: Job, seconds: dict[str, float]):
        """JOB run as stage INDEX, its seconds put in SECONDS under the stage's name."""
        started = time.monotonic()
        try:
            return self.run_part(job, self._stage(index))
        finally:
            seconds[TEACH_STAGES[index]] = time.monotonic() - started

    def _run(self) -> Taught:
        generated, seconds = None, {}
        if self.generate:
            generated = self._timed(0, GenerateJob(self.workspace, self.teacher, self.options), seconds)
        self.check_cancelled()
        db = self.workspace.connect()
        try:
            approved, unreviewed = review_counts(db, self.config.collection_id if self.config else None)
        finally:
            db.close()
        if approved + unreviewed == 0:
            raise NothingToTeach(
                "There are no pairs to train on: the teacher wrote no usable question and answer from your documents. "
                "Look at the Data step's report of what was dropped, add pairs by hand, or choose a larger teacher "
                "in Settings.")
        trained = self._timed(1, TrainJob(self.workspace, self.config, self.base), seconds)
        self.check_cancelled()
        exported = self._timed(2, ExportJob(self.workspace, trained.run_id, self.quantization), seconds)
        self.check_cancelled()
        evaluation, problem = None, ""
        if self.evaluate:
            chat_file = (exported.adapter or {}).get("model_id") or exported.model_id
            try:
                evaluation = self._timed(3, EvaluateJob(self.workspace, str(chat_file), probe_limit=TEACH_PROBES,
                                                        teacher=self.teacher, held_out_limit=TEACH_HELD_OUT), seconds)
            except EvaluationError as exc:  # the model is made and works; the test could not be set
                problem = str(exc)
        db = self.workspace.connect()
        try:
            name = personal_model(db, trained.run_id).name
        finally:
            db.close()
        self.report(1000, 1000, "Done")
        return Taught(generated, trained, exported, evaluation, name, problem, seconds)


def teach_from_settings(workspace: Workspace, *, preset_name: str | None = None, accepted_only: bool = False,
                        teacher: str | None = None, base: str | None = None, quantization: str | None = None,
                        max_steps: int | None = None, generate: bool = True, evaluate: bool = True) -> TeachJob:
    """The TeachJob the window and `kwdesk teach` run: the settings' teacher, kinds of data,
    preset, base and quantization, each overridden where given."""
    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.app.teacher import generation_options, teacher_choice
    from kwdesk.core.train.presets import preset

    settings = load_settings()
    overrides = {"accepted_only": True} if accepted_only else {}
    if max_steps:
        overrides["max_steps"] = max_steps
    return TeachJob(workspace, teacher_choice(settings, teacher), generation_options(settings),
                    preset(preset_name or settings.preset, **overrides), base or settings.base_model or None,
                    quantization or settings.quantization, generate=generate, evaluate=evaluate)
