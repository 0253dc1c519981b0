"""The model that writes training data, behind one small interface.

Two kinds: llama.cpp on a GGUF file in this process (the default: the bundled
SmolLM2-135M-Instruct), and an OpenAI-compatible HTTP endpoint that the user already runs
(llama-server, Ollama, vLLM). Both answer chat messages, optionally constrained to a JSON
schema (llama.cpp turns the schema into a grammar, so the output always parses).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.system import CoreWatch, usable_cores

log = logging.getLogger(__name__)


class TeacherError(KwdeskError):
    """The teacher cannot be loaded or reached; the message is for people."""


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int


class Teacher(Protocol):
    name: str
    parallel: int  # requests it serves at once: 1 in this process, a server's slots behind a URL
    # A model too small to write its own questions well (the bundled 135M one): generation
    # leaves to the rules what they ask, and asks it only where they do not.
    small: bool

    def chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.0, schema: dict | None = None, seed: int | None = None
    ) -> Completion: ...

    def close(self) -> None: ...


# Under this many parameters a teacher counts as small (Teacher.small): the bundled model
# has 135M; 3B-8B instruct models are what the README recommends for better data.
SMALL_TEACHER_PARAMS = 1_000_000_000


THREAD_POLICIES = ("every core", "free at load", "follow")
FREE_AT_LOAD_LOOK_S = 0.5  # the shortest look at the machine's load (CPU times tick every 10 ms)


def default_threads() -> int:
    # llama-cpp-python's default is half the cores; all of them nearly doubles the
    # speed of a small model on 2 cores (41 -> 78 tokens/s measured).
    return usable_cores()


class LlamaCppTeacher:
    """A GGUF model run by llama.cpp in this process.

    Prompts that share a prefix (the instructions and examples) reuse llama.cpp's KV cache:
    llama-cpp-python keeps the evaluated tokens and only evaluates what differs.
    """

    parallel = 1  # one context; its threads already use the free cores

    def __init__(self, model_path: Path | str, *, n_ctx: int = 4096, n_threads: int | None = None, name: str | None = None,
                 thread_policy: str = "follow"):
        from kwdesk.core.models.model_files import ModelFileError, load_llama

        path = Path(model_path)
        if not path.is_file():
            raise TeacherError(f"Teacher model not found: {path}")
        if thread_policy not in THREAD_POLICIES:
            raise ValueError(f"thread_policy: one of {', '.join(THREAD_POLICIES)}")
        # Without N_THREADS, THREAD_POLICY says how many threads decode: "every core"; "free at
        # load": the cores the rest of the machine left free while the model loaded (CoreWatch);
        # "follow" (the default): the same, looked at again before a request once a second at
        # most. bench/bench_shared_cores.py measures them side by side: on 2 cores
        # beside a second generation or a training run, "follow" keeps 14-18 tokens/s (a fair
        # share of 30-40 alone) where a thread per core falls to 5-11, as llama.cpp's threads
        # spin while they wait for a core the other program holds; alone they are even.
        watch = CoreWatch() if n_threads is None and thread_policy != "every core" else None
        self._threads = n_threads or default_threads()
        self._checked = 0.0  # "follow": when the cores were last looked at
        loading = time.monotonic()
        try:
            self.llm = load_llama(path, n_ctx=n_ctx, n_threads=self._threads, verbose=False, seed=0)
        except ModelFileError as exc:
            raise TeacherError(str(exc)) from exc
        if watch is not None:
            time.sleep(max(0.0, FREE_AT_LOAD_LOOK_S - (time.monotonic() - loading)))
            self._set_threads(watch.free())
            self._checked = time.monotonic()
        self._watch = watch if thread_policy == "follow" else None
        self.name = name or path.stem
        self.path = path
        self.small = self.llm._model.n_params() < SMALL_TEACHER_PARAMS  # llama_model_n_params
        self._lock = threading.Lock()

    def chat(self, messages, *, max_tokens, temperature=0.0, schema=None, seed=None) -> Completion:
        kwargs = {}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        if seed is not None:
            kwargs["seed"] = seed
        with self._lock:  # one llama.cpp context serves one request at a time
            self._follow_free_cores()
            out = self.llm.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=temperature, **kwargs
            )
            if self._watch is not None:
                self._watch.mark()  # the next look measures from here at the earliest
        usage = out.get("usage", {})
        return Completion(
            out["choices"][0]["message"]["content"] or "", usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        )

    FOLLOW_INTERVAL_S = 1.0

    def _follow_free_cores(self) -> None:
        """Use as many threads as there are cores free, looked at once a second at most."""
        if self._watch is None or time.monotonic() - self._checked < self.FOLLOW_INTERVAL_S:
            return
        self._checked = time.monotonic()
        self._set_threads(self._watch.free())

    def _set_threads(self, wanted: int) -> None:
        if wanted != self._threads:
            log.info("teacher threads %d -> %d (cores free)", self._threads, wanted)
            self._threads = wanted
            # llama_set_n_threads, for decoding and for prompts: takes effect at the next decode.
            self.llm._ctx.set_n_threads(wanted, wanted)

    @property
    def threads(self) -> int:
        return self._threads

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            llm.close()


class OpenAICompatibleTeacher:
    """A chat-completions endpoint on the user's machine or network (llama-server, Ollama, vLLM).

    kwdesk makes no network call unless the user configures one of these.
    """

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 120.0,
                 parallel: int = 8):
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        # A server with parallel slots (llama-server --parallel, vLLM, Ollama's
        # OLLAMA_NUM_PARALLEL) decodes several requests in one batch: one at a time leaves
        # them idle. Requests beyond its slots wait in its queue, so a high figure is safe.
        self.parallel = max(1, parallel)
        self.name = f"{model}@{self.base_url}"
        # A server's model size is not known from here; a user who runs one for data has
        # chosen a model larger than the bundled one.
        self.small = False

    def chat(self, messages, *, max_tokens, temperature=0.0, schema=None, seed=None) -> Completion:
        body: dict = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        if seed is not None:
            body["seed"] = seed
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                out = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise TeacherError(f"The teacher endpoint {self.base_url} answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise TeacherError(f"The teacher endpoint {self.base_url} cannot be reached: {exc}") from exc
        usage = out.get("usage") or {}
        return Completion(
            out["choices"][0]["message"].get("content") or "", usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        )

    def close(self) -> None:
        pass


def open_teacher(spec: str | None = None, *, endpoint_model: str | None = None, parallel: int = 8) -> Teacher:
    """SPEC: None or "bundled" for the bundled model, a GGUF path, or an http(s) URL of an
    OpenAI-compatible endpoint (then ENDPOINT_MODEL names the model there)."""
    if spec in (None, "", "bundled"):
        from kwdesk.core.models.bundled import (
            BUNDLED_NAME,
            ModelNotFound,
            bundled_model_path,
        )

        try:
            return LlamaCppTeacher(bundled_model_path(), name=BUNDLED_NAME)
        except ModelNotFound as exc:
            raise TeacherError(str(exc)) from exc
    if spec.startswith(("http://", "https://")):
        return OpenAICompatibleTeacher(spec, endpoint_model or "default", api_key=os.environ.get("KWDESK_TEACHER_API_KEY"),
                                       parallel=parallel)
    return LlamaCppTeacher(Path(spec).expanduser())


@dataclass(frozen=True)
class TeacherChoice:
    """A teacher named but not opened yet: SPEC as open_teacher takes it, and the model name
    at an endpoint. Jobs open it in their own worker (loading a GGUF takes seconds), so the
    window never waits; the API key comes from KWDESK_TEACHER_API_KEY when it is opened."""

    spec: str | None = None
    endpoint_model: str | None = None
    parallel: int = 8  # for a URL: requests at once

    @classmethod
    def of(cls, teacher: "TeacherChoice | str | None") -> "TeacherChoice":
        return teacher if isinstance(teacher, TeacherChoice) else cls(teacher or None)

    @property
    def label(self) -> str:
        return self.spec or "the bundled model"

    def open(self) -> Teacher:
        return open_teacher(self.spec, endpoint_model=self.endpoint_model, parallel=self.parallel)
