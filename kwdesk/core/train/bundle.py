"""Training bundles: a run's data and configuration in a folder that trains on another
machine with one command (`accelerate launch train.py`), and its adapter brought back.

A bundle holds dataset.jsonl (the records kwdesk would train: pairs, training texts and
replay, in order), config.json (the training configuration, the base model, the data's
hash), train.py (core/bundle_train.py) with train_data.py (kwdesk's encoding, packing and
masking), run.sh and a README. After training it also holds output/adapter and
output/metrics.json, which `import_bundle` registers as a finished run of the workspace,
ready to export like any other.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from kwdesk import __version__
from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.models.base_models import BaseModel, base_hub_id, resolve_base
from kwdesk.core.models.model_files import check_safetensors_folder
from kwdesk.core.store.personal import knowledge_name
from kwdesk.core.store.runs import create_run, mark_run_failed, set_run_status
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.train import bundle_train, train_data
from kwdesk.core.train.job import (
    TrainingError,
    TrainResult,
    record_finished_run,
    training_records,
    write_dataset_snapshot,
)
from kwdesk.core.train.presets import TrainConfig
from kwdesk.core.train.recipe import passes_for

RUN_COMMAND = "accelerate launch train.py"


class BundleError(KwdeskError):
    """The bundle cannot be made or read; the message says why."""


def _readme(config: dict, count: int) -> str:
    base = config["base"]
    return f"""# kwdesk training bundle

{count} training records from a kwdesk workspace, and what trains them into a LoRA adapter
for {base['name']}{f" ({base['hub_id']})" if base.get('hub_id') else ""}.

## Train

    pip install torch "transformers>=5" "peft>=0.18" "accelerate>=1.0"
    {RUN_COMMAND}

`accelerate launch` uses every GPU of the machine (data parallel; set it up once with
`accelerate config`). For a base that does not fit one GPU, choose FSDP there, with
`fsdp_use_orig_params: true` (LoRA trains a few parameters among frozen ones). On a machine
without a GPU: `accelerate launch --multi_gpu --num_processes 2 train.py` (two CPU
processes; `--multi_gpu` picks accelerate's multi-process launcher; slow, for a check).

If the base is not in the Hugging Face cache and cannot be downloaded there, copy it and
name it: `{RUN_COMMAND} --base /path/to/model`.

## Bring it back

Copy this folder (with output/) back and run `kwdesk bundle import <folder>`; the adapter
becomes a finished run of the workspace, ready for `kwdesk export`.

Made by kwdesk {__version__}; the data's sha256 is {config['dataset_sha256']}.
"""


def export_bundle(workspace: Workspace, db, target: Path, config: TrainConfig, base_spec: str | None = None,
                  on_status=None) -> dict:
    """Write a training bundle for CONFIG to the new folder TARGET; returns a summary."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BundleError(f"{target} exists and is not empty; name a new folder.")
    base = resolve_base(base_spec, on_status)
    # A bundle trains every pass elsewhere: nothing is held back for checks it would not make.
    records, _, data_hash, _, _ = training_records(db, replace(config, early_stop=False), base, on_status)
    if config.adapt:
        # The passes for this much data (train/recipe.py); the batch is the training
        # machine's to choose (a GPU wants large ones), so only the passes are fixed here.
        documents = sum(1 for r in records if not r["source"].startswith("replay:"))
        config = replace(config, epochs=passes_for(documents, config.passes_scale))
    summary = {
        "kwdesk_version": __version__,
        "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "train": config.to_dict(),
        "base": {"name": base.name, "source": base.source, "hub_id": base_hub_id({"base_source": base.source}),
                 "local_folder": str(base.folder)},
        "dataset_sha256": data_hash,
        "records": len(records),
        "replay_records": sum(1 for r in records if r["source"].startswith("replay:")),
    }
    partial = target.with_name(target.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with (partial / "dataset.jsonl").open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    (partial / "config.json").write_text(json.dumps(summary, indent=2))
    shutil.copy(bundle_train.__file__, partial / "train.py")
    shutil.copy(train_data.__file__, partial / "train_data.py")
    (partial / "run.sh").write_text(f"#!/bin/sh\ncd \"$(dirname \"$0\")\" && exec {RUN_COMMAND} \"$@\"\n")
    (partial / "run.sh").chmod(0o755)
    (partial / "README.md").write_text(_readme(summary, len(records)), encoding="utf-8")
    if target.exists():
        target.rmdir()
    partial.rename(target)
    return {"path": str(target.resolve()), "records": len(records), "replay_records": summary["replay_records"],
            "dataset_sha256": data_hash, "command": RUN_COMMAND}


def _local_base(config: dict, on_status=None) -> BaseModel:
    """The bundle's base on this machine: the folder it was made from, else its source."""
    base = config["base"]
    local = Path(base.get("local_folder") or "")
    if base.get("local_folder") and local.is_dir():
        return BaseModel(base["name"], local, base["source"])
    return resolve_base(base["source"], on_status)


def import_bundle(workspace: Workspace, db, folder: Path, on_status=None) -> int:
    """Register a trained bundle's adapter as a finished run; returns the run id."""
    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
        metrics = json.loads((folder / "output" / "metrics.json").read_text())
    except FileNotFoundError as exc:
        raise BundleError(f"{folder} is not a trained kwdesk bundle: {Path(exc.filename).name} is missing "
                          f"(train it first: {RUN_COMMAND}).") from exc
    except ValueError as exc:
        raise BundleError(f"{folder}: a damaged bundle file ({exc}).") from exc
    adapter = folder / "output" / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise BundleError(f"{folder}/output has no adapter: was the training finished?")
    check_safetensors_folder(adapter, what="adapter")
    if metrics.get("dataset_sha256") != config["dataset_sha256"]:
        raise BundleError("The adapter was trained on other data than this bundle's dataset.jsonl.")
    base = _local_base(config, on_status)
    train = TrainConfig.from_dict(config["train"])
    run_id, run_dir = create_run(db, "train", {**train.to_dict(), "knowledge": knowledge_name(db, train.collection_id)},
                                 folder_for=lambda i: workspace.runs_dir / f"train-{i}")
    set_run_status(db, run_id, "created", dataset_sha256=config["dataset_sha256"])
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(adapter, run_dir / "adapter.part")
        (run_dir / "adapter.part").rename(run_dir / "adapter")
        records = [json.loads(line) for line in (folder / "dataset.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        write_dataset_snapshot(run_dir, records)  # the run's snapshot, as kwdesk writes it
        (run_dir / "config.json").write_text(json.dumps({
            "train": train.to_dict(), "base_name": base.name, "base_source": base.source, "base_folder": str(base.folder),
            "dataset_sha256": config["dataset_sha256"], "total_steps": metrics["steps"],
            "examples": config["records"] - config["replay_records"], "replay_examples": config["replay_records"],
            "trained_elsewhere": {"world_size": metrics.get("world_size"), "device": metrics.get("device"), "bundle": str(folder)},
        }, indent=2))
        losses = metrics.get("losses") or []
        result = TrainResult(run_id, run_dir / "adapter", metrics["steps"], losses, metrics.get("tokens_per_second", 0.0), 0.0,
                             config["records"] - config["replay_records"], config["replay_records"], config["dataset_sha256"])
        record_finished_run(db, run_id, result, base, metrics.get("sources_by_process", []))
    except Exception as exc:
        mark_run_failed(db, run_id, str(exc))
        if isinstance(exc, (OSError, TrainingError)):
            raise BundleError(f"The bundle could not be imported: {exc}") from exc
        raise
    return run_id
