"""Flows that chain stages, for the window and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass

from kwdesk.core.base.jobs import Job, Progress
from kwdesk.core.export.job import ExportJob, ExportResult
from kwdesk.core.train.job import TrainJob, TrainResult


@dataclass
class TrainedAndExported:
    training: TrainResult
    export: ExportResult


class TrainThenExportJob(Job):
    """Train, then make the verified model file of that run (`kwdesk train --export`, and
    the Train page's "make the model file when training ends"). Cancelling stops whichever
    part runs; a finished training is kept when the export fails."""

    def __init__(self, train: TrainJob, quantization: str = "Q4_K_M", strength: float | None = None) -> None:
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
