"""The OpenAI-compatible HTTP API of `kwdesk serve`, as a Starlette application.

    GET  /v1/models             every verified personal model and adapter, and the base
    POST /v1/chat/completions   streaming (server-sent events) or not
    POST /v1/completions        plain text completion
    GET  /health                {"status": "ok", "waiting": N}

The request's "model" picks the model (serve/catalog.py); generations take turns, round
the clients (serve/engines.py: a client is the request's "user" field, else its address). A kwdesk extension asks for an answer with sources: the request body's
"kwdesk": {"sources": true} puts the passages of the user's documents that match the last
question in the system prompt, and the response's "kwdesk" field carries them (document,
pages, text) and, when not streamed, the check of each statement against them
(chat/claims.py). With the official client: `extra_body={"kwdesk": {"sources": True}}`.

Starlette and uvicorn, not FastAPI: the API is a handful of routes whose bodies are
OpenAI's JSON, validated here in a few lines, and Starlette's streaming response already
stops the stream when the client goes away (the generation is then cancelled between two
tokens). Errors are in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kwdesk.core.chat.claims import answer_segments, claims_summary, marked_answer
from kwdesk.core.models.chat_format import DEFAULT_SYSTEM_PROMPT
from kwdesk.core.serve.catalog import UnknownModel, find_model, served_models
from kwdesk.core.serve.engines import Engines, QueueFull, Turns
from kwdesk.core.store.documents import cite_pages
from kwdesk.core.store.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeLimits:
    """What one request may ask for, and how many may wait."""

    max_waiting: int = 16  # requests queued behind the running one before 503s
    max_tokens: int = 2048  # the most tokens one answer may ask for
    default_max_tokens: int = 512
    max_body_bytes: int = 1_000_000  # a request's JSON
    n_ctx: int = 4096


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = headers or {}

    def response(self):
        from starlette.responses import JSONResponse

        return JSONResponse({"error": {"message": self.message, "type": self.kind, "param": self.param,
                                       "code": self.code}}, status_code=self.status, headers=self.headers)


class _Stop:
    """The end of a streamed generation (or its error) on the bridge queue."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class OpenAIServer:
    """The state behind the routes: the workspace's models, the loaded engines, the turns."""

    def __init__(self, workspace: Workspace, limits: ServeLimits | None = None, api_key: str | None = None) -> None:
        self.workspace = workspace
        self.limits = limits or ServeLimits()
        self.api_key = api_key or None
        self.engines = Engines(workspace, n_ctx=self.limits.n_ctx)
        self.turns = Turns(self.limits.max_waiting)
        self.cancelled = 0  # streamed generations stopped because their client went away
        # llama.cpp is driven from one thread: the one generation at a time runs here.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kwdesk-serve")

        # A connection and catalog per thread (the event loop's; the window's, which lists
        # the models it serves): SQLite connections stay in the thread that opened them.
        self._local = threading.local()

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        self.engines.close()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # --- requests ------------------------------------------------------------------------

    def models(self) -> list:
        """The catalog, read again only when the workspace changed: SQLite's data_version
        moves when another connection (the app, `kwdesk export`) commits, and reading the
        catalog on every request cost more than the HTTP layer does."""
        local = self._local
        if getattr(local, "db", None) is None:
            local.db, local.catalog = self.workspace.connect(), None
        version = local.db.execute("PRAGMA data_version").fetchone()[0]
        if local.catalog is None or local.catalog[0] != version:
            local.catalog = (version, served_models(local.db))
        return local.catalog[1]

    def model(self, wanted):
        try:
            return find_model(self.models(), wanted)
        except UnknownModel as exc:
            raise ApiError(404, str(exc), code="model_not_found", param="model") from exc

    def check_key(self, request) -> None:
        if not self.api_key:
            return
        header = request.headers.get("authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
        import hmac

        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            raise ApiError(401, "A valid API key is needed: send it as 'Authorization: Bearer KEY' (kwdesk serve "
                                "prints the key when it starts).", code="invalid_api_key")

    async def body(self, request) -> dict:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.limits.max_body_bytes:
            raise ApiError(413, f"The request is larger than {self.limits.max_body_bytes:,} bytes.")
        raw = await request.body()
        if len(raw) > self.limits.max_body_bytes:
            raise ApiError(413, f"The request is larger than {self.limits.max_body_bytes:,} bytes.")
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ApiError(400, f"The request body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return body

    def options(self, body: dict) -> dict:
        """Sampling options from an OpenAI request, bounded."""
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is None:
            max_tokens = self.limits.default_max_tokens
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ApiError(400, "max_tokens must be a positive whole number.", param="max_tokens")
        if max_tokens > self.limits.max_tokens:
            raise ApiError(400, f"max_tokens is at most {self.limits.max_tokens} here.", param="max_tokens")
        temperature = body.get("temperature", 0.7)
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise ApiError(400, "temperature must be between 0 and 2.", param="temperature")
        stop = body.get("stop")
        if isinstance(stop, str):
            stop = [stop]
        if stop is not None and (not isinstance(stop, list) or not all(isinstance(s, str) for s in stop) or len(stop) > 4):
            raise ApiError(400, "stop must be a string or a list of at most 4 strings.", param="stop")
        out = {"max_tokens": max_tokens, "temperature": float(temperature), "stop": stop or []}
        if isinstance(body.get("top_p"), (int, float)):
            out["top_p"] = float(body["top_p"])
        if isinstance(body.get("seed"), int):
            out["seed"] = body["seed"]
        return out

    # --- generation (in the worker thread) -----------------------------------------------

    def chat_request(self, body: dict) -> tuple:
        """(engine target, messages, options, sources) for a chat completion request."""
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(400, "messages must be a non-empty list.", param="messages")
        clean = []
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant"):
                raise ApiError(400, "Each message needs a role: system, user or assistant.", param="messages")
            content = message.get("content") or ""
            if isinstance(content, list):  # content parts: only text ones are read
                content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
            if not isinstance(content, str):
                raise ApiError(400, "A message's content must be text.", param="messages")
            role = "system" if message["role"] == "developer" else message["role"]
            clean.append({"role": role, "content": content})
        if clean[-1]["role"] != "user":
            raise ApiError(400, "The last message must be the user's.", param="messages")
        extension = body.get("kwdesk") if isinstance(body.get("kwdesk"), dict) else {}
        return self.model(body.get("model")), clean, self.options(body), bool(extension.get("sources"))

    def _prepare_chat(self, served, messages: list[dict], options: dict, with_sources: bool):
        engine = self.engines.ready(served.target)
        system = [m for m in messages if m["role"] == "system"]
        turns = [m for m in messages if m["role"] != "system"]
        # No system message: kwdesk's own, as its chat asks (the template's default made the
        # bundled model call Paris "L'Etoile"); personal models are trained and verified under it.
        text = "\n".join(m["content"] for m in system) or DEFAULT_SYSTEM_PROMPT
        sources = []
        if with_sources:
            text, sources = engine.with_sources(text, turns[-1]["content"])
        system = [{"role": "system", "content": text}]
        return engine, engine.fit_messages(system, turns, options["max_tokens"]), sources

    def generate_chat(self, served, messages, options, with_sources) -> tuple[dict, list]:
        engine, fitted, sources = self._prepare_chat(served, messages, options, with_sources)
        reply = engine.llm.create_chat_completion(messages=fitted, **options)
        return reply, sources

    def stream_chat(self, served, messages, options, with_sources, put, cancel: threading.Event) -> None:
        engine, fitted, sources = self._prepare_chat(served, messages, options, with_sources)
        put(("sources", sources))
        _pump(engine.llm.create_chat_completion(messages=fitted, stream=True, **options), put, cancel)

    def generate_text(self, served, prompt: str, options: dict, stream: bool, put=None, cancel=None):
        engine = self.engines.ready(served.target)
        if not stream:
            return engine.llm.create_completion(prompt=prompt, **options)
        _pump(engine.llm.create_completion(prompt=prompt, stream=True, **options), put, cancel)
        return None

    # --- the bridge between the worker thread and the event loop --------------------------

    async def run(self, fn, *args):
        """FN(*ARGS) in the worker thread, awaited."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, fn, *args)

    async def streamed(self, fn, *args):
        """Items FN(*ARGS, put, cancel) produces in the worker thread, as they come. When the
        consumer stops (the client went away), the generation is cancelled and awaited
        before the turn ends, so that two generations never overlap."""
        import anyio

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()

        def put(item):
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work():
            try:
                fn(*args, put, cancel)
                put(_Stop())
            except BaseException as exc:  # handed to the event loop, raised there
                put(_Stop(exc))

        future = loop.run_in_executor(self._worker, work)
        finished = False
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _Stop):
                    finished = True
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            if not finished:
                cancel.set()
            with anyio.CancelScope(shield=True):
                await future
            # Counted once the generation has stopped: the turn ends in the same step.
            self.cancelled += 0 if finished else 1


def _pump(chunks, put, cancel: threading.Event) -> None:
    """Hand a llama.cpp stream's chunks to PUT until it ends or CANCEL is set (checked
    between two tokens); the stream is closed either way."""
    try:
        for chunk in chunks:
            if cancel.is_set():
                break
            put(("chunk", chunk))
    finally:
        chunks.close()


def client_of(request, body: dict) -> str:
    """Who asks, for the fair queue: the OpenAI "user" field where the client sets one (a
    front end such as Open WebUI names its users there), else the address it asks from."""
    user = body.get("user")
    if isinstance(user, str) and user.strip():
        return "user:" + user.strip()[:200]
    return "host:" + (request.client.host if request.client else "")


def _sse(data) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _cited(sources: list[dict]) -> list[dict]:
    return [{"n": n, "document": s["document"], "pages": cite_pages(s["page_start"], s.get("page_end") or s["page_start"],
                                                                    s.get("page_unit", "page")),
             "page_start": s["page_start"], "page_end": s.get("page_end"), "text": s["text"]}
            for n, s in enumerate(sources, 1)]


def _event_stream(events):
    """A streamed answer as server-sent events, ended by [DONE]. An error after the first
    event can no longer change the status: it is sent as an event in OpenAI's error shape."""
    from starlette.responses import StreamingResponse

    async def framed():
        try:
            async for event in events:
                yield event
        except Exception as exc:
            log.exception("streamed request failed")
            yield _sse({"error": {"message": f"kwdesk could not answer: {exc}", "type": "server_error",
                                  "param": None, "code": None}})
        yield _sse("[DONE]")

    return StreamingResponse(framed(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def create_app(server: OpenAIServer):
    """The Starlette application for SERVER (closed when the application shuts down)."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def guarded(handler):
        async def endpoint(request):
            try:
                server.check_key(request)
                return await handler(request)
            except ApiError as exc:
                return exc.response()
            except QueueFull as exc:
                return ApiError(503, str(exc), kind="server_error", code="server_busy",
                                headers={"Retry-After": str(exc.retry_after_s)}).response()
            except Exception as exc:  # a readable error in the client, the details in the log
                log.exception("request failed")
                return ApiError(500, f"kwdesk could not answer: {exc}", kind="server_error").response()
        return endpoint

    async def models(request):
        return JSONResponse({"object": "list", "data": [m.to_openai() for m in server.models()]})

    async def one_model(request):
        return JSONResponse(server.model(request.path_params["model"]).to_openai())

    async def health(request):
        return JSONResponse({"status": "ok", "waiting": server.turns.waiting, "served": server.turns.served,
                             "cancelled": server.cancelled,
                             "busy": server.turns.busy,
                             "loaded": [p.name for p in server.engines.loaded_files()]})

    async def chat(request):
        body = await server.body(request)
        served, messages, options, with_sources = server.chat_request(body)
        client = client_of(request, body)
        server.turns.admit()
        if not body.get("stream"):
            async with server.turns.turn(client):
                reply, sources = await server.run(server.generate_chat, served, messages, options, with_sources)
            reply["model"] = served.id
            if with_sources:
                text = reply["choices"][0]["message"].get("content") or ""
                segments = answer_segments(text.strip(), [s["text"] for s in sources]) if sources else []
                claims = [claim for _, claim in segments if claim is not None]
                reply["kwdesk"] = {"sources": _cited(sources), "marked": marked_answer(segments) if segments else text,
                                   "claims": [c.to_dict() for c in claims], "claims_summary": claims_summary(claims)}
            return JSONResponse(reply)

        async def events():
            async with server.turns.turn(client):
                first, sources = True, []
                async for kind, item in server.streamed(server.stream_chat, served, messages, options, with_sources):
                    if kind == "sources":
                        sources = item
                        continue
                    item["model"] = served.id
                    if first and with_sources:
                        item["kwdesk"] = {"sources": _cited(sources)}
                    first = False
                    yield _sse(item)

        return _event_stream(events())

    async def completions(request):
        body = await server.body(request)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1:
            prompt = prompt[0]
        if not isinstance(prompt, str) or not prompt:
            raise ApiError(400, "prompt must be a non-empty string.", param="prompt")
        served, options = server.model(body.get("model")), server.options(body)
        client = client_of(request, body)
        server.turns.admit()
        if not body.get("stream"):
            async with server.turns.turn(client):
                reply = await server.run(server.generate_text, served, prompt, options, False)
            reply["model"] = served.id
            return JSONResponse(reply)

        async def events():
            async with server.turns.turn(client):
                async for _, item in server.streamed(server.generate_text, served, prompt, options, True):
                    item["model"] = served.id
                    yield _sse(item)

        return _event_stream(events())

    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            server.close()

    return Starlette(routes=[
        Route("/v1/models", guarded(models), methods=["GET"]),
        Route("/v1/models/{model:path}", guarded(one_model), methods=["GET"]),
        Route("/v1/chat/completions", guarded(chat), methods=["POST"]),
        Route("/v1/completions", guarded(completions), methods=["POST"]),
        Route("/health", guarded(health), methods=["GET"]),
    ], lifespan=lifespan)


def new_request_id() -> str:
    return f"kwdesk-{uuid.uuid4().hex[:12]}-{int(time.time())}"
