"""The models a local server offers, by names a user's other tools can show.

Every personal model of the workspace is offered once, under an id made from its name
("contracts-version-2"): its adapter file on the shared base where it has a verified one
(many models, one base in memory), else its model file (GGUF) on its own. The base those
adapters share is offered too, so that a client can ask the same question with and without
the documents' knowledge; with no adapter in the workspace, the bundled model is the base.
A request may name a model by its id here, its name or a workspace model id of its files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.models.bundled import BUNDLED_NAME, bundled_model_path
from kwdesk.core.models.targets import ChatTarget, ModelSpecError, chat_target
from kwdesk.core.store.personal import personal_models


class UnknownModel(KwdeskError):
    """A request named a model the server does not offer."""


@dataclass(frozen=True)
class ServedModel:
    id: str  # what a client sends as "model"
    name: str  # the name kwdesk shows for it
    kind: str  # "personal" (a model file), "adapter" (on a shared base) or "base"
    target: ChatTarget
    created: int = 0  # seconds since 1970, as OpenAI's model list has it
    file_ids: tuple[int, ...] = ()  # the workspace ids of its files, any of which a request may name

    def to_openai(self) -> dict:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": "kwdesk",
                "kwdesk": {"name": self.name, "kind": self.kind, "model_id": self.target.model_id,
                           "base": self.target.gguf.name if self.target.adapter else None}}


def slug(name: str) -> str:
    """A name as a model id: lower case, words joined by "-" (what OpenAI-style ids look like)."""
    return re.sub(r"[^a-z0-9.]+", "-", name.lower()).strip("-.") or "model"


def _created(text: str) -> int:
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except (TypeError, ValueError):
        return 0


def served_models(db) -> list[ServedModel]:
    """The models offered, personal ones newest first, then the bases."""
    out: list[ServedModel] = []
    bases: dict[Path, str] = {}
    for model in reversed(personal_models(db)):
        entry = model.chat_file
        if entry is None:
            continue
        try:
            target = chat_target(db, entry.id, model.name)
        except ModelSpecError:
            continue  # an adapter whose base is gone cannot be served; `kwdesk models` says why
        if entry.kind == "gguf-lora":
            bases.setdefault(target.gguf, _base_name(target.gguf))
        out.append(ServedModel(slug(model.name), model.name, "adapter" if entry.kind == "gguf-lora" else "personal",
                               target, _created(model.trained_at), tuple(model.ids)))
    if not bases:
        bases[bundled_model_path()] = BUNDLED_NAME
    for path, name in bases.items():
        out.append(ServedModel(slug(name), f"{name} (the base, not trained on your documents)", "base",
                               ChatTarget(path, name)))
    return _unique(out)


def _base_name(gguf: Path) -> str:
    """A base file's name without the cache's content hash: 'SmolLM2-135M-Instruct-bundled-Q8_0'."""
    return re.sub(r"-[0-9a-f]{16}(?=-|$)", "", gguf.stem)


def _unique(models: list[ServedModel]) -> list[ServedModel]:
    """Ids made unique by the workspace model id where two names give one slug."""
    seen: set[str] = set()
    out = []
    for model in models:
        model_id = model.id
        if model_id in seen:
            model_id = f"{model.id}-{model.target.model_id or len(seen)}"
        seen.add(model_id)
        out.append(model if model_id == model.id else ServedModel(model_id, model.name, model.kind, model.target,
                                                                  model.created, model.file_ids))
    return out


def find_model(models: list[ServedModel], wanted: str | None) -> ServedModel:
    """The model a request names (its id, its name or its workspace id); none: the newest
    personal model."""
    if not wanted:
        if models:
            return models[0]
        raise UnknownModel("No model is offered.")
    text = str(wanted).strip()
    for model in models:
        if text in (model.id, model.name) or (text.isdigit() and int(text) in (model.target.model_id, *model.file_ids)):
            return model
    offered = ", ".join(m.id for m in models)
    raise UnknownModel(f"The model {text!r} does not exist here. Offered: {offered}.")
