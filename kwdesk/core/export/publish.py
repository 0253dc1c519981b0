"""A personal model handed to other tools: LM Studio's models folder, and the LoRA adapter
alone in PEFT format for servers that serve many adapters on one base (vLLM, SGLang).

LM Studio finds models laid out as ``<models>/<publisher>/<model>/<file>.gguf``; its
models folder is ``~/.lmstudio/models`` (``~/.cache/lm-studio/models`` before 0.3). The
GGUF is hard-linked when the folder is on the same disk (no second copy of hundreds of
megabytes), else copied; either way it appears whole or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Job
from kwdesk.core.export.model_card import write_model_card
from kwdesk.core.models.base_models import base_hub_id
from kwdesk.core.store.models import get_model

PUBLISHER = "kwdesk"
LMSTUDIO_DIRS = ("~/.lmstudio/models", "~/.cache/lm-studio/models")
PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")


class PublishError(KwdeskError):
    """The model cannot be handed over; the message says why."""


def lmstudio_models_dir() -> Path | None:
    """LM Studio's models folder on this machine, if LM Studio has made one."""
    for candidate in LMSTUDIO_DIRS:
        folder = Path(candidate).expanduser()
        if folder.is_dir():
            return folder
    return None


def _place(src: Path, dst: Path) -> None:
    """DST appears whole: a hard link where the disk allows, else a copy renamed into place."""
    partial = dst.with_name(dst.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        os.link(src, partial)
    except OSError:
        shutil.copyfile(src, partial)
    os.replace(partial, dst)


def publish_lmstudio(db, model_id: int, models_dir: Path | None = None, publisher: str = PUBLISHER) -> Path:
    """Put GGUF model MODEL_ID where LM Studio lists it; returns the GGUF's new path."""
    model = get_model(db, model_id)
    if model.kind != "gguf":
        raise PublishError(f"Model {model_id} is a {model.kind} model; LM Studio loads GGUF files (kwdesk export makes one).")
    src = Path(model.path)
    if not src.is_file():
        raise PublishError(f"The file of model {model_id} is missing: {src}")
    root = Path(models_dir).expanduser() if models_dir else lmstudio_models_dir()
    if root is None:
        raise PublishError("LM Studio's models folder was not found (~/.lmstudio/models); name it with --dir.")
    # One folder per model, named after the file without its quantization (LM Studio
    # groups the quantizations of one model in one folder).
    model_name = src.stem.rsplit("-", 1)[0] if model.quantization and src.stem.endswith(model.quantization) else src.stem
    folder = root / publisher / model_name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / src.name
    _place(src, target)
    if model.run_id is not None:
        write_model_card(folder, db, model.run_id)
    return target


def export_peft_adapter(db, run_id: int, target: Path) -> Path:
    """RUN_ID's LoRA adapter alone, in PEFT format, with its model card; returns the folder.

    adapter_config.json names the base by its Hub id where there is one (what a server
    loads), instead of the path of kwdesk's local copy."""
    from kwdesk.core.store.runs import get_run

    run = get_run(db, run_id, kind="train", status="done")
    if run is None or run.path is None:
        raise PublishError(f"Run {run_id} is not a finished training run.")
    adapter = run.path / "adapter"
    if not all((adapter / name).is_file() for name in PEFT_FILES):
        raise PublishError(f"The adapter files of run {run_id} are missing from {adapter}.")
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PublishError(f"{target} exists and is not empty; name a new folder.")
    partial = target.with_name(target.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(adapter, partial)
    config_file = partial / "adapter_config.json"
    config = json.loads(config_file.read_text())
    run_config = json.loads((run.path / "config.json").read_text())
    hub_id = base_hub_id(run_config)
    if hub_id:
        config["base_model_name_or_path"] = hub_id
    config_file.write_text(json.dumps(config, indent=2))
    write_model_card(partial, db, run_id)
    if target.exists():
        target.rmdir()
    partial.rename(target)
    return target



class PublishJob(Job):
    """publish_lmstudio or export_peft_adapter as a job: copying a GGUF can take seconds.
    The adapter is named by its training run (RUN_ID) or by a model made from it."""

    def __init__(self, workspace, target: str, model_id: int | None = None, folder: Path | None = None, *,
                 run_id: int | None = None) -> None:
        super().__init__()
        if target not in ("lmstudio", "adapter"):
            raise ValueError(target)
        self.workspace, self.target, self.model_id, self.folder, self.run_id = workspace, target, model_id, folder, run_id

    def _run(self) -> dict:
        db = self.workspace.connect()
        try:
            if self.target == "lmstudio":
                self.report(0, None, "Placing the model file in LM Studio's folder…")
                return {"target": "lmstudio", "model_id": self.model_id,
                        "path": str(publish_lmstudio(db, self.model_id, self.folder))}
            run_id = self.run_id if self.run_id is not None else get_model(db, self.model_id).run_id
            if run_id is None:
                raise PublishError("This model did not come from a training run of this workspace.")
            self.report(0, None, "Writing the adapter…")
            path = export_peft_adapter(db, run_id, self.folder)
            return {"target": "adapter", "run_id": run_id, "path": str(Path(path).resolve())}
        finally:
            db.close()
