"""Chat with a GGUF model on llama.cpp: streaming, the model's own chat template, a system
prompt, stop and cancel, history kept in the workspace, and "with sources".

With sources, the passages of the workspace that match the question best (full-text
search) are given to the model with numbers, and the answer comes back with those
passages listed by document and page: the model knows the domain, retrieval keeps it
current and checkable.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from kwdesk.core.documents import search_chunks
from kwdesk.core.jobs import Job, ProgressCallback
from kwdesk.core.workspace import Workspace, write_transaction

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly and correctly."
SOURCES_TOP_K = 3
MAX_SOURCE_CHARS = 900


class ChatError(Exception):
    pass


@dataclass
class Answer:
    text: str
    stopped: str  # stop, length, cancelled
    sources: list[dict] = field(default_factory=list)
    conversation_id: int | None = None
    tokens: int = 0


def resolve_chat_model(db, spec: str | int | None) -> tuple[Path, str]:
    """A GGUF file for SPEC: a registered model id, a GGUF path, an HF folder or hub id
    (converted to GGUF once), or None for the newest verified export (else the bundled model)."""
    from kwdesk.core.library import get_model, newest_gguf

    if spec is None:
        entry = newest_gguf(db)
        if entry is not None:
            return Path(entry.path), entry.name
        from kwdesk.core.bundled import BUNDLED_NAME, bundled_model_path

        return bundled_model_path(), BUNDLED_NAME
    if isinstance(spec, int) or str(spec).isdigit():
        entry = get_model(db, int(spec))
        if entry.kind == "gguf":
            return Path(entry.path), entry.name
        return _gguf_from_folder(Path(entry.path), entry.name), entry.name
    path = Path(str(spec)).expanduser()
    if path.is_file():
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ChatError(f"{path.name} is not a GGUF file.")
        return path, path.stem
    from kwdesk.core.base_models import BaseModelError, resolve_base

    try:
        base = resolve_base(str(spec))
    except BaseModelError as exc:
        raise ChatError(str(exc)) from exc
    return _gguf_from_folder(base.folder, base.name), base.name


def _gguf_from_folder(folder: Path, name: str) -> Path:
    from kwdesk.core.base_models import bases_cache_dir
    from kwdesk.core.export import convert_to_gguf, safe_name
    from kwdesk.core.files import file_sha256

    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise ChatError(f"{folder} has no safetensors weights to chat with.")
    target = bases_cache_dir() / "chat" / f"{safe_name(name)}-{file_sha256(weights[0])[:16]}-F16.gguf"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        convert_to_gguf(folder, partial, safe_name(name))
        partial.replace(target)
    return target


class ChatEngine:
    """One loaded model; conversations are stored in the workspace."""

    def __init__(self, workspace: Workspace, model_path: Path, model_name: str = "", *, n_ctx: int = 4096,
                 n_threads: int | None = None, lora_path: Path | None = None, collection_id: int | None = None) -> None:
        from kwdesk.core.model_files import load_llama
        from kwdesk.core.teacher import default_threads

        self.workspace = workspace
        self.model_path = Path(model_path)
        self.model_name = model_name or self.model_path.stem
        self.lora_path = Path(lora_path) if lora_path else None
        self.collection_id = collection_id  # "with sources" searches this collection only
        self._adapters: dict[Path, object] = {}  # adapter files loaded on this base, by path
        try:
            self.llm = load_llama(
                self.model_path, n_ctx=n_ctx, n_threads=n_threads or default_threads(), verbose=False,
                lora_path=str(lora_path) if lora_path else None,
            )
        except Exception as exc:
            raise ChatError(str(exc)) from exc
        if not self.llm.metadata.get("tokenizer.chat_template"):
            raise ChatError(f"{self.model_path.name} has no chat template; kwdesk cannot format a conversation for it.")
        self.n_ctx = n_ctx
        self._lock = threading.Lock()

    def close(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None:
            llm.close()  # llama.cpp frees the adapters loaded on a model with the model

    def use_adapter(self, lora_path: Path | None, model_name: str = "", collection_id: int | None = None) -> None:
        """Apply another LoRA adapter file (None: the base alone) without loading the base
        again. An adapter file is read once and kept for switching back."""
        import ctypes

        import llama_cpp

        lora_path = Path(lora_path) if lora_path else None
        with self._lock:
            if lora_path is not None and lora_path not in self._adapters:
                if self.lora_path is not None and lora_path == self.lora_path and self.llm._lora_adapter is not None:
                    self._adapters[lora_path] = self.llm._lora_adapter
                else:
                    from kwdesk.core.model_files import check_gguf

                    adapter = llama_cpp.llama_adapter_lora_init(self.llm._model.model, str(check_gguf(lora_path)).encode())
                    if not adapter:
                        raise ChatError(f"{lora_path.name} is not a LoRA adapter for {self.model_path.name}.")
                    self._adapters[lora_path] = adapter
            if lora_path is None:
                status = llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, None, 0, None)
            else:
                adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._adapters[lora_path])
                scales = (ctypes.c_float * 1)(1.0)
                status = llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, adapters, 1, scales)
            if status:
                raise ChatError(f"llama.cpp could not apply {lora_path.name if lora_path else 'the base'}.")
            # The cached prompt was computed with the other weights: start afresh.
            self.llm.reset()
            self.lora_path = lora_path
            self.collection_id = collection_id
            if model_name:
                self.model_name = model_name

    # --- conversations -------------------------------------------------------------------

    def new_conversation(self, system_prompt: str | None = None, title: str = "") -> int:
        db = self.workspace.connect()
        try:
            with write_transaction(db):
                return db["conversations"].insert(
                    {"model": self.model_name, "title": title, "system_prompt": system_prompt or DEFAULT_SYSTEM_PROMPT}
                ).last_pk
        finally:
            db.close()

    def history(self, conversation_id: int) -> tuple[str, list[dict]]:
        db = self.workspace.connect()
        try:
            row = db.execute("SELECT system_prompt FROM conversations WHERE id = ?", [conversation_id]).fetchone()
            if row is None:
                raise ChatError(f"There is no conversation {conversation_id}.")
            messages = [
                {"role": role, "content": content}
                for role, content in db.execute(
                    "SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY id", [conversation_id]
                )
            ]
            return row[0] or DEFAULT_SYSTEM_PROMPT, messages
        finally:
            db.close()

    # --- answering -----------------------------------------------------------------------

    def ask(
        self,
        conversation_id: int,
        question: str,
        *,
        with_sources: bool = False,
        on_token: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> Answer:
        system, history = self.history(conversation_id)
        system, sources = self.with_sources(system, question) if with_sources else (system, [])
        messages = self._fit([{"role": "system", "content": system}], history + [{"role": "user", "content": question}], max_tokens)
        parts: list[str] = []
        stopped = "stop"
        tokens = 0
        with self._lock:
            for chunk in self._stream(messages, max_tokens, temperature):
                if cancel is not None and cancel.is_set():
                    stopped = "cancelled"
                    break
                delta = chunk["choices"][0].get("delta", {}).get("content") or ""
                if delta:
                    parts.append(delta)
                    tokens += 1
                    if on_token is not None:
                        on_token(delta)
                finish = chunk["choices"][0].get("finish_reason")
                if finish:
                    stopped = finish
        text = "".join(parts).strip()
        cited = [
            {"n": n, "document": s["document"], "document_id": s["document_id"], "page_start": s["page_start"],
             "page_end": s["page_end"], "chunk_id": s["chunk_id"]}
            for n, s in enumerate(sources, 1)
        ]
        db = self.workspace.connect()
        try:
            with write_transaction(db):
                db["messages"].insert({"conversation_id": conversation_id, "role": "user", "content": question})
                db["messages"].insert(
                    {"conversation_id": conversation_id, "role": "assistant", "content": text,
                     "sources": json.dumps(cited), "stopped": stopped}
                )
                db.execute("UPDATE conversations SET title = ? WHERE id = ? AND title = ''", [question[:80], conversation_id])
        finally:
            db.close()
        return Answer(text, stopped, cited, conversation_id, tokens)

    def with_sources(self, system: str, question: str) -> tuple[str, list[dict]]:
        """The system prompt with the passages that match QUESTION best, numbered for citing."""
        db = self.workspace.connect()
        try:
            sources = search_chunks(db, question, SOURCES_TOP_K, self.collection_id)
        finally:
            db.close()
        if sources:
            system += "\n\nPassages from the user's documents (cite them as [1], [2], ...):\n" + "\n".join(
                f"[{n}] {s['document']}, p. {s['page_start']}: {s['text'][:MAX_SOURCE_CHARS]}" for n, s in enumerate(sources, 1)
            )
        return system, sources

    def complete(self, question: str, *, with_sources: bool = False, max_tokens: int = 128,
                 system_prompt: str = DEFAULT_SYSTEM_PROMPT) -> str:
        """One answer, greedy, not stored (for evaluation): the same prompt the chat builds."""
        system, _ = self.with_sources(system_prompt, question) if with_sources else (system_prompt, [])
        messages = self._fit([{"role": "system", "content": system}], [{"role": "user", "content": question}], max_tokens)
        with self._lock:
            reply = self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0)
        return (reply["choices"][0]["message"].get("content") or "").strip()

    def _stream(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[dict]:
        return self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True)

    def _fit(self, system: list[dict], turns: list[dict], max_tokens: int) -> list[dict]:
        """Drop the oldest turns until the prompt and the answer fit the context."""
        budget = self.n_ctx - max_tokens - 16
        while True:
            count = sum(len(self.llm.tokenize(m["content"].encode("utf-8"), add_bos=False)) + 8 for m in system + turns)
            if count <= budget or len(turns) <= 1:
                break
            turns = turns[2:] if len(turns) > 2 else turns[1:]
        if count > budget:
            # One question longer than the context: keep its end, the part nearest the answer.
            keep = max(64, budget - 64) * 3
            turns = [{**turns[-1], "content": turns[-1]["content"][-keep:]}]
        return system + turns


# --- models to chat with, and the base a personal model came from -------------------------


def chat_models(db) -> list[tuple[str, str]]:
    """(spec, label) for every model one can chat with: verified exports and adapter files on
    their base, newest first, then the bundled model. SPEC goes to chat_target."""
    from kwdesk.core.bundled import BUNDLED_NAME
    from kwdesk.core.library import list_models

    entries = [e for e in list_models(db) if e.kind in ("gguf", "gguf-lora") and e.verified]
    out = []
    for entry in sorted(entries, key=lambda e: (-(e.run_id or 0), e.kind)):
        if entry.kind == "gguf":
            out.append((str(entry.id), f"{entry.name} ({entry.quantization or 'GGUF'})"))
        else:
            size = (entry.size_bytes or 0) / 1e6
            out.append((str(entry.id), f"{entry.name} (base + {size:.0f} MB adapter)"))
    out.append(("bundled", f"{BUNDLED_NAME}: the base, not trained on your documents"))
    return out


def base_of(db, spec: str | int | None) -> tuple[Path, str]:
    """The GGUF of the base model that SPEC was trained from (for answers side by side).
    A model with no lineage (the bundled model itself, a file) is its own base."""
    from kwdesk.core.bundled import BUNDLED_NAME, bundled_model_path
    from kwdesk.core.library import get_model, newest_gguf

    if spec is None:
        entry = newest_gguf(db)
    elif str(spec).isdigit():
        entry = get_model(db, int(spec))
    else:
        entry = None
    if entry is None:
        return bundled_model_path(), BUNDLED_NAME
    # Exports, merged models and adapters record the base they came from; a base row its source.
    source = entry.meta.get("base") if entry.kind != "base" else entry.meta.get("source")
    if source in (None, "", "bundled"):
        return bundled_model_path(), BUNDLED_NAME
    source_path = Path(source).expanduser()
    if source_path.is_file() and source_path.suffix.lower() == ".gguf":
        return source_path, source_path.stem
    from kwdesk.core.base_models import BaseModelError, resolve_base

    try:
        base = resolve_base(source)
    except BaseModelError as exc:
        raise ChatError(f"The base model of this model cannot be found: {exc}") from exc
    return _gguf_from_folder(base.folder, base.name), base.name


def comparable_base(db, spec: str | int | None) -> tuple[Path, str] | None:
    """The base model as a GGUF made the way SPEC was made (the same conversion, the same
    quantization), so that an evaluation measures what training changed and not what a
    different file format changes (a personal model that learned nothing, asked against the
    bundled Q4_1 file, kept only 95.5% of its right answers). None when SPEC is not an
    export of a training run whose base folder is here."""
    from kwdesk.core.library import get_model, newest_gguf

    entry = newest_gguf(db) if spec is None else (get_model(db, int(spec)) if str(spec).isdigit() else None)
    if entry is None or entry.kind not in ("gguf", "gguf-lora") or entry.run_id is None:
        return None
    row = db.execute("SELECT path FROM runs WHERE id = ?", [entry.run_id]).fetchone()
    try:
        config = json.loads((Path(row[0]) / "config.json").read_text())
    except (TypeError, OSError, ValueError):
        return None
    return converted_base(config, entry.quantization or "F16")


def converted_base(run_config: dict, quantization: str) -> tuple[Path, str] | None:
    """The training base of a run (RUN_CONFIG, its config.json) as a GGUF in QUANTIZATION,
    converted once and cached: what a personal model is compared with, and the base its
    LoRA adapter file is applied to. None when the base folder is not here."""
    from kwdesk.core.export import quantize

    folder = Path(run_config.get("base_folder") or "")
    if not run_config.get("base_folder") or not folder.is_dir():
        return None
    name = run_config.get("base_name") or folder.name
    f16 = _gguf_from_folder(folder, name)
    if quantization == "F16":
        return f16, f"{name} (F16, converted like the personal model)"
    target = f16.with_name(f16.name.replace("-F16.gguf", f"-{quantization}.gguf"))
    if not target.is_file():
        partial = target.with_name(target.name + ".part")
        quantize(f16, partial, quantization)
        partial.replace(target)
    return target, f"{name} ({quantization}, converted like the personal model)"


def chat_target(db, spec: str | int | None) -> tuple[Path, str, Path | None]:
    """(model file, name, LoRA adapter file or None) for SPEC: as resolve_chat_spec, and for
    an adapter file ("gguf-lora" in the library) the base GGUF it applies to."""
    from kwdesk.core.library import get_model

    if spec is not None and str(spec).isdigit():
        entry = get_model(db, int(spec))
        if entry.kind == "gguf-lora":
            return adapter_base(db, entry), entry.name, Path(entry.path)
    path, name = resolve_chat_spec(db, None if spec is None else str(spec))
    return path, name, None


def model_collection(db, spec: str | int | None) -> int | None:
    """The knowledge collection a registered model was trained on (None: the whole workspace)."""
    from kwdesk.core.library import ModelNotRegistered, get_model

    if spec is None or not str(spec).isdigit():
        return None
    try:
        entry = get_model(db, int(spec))
    except ModelNotRegistered:
        return None
    row = db.execute("SELECT config FROM runs WHERE id = ?", [entry.run_id]).fetchone() if entry.run_id else None
    return json.loads(row[0] or "{}").get("collection_id") if row else None


def adapter_base(db, entry) -> Path:
    """The base GGUF an adapter file applies to; made again from the training base (the same
    conversion and quantization) when the cached file was removed."""
    recorded = Path(entry.meta.get("base_gguf") or "")
    if entry.meta.get("base_gguf") and recorded.is_file():
        return recorded
    made = comparable_base(db, entry.id)
    if made is None:
        raise ChatError(f"The base model of {entry.name} is missing, so its adapter cannot be used.")
    return made[0]


def resolve_chat_spec(db, spec: str | None) -> tuple[Path, str]:
    """resolve_chat_model, with "bundled" for the bundled model."""
    if spec == "bundled":
        from kwdesk.core.bundled import BUNDLED_NAME, bundled_model_path

        return bundled_model_path(), BUNDLED_NAME
    return resolve_chat_model(db, spec)


# --- chat as jobs, for the app's workers ---------------------------------------------------


class LoadChatModelJob(Job):
    """Find (convert if needed) and load a model for chat; the result is a ChatEngine."""

    def __init__(self, workspace: Workspace, spec: str | None, *, base_of_spec: bool = False) -> None:
        super().__init__()
        self.workspace = workspace
        self.spec = spec
        self.base_of_spec = base_of_spec

    def run(self, progress: ProgressCallback | None = None) -> "ChatEngine":
        self._progress = progress
        self.report(0, None, "Loading the model…")
        db = self.workspace.connect()
        try:
            if self.base_of_spec:
                path, name = base_of(db, self.spec)
                lora = None
            else:
                path, name, lora = chat_target(db, self.spec)
            collection = model_collection(db, self.spec)
        finally:
            db.close()
        self.check_cancelled()
        return ChatEngine(self.workspace, path, name, lora_path=lora, collection_id=collection)


class AskJob(Job):
    """One question to one or more loaded models in turn (the personal model, then the base
    for the side-by-side view). Each token arrives as progress with extra target and token."""

    def __init__(self, targets: list[tuple[ChatEngine, int]], question: str, *, with_sources: bool = False,
                 max_tokens: int = 512) -> None:
        super().__init__()
        self.targets = targets
        self.question = question
        self.with_sources = with_sources
        self.max_tokens = max_tokens

    def run(self, progress: ProgressCallback | None = None) -> list[Answer]:
        self._progress = progress
        answers = []
        for index, (engine, conversation_id) in enumerate(self.targets):
            if self.cancelled:
                break
            answers.append(
                engine.ask(
                    conversation_id, self.question, with_sources=self.with_sources, cancel=self._cancel,
                    max_tokens=self.max_tokens,
                    on_token=lambda token, i=index: self.report(0, None, "", target=i, token=token),
                )
            )
        return answers


# --- history ----------------------------------------------------------------------------------


def list_conversations(db, limit: int = 200) -> list[dict]:
    """Conversations, newest first, with their first question as title."""
    rows = db.execute(
        """SELECT c.id, c.model, c.title, c.created_at, count(m.id) FROM conversations c
           LEFT JOIN messages m ON m.conversation_id = c.id GROUP BY c.id ORDER BY c.id DESC LIMIT ?""",
        [limit],
    )
    return [{"id": r[0], "model": r[1], "title": r[2] or "(empty)", "created_at": r[3], "messages": r[4]} for r in rows]


def conversation_messages(db, conversation_id: int) -> list[dict]:
    rows = db.execute(
        "SELECT role, content, sources, stopped FROM messages WHERE conversation_id = ? ORDER BY id", [conversation_id]
    )
    return [{"role": r[0], "content": r[1], "sources": json.loads(r[2] or "[]"), "stopped": r[3]} for r in rows]
