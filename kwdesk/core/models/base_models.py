"""Base models for training: a local Hugging Face folder, a GGUF file, or the bundled model.

transformers can load a GGUF file as a trainable float model, but that takes about 40 s
for the bundled 135M model on 2 cores (most of it dequantizing); the same weights saved
once as a safetensors folder load in about 5 s. A GGUF base is therefore converted once
and kept in the user cache folder, keyed by the file's content.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.files import file_sha256
from kwdesk.core.base.network import downloads_allowed
from kwdesk.core.base.paths import user_cache_dir
from kwdesk.core.models.ml import import_ml
from kwdesk.core.models.model_files import (
    ModelFileError,
    check_gguf,
    check_safetensors_folder,
)

log = logging.getLogger(__name__)

COMPLETE_MARKER = ".kwdesk-complete"


class BaseModelError(KwdeskError):
    """A base model that cannot be found or loaded; the message is for people."""


@dataclass
class BaseModel:
    name: str
    folder: Path  # a Hugging Face folder: config.json, safetensors, tokenizer
    source: str  # what the user named: a path, "bundled", or a hub id


def bases_cache_dir() -> Path:
    return Path(os.environ.get("KWDESK_BASE_CACHE") or user_cache_dir() / "bases")


def gguf_as_hf_folder(gguf: Path, on_status: Callable[[str], None] | None = None) -> Path:
    """The HF folder made from GGUF (made now if it is not in the cache)."""
    gguf = Path(gguf)
    folder = bases_cache_dir() / f"{gguf.stem}-{file_sha256(gguf)[:16]}"
    if (folder / COMPLETE_MARKER).is_file():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if on_status:
        on_status(f"Converting {gguf.name} for training (once; about a minute)…")
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:
        raise BaseModelError(f"transformers cannot load {gguf.name} as a trainable model: {exc}") from exc
    # A model loaded from GGUF refuses save_pretrained until it forgets its quantizer;
    # its weights are already plain float tensors.
    model.hf_quantizer = None
    model.config.quantization_config = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = folder.with_name(f"{folder.name}.part-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    (partial / COMPLETE_MARKER).write_text(str(gguf.resolve()))
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)  # a folder that exists under its name is a whole folder
    return folder


def resolve_base(spec: str | None = None, on_status: Callable[[str], None] | None = None) -> BaseModel:
    """SPEC: None or "bundled", a GGUF file, a local HF folder, or a hub id (when online)."""
    import_ml()
    if spec in (None, "", "bundled"):
        from kwdesk.core.models.bundled import (
            BUNDLED_NAME,
            ModelNotFound,
            bundled_model_path,
        )

        try:
            gguf = bundled_model_path()
        except ModelNotFound as exc:
            raise BaseModelError(str(exc)) from exc
        return BaseModel(BUNDLED_NAME, gguf_as_hf_folder(gguf, on_status), "bundled")
    path = Path(spec).expanduser()
    if path.is_file():
        try:
            check_gguf(path)
        except ModelFileError as exc:
            raise BaseModelError(f"{exc} Name a GGUF file or a model folder.") from exc
        return BaseModel(path.stem, gguf_as_hf_folder(path, on_status), str(path))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise BaseModelError(f"{path} has no config.json: not a Hugging Face model folder.")
        try:
            check_safetensors_folder(path, what="base model")
        except ModelFileError as exc:
            raise BaseModelError(str(exc)) from exc
        return BaseModel(path.name, path, str(path))
    if "/" in spec and not spec.startswith((".", "/", "~")):
        return _from_hub(spec, on_status)
    raise BaseModelError(f"No model at {spec}: name a GGUF file, a model folder, or a hub id such as Qwen/Qwen2.5-0.5B-Instruct.")


def _from_hub(repo_id: str, on_status) -> BaseModel:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    offline = not downloads_allowed()
    if on_status:
        on_status(f"Downloading {repo_id}…" if not offline else f"Looking for {repo_id} in the local cache…")
    try:
        folder = snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja"], local_files_only=offline)
    except LocalEntryNotFoundError as exc:
        raise BaseModelError(
            f"{repo_id} is not on this machine, and downloading models is off (kwdesk works offline). Allow "
            f"downloads in Settings (or `kwdesk settings allow_downloads true`), or pick a local model."
        ) from exc
    except Exception as exc:  # network errors of every kind
        raise BaseModelError(f"Cannot download {repo_id}: {exc}") from exc
    return BaseModel(repo_id, Path(folder), repo_id)


def base_hub_id(config: dict) -> str | None:
    """The Hub id of the run's base, where there is one."""
    source = config.get("base_source") or ""
    if source == "bundled":
        from kwdesk.core.models.bundled import BUNDLED_HUB_ID

        return BUNDLED_HUB_ID
    if "/" in source and not source.startswith((".", "/", "~")) and not Path(source).exists():
        return source
    return None
