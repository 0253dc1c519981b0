"""Compare training methods on the expert's own pairs: what each learns and what it keeps.

`kwdesk compare` and the Train page's Compare: two to four methods (train/methods.py) are
trained on the same pairs with the same preset, each made into the model file a user takes
away (the verified GGUF; a method llama.cpp cannot run, prefix tuning, is evaluated as its
adapter under transformers and marked "cannot be exported"), and each evaluated like for like (the same held-out questions, the
same general questions, the base converted the same way). The comparison is a run of kind
"compare" whose metrics hold every method's figures, so that it can be shown again; the
expert picks one, whose model file stays, and the others' files are removed (their trained
adapters stay in their runs: `kwdesk export RUN` makes them again).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from html import escape

from kwdesk.core.app.flows import TrainThenExportJob
from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Job, Progress
from kwdesk.core.evaluation.job import EvaluateJob
from kwdesk.core.models.gguf import DEFAULT_QUANTIZATION
from kwdesk.core.store.models import delete_model, get_model, made_files_of_run
from kwdesk.core.store.runs import create_run, get_run, newest_run, set_run_status
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.train.job import TrainJob
from kwdesk.core.train.methods import METHODS, method, with_method
from kwdesk.core.train.presets import TrainConfig

# Below this share of the base's right general answers kept, a method is not recommended
# however much it learned: a model that answers the documents and no longer talks is worse.
MIN_KEPT = 0.9
# peft methods that are not offered, and why (said beside every comparison). Prefix tuning is
# offered since it trains on unpacked sequences and is evaluated under transformers.
NOT_OFFERED: dict[str, str] = {}


class CompareError(KwdeskError):
    pass


@dataclass
class MethodResult:
    method: str
    label: str
    run_id: int
    model_id: int | None  # the verified model file
    eval_id: int | None
    closed_book: float  # held-out questions answered without the documents
    with_sources: float  # ... with retrieved passages
    kept: float  # the base's right general answers still right (the evaluation's prompt)
    kept_worst: float  # the lowest of that under the prompts a user's tool asks with
    replay_kept: float
    questions: int
    trained_parameters: int
    steps: int
    train_seconds: float
    adapter_file: bool  # whether llama.cpp can also apply it as an adapter file
    model_removed: bool = False  # its model file was removed when another was chosen
    # Why it has no model file (evaluated under transformers instead); None: it has one.
    cannot_export: str | None = None


@dataclass
class Comparison:
    compare_id: int
    results: list[MethodResult]
    base_closed_book: float
    base_with_sources: float
    recommended: str | None
    chosen: str | None = None
    not_offered: dict[str, str] = field(default_factory=lambda: dict(NOT_OFFERED))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Comparison":
        results = [MethodResult(**r) for r in data.get("results", [])]
        return cls(data["compare_id"], results, data["base_closed_book"], data["base_with_sources"],
                   data.get("recommended"), data.get("chosen"), data.get("not_offered") or dict(NOT_OFFERED))

    def result(self, name: str) -> MethodResult:
        for r in self.results:
            if r.method == name:
                return r
        raise CompareError(f"Comparison {self.compare_id} has no {name!r}; it compared "
                           f"{', '.join(r.method for r in self.results)}.")


def recommend(results: list[MethodResult]) -> str | None:
    """The method that answers most held-out questions (closed-book and with sources
    together) among those that keep at least MIN_KEPT of the general answers under every
    prompt; where none does, the one that keeps most. Only methods that became a model file
    are recommended (the expert keeps one to use), where any did."""
    results = [r for r in results if r.cannot_export is None] or results
    if not results:
        return None
    keeping = [r for r in results if r.kept_worst >= MIN_KEPT]
    if keeping:
        return max(keeping, key=lambda r: (r.closed_book + r.with_sources, r.kept_worst)).method
    return max(results, key=lambda r: (r.kept_worst, r.closed_book + r.with_sources)).method


def why_recommended(comparison: Comparison) -> str:
    if comparison.recommended is None:
        return ""
    best = comparison.result(comparison.recommended)
    if best.kept_worst >= MIN_KEPT:
        return (f"{best.label} answers the most test questions ({best.closed_book:.0%} alone, {best.with_sources:.0%} "
                f"with your documents) while keeping at least {MIN_KEPT:.0%} of the model's general answers.")
    return (f"No method kept {MIN_KEPT:.0%} of the model's general answers; {best.label} kept the most "
            f"({best.kept_worst:.0%}).")


def not_exported_in_words(comparison: Comparison) -> str:
    """What the comparison says of its methods that have no model file."""
    return " ".join(f"{r.label} cannot be exported: {r.cannot_export}. It was evaluated under transformers, its base "
                    "too." for r in comparison.results if r.cannot_export)


def trained_parameters(adapter_dir) -> int:
    """The numbers an adapter trained (from its safetensors header, without loading it)."""
    from safetensors import safe_open

    total = 0
    with safe_open(str(adapter_dir / "adapter_model.safetensors"), "pt") as f:
        for key in f.keys():
            count = 1
            for size in f.get_slice(key).get_shape():
                count *= size
            total += count
    return total


class CompareJob(Job):
    """Train, export and evaluate each of METHODS on the same pairs with CONFIG."""

    def __init__(self, workspace: Workspace, methods: list[str], config: TrainConfig, *, base: str | None = None,
                 quantization: str = DEFAULT_QUANTIZATION, probe_limit: int | None = None, teacher=None) -> None:
        super().__init__()
        names = list(dict.fromkeys(methods))
        for name in names:
            method(name)  # an unknown name fails here, before anything trains
        if not 2 <= len(names) <= 4:
            raise CompareError(f"Compare two to four methods (of {', '.join(METHODS)}); {len(names)} given.")
        self.workspace = workspace
        self.methods = names
        self.config = config
        self.base = base
        self.quantization = quantization
        self.probe_limit = probe_limit
        self.teacher = teacher
        self._base_answers: dict = {}  # the base answers each evaluation the same: asked once

    def _run(self) -> Comparison:
        db = self.workspace.connect()
        try:
            compare_id, _ = create_run(db, "compare", {"methods": self.methods, "train": self.config.to_dict()},
                                       status="running")
            results: list[MethodResult] = []
            base_scores = (0.0, 0.0)
            try:
                for index, name in enumerate(self.methods):
                    result, base_scores = self._one(name, index)
                    results.append(result)
                    set_run_status(db, compare_id, "running",
                                   metrics=Comparison(compare_id, results, *base_scores, None).to_dict())
            except BaseException:
                set_run_status(db, compare_id, "cancelled" if self.cancelled else "failed",
                               metrics=Comparison(compare_id, results, *base_scores, None).to_dict())
                raise
            comparison = Comparison(compare_id, results, *base_scores, recommend(results))
            set_run_status(db, compare_id, "done", metrics=comparison.to_dict(), finished=True)
            return comparison
        finally:
            db.close()

    def _one(self, name: str, index: int) -> tuple[MethodResult, tuple[float, float]]:
        chosen = METHODS[name]
        where = f"{chosen.label} ({index + 1} of {len(self.methods)})"

        def tagged(p: Progress) -> Progress:
            p.message = f"{where}: {p.message}"
            return p

        started = time.monotonic()
        train = TrainJob(self.workspace, with_method(self.config, name), self.base)
        if chosen.exportable:
            both = self.run_part(TrainThenExportJob(train, self.quantization), tagged)
            trained, model_id = both.training, both.export.model_id
        else:  # no model file: the adapter is evaluated under transformers, where it runs
            trained, model_id = self.run_part(train, tagged), None
        seconds = time.monotonic() - started
        self.check_cancelled()
        # Held-out wordings are written once, before the first evaluation; every method is
        # then asked the same questions.
        evaluation = EvaluateJob(self.workspace, str(model_id) if model_id is not None else None,
                                 probe_limit=self.probe_limit, make_held_out=index == 0, teacher=self.teacher,
                                 base_answers=self._base_answers,
                                 peft_run=None if chosen.exportable else trained.run_id)
        found = self.run_part(evaluation, tagged)
        kept_worst = min([s["kept"].share for s in found.kept_by_prompt.values()] or [found.kept.share])
        result = MethodResult(
            name, chosen.label, trained.run_id, model_id, found.eval_id,
            found.heldout["personal"].share, found.heldout["personal+rag"].share, found.kept.share, kept_worst,
            found.replay_kept.share, found.heldout["personal"].total, trained_parameters(trained.adapter_dir),
            trained.steps, round(seconds, 1), chosen.adapter_file, cannot_export=chosen.cannot_export,
        )
        return result, (found.heldout["base"].share, found.heldout["base+rag"].share)


def load_comparison(db, compare_id: int | None = None) -> Comparison:
    """A stored comparison (default: the newest finished one)."""
    run = get_run(db, compare_id, kind="compare") if compare_id is not None else newest_run(db, "compare", "done")
    if run is None or not run.metrics.get("results"):
        raise CompareError("There is no finished comparison; run one with `kwdesk compare`." if compare_id is None
                           else f"There is no finished comparison {compare_id}.")
    return Comparison.from_dict({**run.metrics, "compare_id": run.id})


def choose_method(workspace: Workspace, db, compare_id: int, name: str) -> Comparison:
    """Keep NAME's model file and remove the other methods' (their runs and adapters stay)."""
    comparison = load_comparison(db, compare_id)
    keep = comparison.result(name)
    if keep.model_id is None:
        raise CompareError(f"{keep.label} has no model file to keep"
                           + (f": it cannot be exported ({keep.cannot_export})." if keep.cannot_export else "."))
    get_model(db, keep.model_id)  # still in the library
    for other in comparison.results:
        if other.method == name or other.model_removed or other.model_id is None:
            continue
        for entry in made_files_of_run(db, other.run_id):
            delete_model(workspace, db, entry.id)
        other.model_removed = True
    comparison.chosen = name
    set_run_status(db, comparison.compare_id, "done", metrics=comparison.to_dict())
    return comparison


def comparison_svg(comparison: Comparison, width: int = 560, height: int = 360) -> str:
    """Learned against kept, one point per method, the base for reference, the chosen one
    (or the recommended one, before a choice) ringed."""
    left, right, top, bottom = 64, 24, 28, 52
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(kept: float) -> float:  # kept from 50% to 100%: below half, nothing is worth keeping
        return left + max(0.0, min(1.0, (kept - 0.5) / 0.5)) * plot_w

    def y(learned: float) -> float:
        return top + (1.0 - max(0.0, min(1.0, learned))) * plot_h

    marked = comparison.chosen or comparison.recommended
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             'font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>']
    for tick in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top}" x2="{x(tick):.1f}" y2="{top + plot_h}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#555">{tick:.0%}</text>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" y2="{y(tick):.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#555">{tick:.0%}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" text-anchor="middle" fill="#222">'
                 "general answers kept</text>")
    parts.append(f'<text x="16" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="#222" '
                 f'transform="rotate(-90 16 {top + plot_h / 2:.1f})">test questions answered alone</text>')
    placed: list[tuple[float, float]] = []  # label positions so far: points that coincide get stacked labels

    def label_y(lx: float, ly: float) -> float:
        while any(abs(lx - ox) < 150 and abs(ly - oy) < 14 for ox, oy in placed):
            ly -= 15
        placed.append((lx, ly))
        return ly

    # The base: keeps everything, knows none of the documents (closed-book).
    bx, by = x(1.0), y(comparison.base_closed_book)
    parts.append(f'<rect x="{bx - 5:.1f}" y="{by - 5:.1f}" width="10" height="10" fill="#999"/>')
    parts.append(f'<text x="{bx - 16:.1f}" y="{label_y(bx - 16, by + 4):.1f}" text-anchor="end" fill="#666">'
                 "base model</text>")
    for r in comparison.results:
        px, py = x(r.kept_worst), y(r.closed_book)
        colour = "#1f6fd1" if r.method == marked else "#444"
        if r.cannot_export:  # hollow: measured under transformers, no file to take away
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="6" fill="white" stroke="{colour}" stroke-width="2"/>')
        else:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="6" fill="{colour}" fill-opacity="0.8"/>')
        if r.method == marked:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="11" fill="none" stroke="{colour}" stroke-width="2"/>')
        note = (" (chosen)" if r.method == comparison.chosen else " (recommended)" if r.method == marked
                else " (cannot be exported)" if r.cannot_export else "")
        anchor = "end" if px > left + plot_w * 0.7 else "start"
        lx = px - 16 if anchor == "end" else px + 16
        parts.append(f'<text x="{lx:.1f}" y="{label_y(lx, py + 4):.1f}" text-anchor="{anchor}" fill="{colour}">'
                     f'{escape(r.label + note)}</text>')
    parts.append("</svg>")
    return "".join(parts)
