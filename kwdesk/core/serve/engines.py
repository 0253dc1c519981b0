"""The loaded models of a server, and the one generation at a time they can run.

llama.cpp computes one answer at a time on these cores, so the server runs one generation
at a time and queues the rest. The queue is fair between clients: each client (the
request's OpenAI "user" field, else its address) waits in a line of its own, and turns go
round the clients in order, so that a script sending fifty requests does not make a person
in a chat window wait behind all fifty; within one client, first come, first served. The
wait is bounded: a request that would queue behind MAX_WAITING others is refused at once
with a Retry-After, which a client can act on, instead of hanging.

One model in memory per base file: a personal adapter and the base it applies to share one
loaded model, and the adapter is switched between requests (milliseconds) instead of
loading the base again. A model file of its own (a merged export) is a second load; at
most MAX_LOADED files stay loaded, the least recently used one is closed first.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict, deque
from contextlib import asynccontextmanager
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.chat.engine import ChatEngine
from kwdesk.core.models.targets import ChatTarget
from kwdesk.core.store.workspace import Workspace

MAX_LOADED = 2


class QueueFull(KwdeskError):
    """Too many requests are waiting already."""

    def __init__(self, waiting: int, retry_after_s: int) -> None:
        super().__init__(f"The server is busy: {waiting} requests are waiting. Try again in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


class Turns:
    """One turn at a time, round the waiting clients in order, with a bounded wait. Used
    from the server's event loop only."""

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self.served = 0
        self._running = False
        # Clients with requests waiting, the next to be served first; each a line of futures.
        self._lines: OrderedDict[str, deque[asyncio.Future]] = OrderedDict()
        self._seconds_each = 2.0  # a running mean of a turn's length, for Retry-After

    @property
    def waiting(self) -> int:
        return sum(len(line) for line in self._lines.values())

    @property
    def busy(self) -> bool:
        """A generation is running."""
        return self._running

    def admit(self) -> None:
        """Refuse now (QueueFull) when the request would wait behind too many others."""
        waiting = self.waiting
        if self._running and waiting >= self.max_waiting:
            raise QueueFull(waiting, max(1, round(self._seconds_each * (waiting + 1))))

    @asynccontextmanager
    async def turn(self, client: str = ""):
        """Wait for this request's turn (admit first); the turn ends when the block does."""
        if self._running or self._lines:
            granted = asyncio.get_running_loop().create_future()
            self._lines.setdefault(client, deque()).append(granted)
            try:
                await granted
            except asyncio.CancelledError:
                if granted.done() and not granted.cancelled():
                    self._next()  # the turn was handed over as the wait was cancelled: pass it on
                else:
                    self._drop(client, granted)
                raise
        else:
            self._running = True
        started = time.monotonic()
        try:
            yield
        finally:
            self.served += 1
            self._seconds_each = 0.8 * self._seconds_each + 0.2 * (time.monotonic() - started)
            self._next()

    def _next(self) -> None:
        """Hand the turn to the first request of the next client in the round, if any."""
        while self._lines:
            client, line = next(iter(self._lines.items()))
            granted = line.popleft()
            if line:
                self._lines.move_to_end(client)  # served now: to the back of the round
            else:
                del self._lines[client]
            if not granted.done():
                granted.set_result(None)
                return
        self._running = False

    def _drop(self, client: str, granted: asyncio.Future) -> None:
        line = self._lines.get(client)
        if line is not None and granted in line:
            line.remove(granted)
            if not line:
                del self._lines[client]


class Engines:
    """ChatEngines by base file; only ever used by one generation at a time (Turns)."""

    def __init__(self, workspace: Workspace, *, n_ctx: int = 4096, max_loaded: int = MAX_LOADED) -> None:
        self.workspace = workspace
        self.n_ctx = n_ctx
        self.max_loaded = max_loaded
        self._loaded: OrderedDict[Path, ChatEngine] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # how many times a model file was read (switching adapters does not count)

    def ready(self, target: ChatTarget) -> ChatEngine:
        """The engine for TARGET's file with TARGET's adapter (or none) applied."""
        with self._lock:
            path = Path(target.gguf)
            engine = self._loaded.get(path)
            if engine is None:
                while len(self._loaded) >= self.max_loaded:
                    _, oldest = self._loaded.popitem(last=False)
                    oldest.close()
                engine = ChatEngine(self.workspace, path, target.name, n_ctx=self.n_ctx, lora_path=target.adapter,
                                    collection_id=target.collection_id)
                self._loaded[path] = engine
                self.loads += 1
            else:
                self._loaded.move_to_end(path)
                if engine.lora_path != (Path(target.adapter) if target.adapter else None):
                    engine.use_adapter(target.adapter, target.name, target.collection_id)
                engine.collection_id = target.collection_id
            return engine

    def loaded_files(self) -> list[Path]:
        return list(self._loaded)

    def close(self) -> None:
        with self._lock:
            while self._loaded:
                _, engine = self._loaded.popitem()
                engine.close()
