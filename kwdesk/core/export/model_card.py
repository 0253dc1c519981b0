"""The model card: a README.md beside a personal model's files that says what it is.

Base model, the data it was trained on (documents, pairs by strategy and review status),
the training configuration and loss, the exported files with their verification, and the
newest evaluation. Written by `kwdesk export` and refreshed by `kwdesk eval`; copied with
the model by `kwdesk publish`. The YAML header is the Hugging Face Hub's model card
metadata, so the folder can be uploaded as it is.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from kwdesk.core.models.base_models import base_hub_id
from kwdesk.core.store.evals import newest_eval_of_run
from kwdesk.core.store.models import exports_of_run
from kwdesk.core.store.pairs import pair_origins

CARD_NAME = "README.md"


def _run_facts(db, run_id: int) -> tuple[dict, dict, Path]:
    from kwdesk.core.store.runs import get_run

    run = get_run(db, run_id, kind="train")
    if run is None or run.path is None:
        raise ValueError(f"There is no training run {run_id}.")
    config = json.loads((run.path / "config.json").read_text())
    return config, run.metrics, run.path


def _data_summary(db, run_dir: Path) -> tuple[Counter, Counter, list[tuple[str, int]], int]:
    """Strategies and review states of the trained pairs, their documents, replay count."""
    pair_ids, replay = [], 0
    snapshot = run_dir / "dataset.jsonl"
    if snapshot.is_file():
        for line in snapshot.read_text(encoding="utf-8").splitlines():
            source = json.loads(line).get("source", "")
            if source.startswith("pair:"):
                pair_ids.append(int(source[5:]))
            elif source.startswith("replay"):
                replay += 1
    strategies, statuses, documents = Counter(), Counter(), Counter()
    for start in range(0, len(pair_ids), 500):
        chunk = pair_ids[start : start + 500]
        for strategy, status, document in pair_origins(db, chunk):
            strategies[strategy or "?"] += 1
            statuses[status or "?"] += 1
            if document:
                documents[document] += 1
    # A pair deleted since the run still counts: the snapshot is what was trained.
    missing = len(pair_ids) - sum(strategies.values())
    if missing > 0:
        strategies["(deleted since)"] += missing
    return strategies, statuses, sorted(documents.items()), replay


def _evaluation(db, run_id: int) -> tuple[dict, str] | None:
    newest = newest_eval_of_run(db, run_id)
    if newest is None:
        return None
    eval_id, summary = newest
    return summary, f"eval-{eval_id}/report.html"


def _size(n: int | None) -> str:
    return f"{(n or 0) / 1e6:,.0f} MB"


def model_card(db, run_id: int) -> str:
    """The card of RUN_ID's personal model, as Markdown with Hub metadata."""
    config, metrics, run_dir = _run_facts(db, run_id)
    train = config.get("train", {})
    hub_id = base_hub_id(config)
    name = f"{config.get('base_name', 'model')} + run {run_id}"
    files = [(m.name, m.path, m.quantization, m.size_bytes, m.verified, m.meta) for m in exports_of_run(db, run_id)]
    strategies, statuses, documents, replay = _data_summary(db, run_dir)

    meta = ["---"]
    if hub_id:
        meta += [f"base_model: {hub_id}"]
    meta += ["tags:", "- kwdesk", "- lora", "- gguf", "---", ""]
    out = meta + [
        f"# {name}",
        "",
        f"A personal model made with kwdesk: {config.get('base_name', 'the base model')} with a LoRA adapter trained on "
        f"{sum(strategies.values())} question-and-answer pairs and training texts written from "
        f"{len(documents)} document{'s' if len(documents) != 1 else ''}, then merged and converted to GGUF.",
        "",
        "## Files",
        "",
        "| file | quantization | size | verified against the merged model |",
        "|---|---|---|---|",
    ]
    for fname, path, quant, size, verified, fmeta in files:
        fields = fmeta or {}
        check = fields.get("verification", {})
        agreement = check.get("agreement")
        detail = f"yes, {agreement:.0%} of tokens agree" if verified and agreement is not None else ("yes" if verified else "no")
        strength = fields.get("strength", 1.0)
        partial = f" ({strength:.0%} of the trained change)" if strength != 1.0 else ""
        out.append(f"| {Path(path).name}{partial} | {quant} | {_size(size)} | {detail} |")
    if not files:
        out.append("| (not exported yet: `kwdesk export`) | | | |")
    out += [
        "",
        "Beside each GGUF: `<name>.Modelfile` for `ollama create NAME -f <name>.Modelfile`. The chat template is inside the "
        "GGUF, so llama.cpp, LM Studio and Ollama format the chat correctly.",
        "",
        "## Base model",
        "",
        f"- {config.get('base_name', '?')}" + (f" ({hub_id})" if hub_id else ""),
        f"- loaded from: {config.get('base_source', '?')}",
    ]
    if config.get("base_source") == "bundled":
        out.append("- the bundled Q4_1 GGUF, dequantized to 32 bit for training: its weights are close to, not equal to, "
                   "the Hub's original")
    out += [
        "",
        "## Training data",
        "",
        "| documents | pairs trained | replay examples |",
        "|---|---|---|",
        f"| {len(documents)} | {sum(strategies.values())} | {replay} |",
        "",
        "By strategy: " + ", ".join(f"{k} {v}" for k, v in strategies.most_common()) + ".",
        "By review: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()) + ".",
        "",
        "Documents (pairs from each):",
        "",
        *[f"- {doc} ({count})" for doc, count in documents[:100]],
    ]
    if len(documents) > 100:
        out.append(f"- and {len(documents) - 100} more")
    out += [
        "",
        "Replay examples are the base model's own answers to general prompts, mixed in so that it keeps its general skills.",
        f"The exact data is in the run's dataset.jsonl (sha256 of the data: `{config.get('dataset_sha256', '?')}`).",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    for key in ("preset", "rank", "alpha", "dropout", "target_modules", "learning_rate", "epochs", "max_seq_len",
                "micro_batch", "grad_accum", "replay_ratio", "packing", "qlora", "seed"):
        if key in train:
            value = ", ".join(train[key]) if isinstance(train[key], list) else train[key]
            out.append(f"| {key} | {value} |")
    losses = metrics.get("losses") or []
    if losses:
        out.append(f"| steps | {len(losses)} |")
        out.append(f"| loss | {losses[0]:.3f} -> {losses[-1]:.3f} |")
    evaluation = _evaluation(db, run_id)
    out += ["", "## Evaluation", ""]
    if evaluation is None:
        out.append("Not evaluated yet: `kwdesk eval` measures what it learned and what it forgot.")
    else:
        summary, report = evaluation
        heldout = summary.get("heldout", {})
        out += [
            "Held-out questions: new wordings of trained facts, never trained. Closed-book unless it says with sources.",
            "",
            "| model | right |",
            "|---|---|",
        ]
        labels = {"base": "base", "base+rag": "base with sources", "personal": "personal", "personal+rag": "personal with sources"}
        for key, label in labels.items():
            score = heldout.get(key)
            if score:
                out.append(f"| {label} | {score['correct']}/{score['total']} ({score['share']:.0%}) |")
        kept = summary.get("kept", {})
        if kept.get("total"):
            out.append("")
            out.append(f"General questions the base answered right that the personal model still answers right: "
                       f"{kept['correct']}/{kept['total']} ({kept['share']:.0%}).")
        if summary.get("gap_closed") is not None:
            out.append(f"Share of the gap between the base and the base with sources closed: {summary['gap_closed']:.0%}.")
        out += ["", f"Every question, reference, answer and verdict: [{report}]({report})."]
    out += [
        "",
        "## Limits",
        "",
        "A small model trained on a few documents: it can state a fact of the documents wrongly or mix facts up. "
        "Check important answers against the documents (kwdesk's chat can cite them).",
        "",
    ]
    return "\n".join(out)


def write_model_card(folder: Path, db, run_id: int) -> Path:
    target = Path(folder) / CARD_NAME
    partial = target.with_name(target.name + ".part")
    partial.write_text(model_card(db, run_id), encoding="utf-8")
    partial.replace(target)
    return target
