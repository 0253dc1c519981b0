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
                 n_threads: int | None = None, lora_path: Path | None = None) -> None:
        from llama_cpp import Llama

        from kwdesk.core.teacher import default_threads

        self.workspace = workspace
        self.model_path = Path(model_path)
        self.model_name = model_name or self.model_path.stem
        try:
            self.llm = Llama(
                model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads or default_threads(), verbose=False,
                lora_path=str(lora_path) if lora_path else None,
            )
        except Exception as exc:
            raise ChatError(f"llama.cpp cannot load {self.model_path.name}: {exc}") from exc
        if not self.llm.metadata.get("tokenizer.chat_template"):
            raise ChatError(f"{self.model_path.name} has no chat template; kwdesk cannot format a conversation for it.")
        self.n_ctx = n_ctx
        self._lock = threading.Lock()

    def close(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None:
            llm.close()

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
        sources: list[dict] = []
        if with_sources:
            db = self.workspace.connect()
            try:
                sources = search_chunks(db, question, SOURCES_TOP_K)
            finally:
                db.close()
            if sources:
                system += "\n\nPassages from the user's documents (cite them as [1], [2], ...):\n" + "\n".join(
                    f"[{n}] {s['document']}, p. {s['page_start']}: {s['text'][:MAX_SOURCE_CHARS]}" for n, s in enumerate(sources, 1)
                )
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
