"""Which model a user means, and the files that answer for it.

Every front end names models the same way: a registered model id ("7"), "bundled", a GGUF
file, an HF folder or hub id, or nothing (the newest verified export). ``ModelSpec`` is the
one parser of that text; the functions below turn a spec into the files llama.cpp loads:

    chat_target      the model itself: its GGUF, or for an adapter file the base it applies to
    base_target      the base a personal model was trained from (answers side by side)
    comparable_base  that base converted and quantized the way the personal model was
    converted_base   a run's training base as a GGUF in a given quantization, cached

Chat, evaluation, export, publish, the app and the CLI all go through here, so "digits mean
a model id" is decided once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.models.bundled import BUNDLED_NAME, bundled_model_path
from kwdesk.core.models.gguf import gguf_from_folder, quantize
from kwdesk.core.store.models import ModelEntry, get_model, newest_gguf
from kwdesk.core.store.personal import model_name, personal_models
from kwdesk.core.store.runs import run_config

# The kinds of registered model that llama.cpp can chat with.
CHATTABLE_KINDS = ("gguf", "gguf-lora")


class ModelSpecError(KwdeskError):
    """A spec that names no usable model; the message says why."""


@dataclass(frozen=True)
class ModelSpec:
    """A model as the user named it. Exactly one of the fields says what it is:
    ``model_id`` (a registered model), ``bundled``, ``path`` (a file or folder that exists),
    ``name`` (an HF folder or hub id left to the base-model resolver); none: the newest
    verified export, else the bundled model."""

    model_id: int | None = None
    bundled: bool = False
    path: Path | None = None
    name: str | None = None

    @classmethod
    def parse(cls, spec: "str | int | ModelSpec | None") -> "ModelSpec":
        if isinstance(spec, ModelSpec):
            return spec
        if spec is None or (isinstance(spec, str) and not spec.strip()):
            return cls()
        if isinstance(spec, int):
            return cls(model_id=spec)
        text = spec.strip()
        if text.isdigit():
            return cls(model_id=int(text))
        if text == "bundled":
            return cls(bundled=True)
        path = Path(text).expanduser()
        if path.exists():
            return cls(path=path)
        return cls(name=text)

    @property
    def is_newest(self) -> bool:
        return self.model_id is None and not self.bundled and self.path is None and self.name is None

    def __str__(self) -> str:
        """The spec as text again (what a combo box or a command line holds); "" for newest."""
        if self.model_id is not None:
            return str(self.model_id)
        if self.bundled:
            return "bundled"
        return str(self.path) if self.path is not None else (self.name or "")

    def entry(self, db) -> ModelEntry | None:
        """The registered model this spec names (the newest export for none); raises
        ModelNotRegistered for an id that is not in the workspace."""
        if self.model_id is not None:
            return get_model(db, self.model_id)
        if self.is_newest:
            return newest_gguf(db)
        return None


@dataclass(frozen=True)
class ChatTarget:
    """What llama.cpp loads for a model: the GGUF, its name, and a LoRA adapter file to put on
    it (None: the file is the whole model). COLLECTION_ID: the knowledge collection it was
    trained on (None: the whole workspace), so that sources come from the same documents."""

    gguf: Path
    name: str
    adapter: Path | None = None
    collection_id: int | None = None
    model_id: int | None = None


def _bundled() -> ChatTarget:
    return ChatTarget(bundled_model_path(), BUNDLED_NAME)


def _collection(db, entry: ModelEntry | None) -> int | None:
    if entry is None or entry.run_id is None:
        return None
    return (run_config(db, entry.run_id) or {}).get("collection_id")


def chat_target(db, spec: "str | int | ModelSpec | None", name: str | None = None) -> ChatTarget:
    """The files for SPEC: a registered GGUF, an adapter file on the base it applies to, a
    merged or base folder converted to GGUF once, a GGUF path, an HF folder or hub id.
    NAME, where the caller knows it already (a list of personal models), saves reading
    every model again to name this one."""
    spec = ModelSpec.parse(spec)
    if spec.bundled:
        return _bundled()
    entry = spec.entry(db)
    if entry is not None:
        collection, name = _collection(db, entry), name or model_name(db, entry)
        if entry.kind == "gguf-lora":
            return ChatTarget(adapter_base(db, entry), name, Path(entry.path), collection, entry.id)
        gguf = Path(entry.path) if entry.kind == "gguf" else gguf_from_folder(Path(entry.path), entry.name)
        return ChatTarget(gguf, name, None, collection, entry.id)
    if spec.is_newest:
        return _bundled()
    if spec.path is not None and spec.path.is_file():
        with spec.path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelSpecError(f"{spec.path.name} is not a GGUF file.")
        return ChatTarget(spec.path, spec.path.stem)
    base = _resolve_base(str(spec))
    return ChatTarget(gguf_from_folder(base.folder, base.name), base.name)


def _resolve_base(text: str):
    from kwdesk.core.models.base_models import BaseModelError, resolve_base

    try:
        return resolve_base(text)
    except BaseModelError as exc:
        raise ModelSpecError(str(exc)) from exc


def base_target(db, spec: "str | int | ModelSpec | None") -> ChatTarget:
    """The base model that SPEC was trained from (for answers side by side). A model with no
    lineage (the bundled model itself, a file) is its own base."""
    spec = ModelSpec.parse(spec)
    entry = None if spec.bundled else spec.entry(db)
    if entry is None:
        return _bundled()
    # Exports, merged models and adapters record the base they came from; a base row its source.
    source = entry.meta.get("base") if entry.kind != "base" else entry.meta.get("source")
    if source in (None, "", "bundled"):
        return _bundled()
    source_path = Path(source).expanduser()
    if source_path.is_file() and source_path.suffix.lower() == ".gguf":
        return ChatTarget(source_path, source_path.stem)
    try:
        base = _resolve_base(source)
    except ModelSpecError as exc:
        raise ModelSpecError(f"The base model of this model cannot be found: {exc}") from exc
    return ChatTarget(gguf_from_folder(base.folder, base.name), base.name)


def comparable_base(db, spec: "str | int | ModelSpec | None") -> ChatTarget | None:
    """The base model as a GGUF made the way SPEC was made (the same conversion, the same
    quantization), so that an evaluation measures what training changed and not what a
    different file format changes (a personal model that learned nothing, asked against the
    bundled Q4_1 file, kept only 95.5% of its right answers). None when SPEC is not an
    export of a training run whose base folder is here."""
    spec = ModelSpec.parse(spec)
    entry = None if spec.bundled else spec.entry(db)
    if entry is None or entry.kind not in CHATTABLE_KINDS or entry.run_id is None:
        return None
    config = run_config(db, entry.run_id, from_file=True)
    if config is None:
        return None
    made = converted_base(config, entry.quantization or "F16")
    return None if made is None else ChatTarget(made[0], made[1])


def converted_base(run_config: dict, quantization: str) -> tuple[Path, str] | None:
    """The training base of a run (RUN_CONFIG, its config.json) as a GGUF in QUANTIZATION,
    converted once and cached: what a personal model is compared with, and the base its
    LoRA adapter file is applied to. None when the base folder is not here."""
    folder = Path(run_config.get("base_folder") or "")
    if not run_config.get("base_folder") or not folder.is_dir():
        return None
    name = run_config.get("base_name") or folder.name
    f16 = gguf_from_folder(folder, name)
    if quantization == "F16":
        return f16, f"{name} (F16, converted like the personal model)"
    target = f16.with_name(f16.name.replace("-F16.gguf", f"-{quantization}.gguf"))
    if not target.is_file():
        partial = target.with_name(target.name + ".part")
        quantize(f16, partial, quantization)
        partial.replace(target)
    return target, f"{name} ({quantization}, converted like the personal model)"


def adapter_base(db, entry: ModelEntry) -> Path:
    """The base GGUF an adapter file applies to; made again from the training base (the same
    conversion and quantization) when the cached file was removed."""
    recorded = Path(entry.meta.get("base_gguf") or "")
    if entry.meta.get("base_gguf") and recorded.is_file():
        return recorded
    made = comparable_base(db, ModelSpec(model_id=entry.id))
    if made is None:
        raise ModelSpecError(f"The base model of {entry.name} is missing, so its adapter cannot be used.")
    return made.gguf


def switchable_adapter(db, spec: "str | int | ModelSpec | None", loaded_base: Path) -> ChatTarget | None:
    """The adapter target for SPEC when it is an adapter file that applies to the base GGUF
    already loaded (so a chat can switch adapters in milliseconds instead of reloading);
    None when SPEC needs a load of its own."""
    spec = ModelSpec.parse(spec)
    if spec.model_id is None:
        return None
    entry = get_model(db, spec.model_id)
    base = entry.meta.get("base_gguf")
    if entry.kind != "gguf-lora" or not base or Path(base) != Path(loaded_base) or not Path(base).is_file():
        return None
    return ChatTarget(Path(base), model_name(db, entry), Path(entry.path), _collection(db, entry), entry.id)


def chat_models(db) -> list[tuple[str, str]]:
    """(spec, label) for every model one can chat with: each personal model once (by its
    name, with its model file or else its adapter file), newest first, then the bundled
    model. SPEC goes to chat_target."""
    out = [(str(model.chat_file.id), f"{model.name} ({model.trained_on})")
           for model in reversed(personal_models(db)) if model.chat_file is not None]
    out.append(("bundled", f"The base model, not trained on your documents ({BUNDLED_NAME})"))
    return out