"""Chat with a GGUF model on llama.cpp: streaming, the model's own chat template, a system
prompt, stop and cancel, history kept in the workspace, and "with sources".

With sources, the passages of the workspace that match the question best (full-text
search) are given to the model with numbers, and the answer comes back with those
passages listed by document and page: the model knows the domain, retrieval keeps it
current and checkable.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.chat.claims import answer_segments
from kwdesk.core.chat.follow_up import refers_back
from kwdesk.core.models.chat_format import (
    DEFAULT_SYSTEM_PROMPT,
    SOURCES_TOP_K,
    chat_messages,
    sources_prompt,
    sources_top_k,
)
from kwdesk.core.models.targets import ChatTarget
from kwdesk.core.store.conversations import (
    add_exchange,
    conversation_history,
    create_conversation,
)
from kwdesk.core.store.documents import search_chunks
from kwdesk.core.store.workspace import Workspace

log = logging.getLogger(__name__)


class ChatError(KwdeskError):
    pass


def documents_prompt(documents: list[tuple[str, str]]) -> str:
    """The whole of the user's documents for a system prompt ("full context"): the
    alternative to retrieval and to training where the documents fit the model's context."""
    return "The user's documents, in full:\n" + "\n\n".join(f"=== {name} ===\n{text}" for name, text in documents)


@dataclass
class Answer:
    text: str
    stopped: str  # stop, length, cancelled
    sources: list[dict] = field(default_factory=list)
    conversation_id: int | None = None
    tokens: int = 0
    # With sources: the answer sentence by sentence, each claim with the passages that back it
    # (chat.claims.answer_segments).
    segments: list = field(default_factory=list)
    on_its_own: bool = False  # asked without the conversation before it (chat.follow_up)

    @property
    def claims(self) -> list:
        return [claim for _, claim in self.segments if claim is not None]


class Answering:
    """One greedy answer to a question, as the chat builds its prompt: with the passages that
    match it, the whole documents, or neither. Shared by the llama.cpp engine (ChatEngine)
    and the transformers one (peft_engine.PeftEngine), so that a model file and an adapter
    under PEFT are asked exactly the same way. A subclass gives `token_count`, `n_ctx` and
    `_greedy(messages, max_tokens)`."""

    workspace: Workspace
    collection_id: int | None
    n_ctx: int
    sources_top_k: int = SOURCES_TOP_K  # how many passages "with sources" gives: chat_format.sources_top_k

    def token_count(self, text: str) -> int:
        raise NotImplementedError

    def _greedy(self, messages: list[dict], max_tokens: int) -> str:
        raise NotImplementedError

    def with_sources(self, system: str, question: str) -> tuple[str, list[dict]]:
        """The system prompt with the passages that match QUESTION best, numbered for citing."""
        db = self.workspace.connect()
        try:
            sources = search_chunks(db, question, self.sources_top_k, self.collection_id)
        finally:
            db.close()
        return sources_prompt(system, sources), sources

    def complete(self, question: str, *, with_sources: bool = False, max_tokens: int = 128,
                 system_prompt: str | None = DEFAULT_SYSTEM_PROMPT, documents: str | None = None) -> str:
        """One answer, greedy, not stored (for evaluation): the same prompt the chat builds.
        SYSTEM_PROMPT None sends no system message (the chat template's default, as other
        tools ask), and then no sources either. DOCUMENTS (documents_prompt's text) puts the
        whole of the documents in the system prompt instead of retrieved passages."""
        return self._greedy(self.question_messages(question, with_sources=with_sources, max_tokens=max_tokens,
                                                   system_prompt=system_prompt, documents=documents), max_tokens).strip()

    def complete_many(self, questions: list[dict], max_tokens: int = 128) -> list[str]:
        """`complete` for each of QUESTIONS (its keyword arguments, with "question"), in order.
        An engine that can decode several at once (PeftEngine) does; llama.cpp's answers one by one."""
        return [self.complete(**q, max_tokens=max_tokens) for q in questions]

    def question_messages(self, question: str, *, with_sources: bool = False, max_tokens: int = 128,
                          system_prompt: str | None = DEFAULT_SYSTEM_PROMPT, documents: str | None = None) -> list[dict]:
        """The messages `complete` sends for QUESTION, fitted to the context."""
        system, _ = self.with_sources(system_prompt, question) if with_sources and system_prompt else (system_prompt, [])
        if documents and system_prompt:
            system = f"{system_prompt}\n\n{documents}"
        *head, turn = chat_messages(system, question)
        return self.fit_messages(head, [turn], max_tokens)

    def prompt_tokens(self, text: str) -> int:
        return self.token_count(text)

    def fit_messages(self, system: list[dict], turns: list[dict], max_tokens: int) -> list[dict]:
        """Drop the oldest turns until the prompt and the answer fit the context."""
        budget = self.n_ctx - max_tokens - 16
        while True:
            count = sum(self.token_count(m["content"]) + 8 for m in system + turns)
            if count <= budget or len(turns) <= 1:
                break
            turns = turns[2:] if len(turns) > 2 else turns[1:]
        if count > budget:
            # One question longer than the context: keep its end, the part nearest the answer.
            keep = max(64, budget - 64) * 3
            turns = [{**turns[-1], "content": turns[-1]["content"][-keep:]}]
        return system + turns


class ChatEngine(Answering):
    """One loaded model; conversations are stored in the workspace."""

    def __init__(self, workspace: Workspace, model_path: Path, model_name: str = "", *, n_ctx: int = 4096,
                 n_threads: int | None = None, lora_path: Path | None = None, collection_id: int | None = None) -> None:
        from kwdesk.core.data.teacher import default_threads
        from kwdesk.core.models.model_files import load_llama, model_parameters

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
        self.sources_top_k = sources_top_k(model_parameters(self.llm))
        self._lock = threading.Lock()

    @classmethod
    def for_target(cls, workspace: Workspace, target: ChatTarget, **kwargs) -> "ChatEngine":
        """The engine for a resolved model (models.targets): its file, adapter and collection."""
        return cls(workspace, target.gguf, target.name, lora_path=target.adapter, collection_id=target.collection_id,
                   **kwargs)

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
                    from kwdesk.core.models.model_files import check_gguf

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
            return create_conversation(db, self.model_name, system_prompt or DEFAULT_SYSTEM_PROMPT, title)
        finally:
            db.close()

    def history(self, conversation_id: int) -> tuple[str, list[dict]]:
        db = self.workspace.connect()
        try:
            found = conversation_history(db, conversation_id)
        finally:
            db.close()
        if found is None:
            raise ChatError(f"There is no conversation {conversation_id}.")
        system_prompt, messages = found
        return system_prompt or DEFAULT_SYSTEM_PROMPT, messages

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
        # Earlier turns pull a small model's answer to their topic: only a question that
        # refers back gets them.
        on_its_own = bool(history) and not refers_back(question)
        if on_its_own:
            history = []
        system, sources = self.with_sources(system, question) if with_sources else (system, [])
        messages = self.fit_messages([{"role": "system", "content": system}], history + [{"role": "user", "content": question}], max_tokens)
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
             "page_end": s["page_end"], "chunk_id": s["chunk_id"], "page_unit": s.get("page_unit", "page")}
            for n, s in enumerate(sources, 1)
        ]
        db = self.workspace.connect()
        try:
            add_exchange(db, conversation_id, question, text, cited, stopped)
        finally:
            db.close()
        segments = answer_segments(text, [s["text"] for s in sources]) if sources else []
        return Answer(text, stopped, cited, conversation_id, tokens, segments, on_its_own)

    def token_count(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False))

    def _greedy(self, messages: list[dict], max_tokens: int) -> str:
        with self._lock:
            reply = self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0)
        return reply["choices"][0]["message"].get("content") or ""

    def context_length(self) -> int:
        """The longest context the model was trained for (its GGUF metadata), else the loaded one."""
        arch = self.llm.metadata.get("general.architecture", "")
        try:
            return int(self.llm.metadata.get(f"{arch}.context_length") or self.n_ctx)
        except ValueError:
            return self.n_ctx

    def _stream(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[dict]:
        return self.llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=temperature, stream=True)
