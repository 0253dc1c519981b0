"""An OpenAI-compatible chat endpoint on 127.0.0.1, served by llama.cpp with parallel slots:
what a user's llama-server or vLLM is to kwdesk, made from the bundled model, for tests and
benchmarks of a teacher behind a URL. Each slot is its own llama.cpp context (its share of
the cores); a request waits for a free slot, as on a server with --parallel N.

    with LoopbackTeacherServer(slots=2) as server:
        teacher = OpenAICompatibleTeacher(server.url, "bundled", parallel=8)
"""

from __future__ import annotations

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from kwdesk.core.base.system import usable_cores
from kwdesk.core.models.bundled import bundled_model_path


class LoopbackTeacherServer:
    def __init__(self, slots: int = 2, model_path=None) -> None:
        from kwdesk.core.models.model_files import load_llama

        threads = max(1, usable_cores() // slots)
        path = model_path or bundled_model_path()
        self._free: queue.Queue = queue.Queue()
        for _ in range(slots):
            self._free.put(load_llama(path, n_ctx=4096, n_threads=threads, verbose=False, seed=0))
        self.slots = slots
        self.requests = 0
        self.most_at_once = 0
        self._busy = 0
        self._count = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        while not self._free.empty():
            self._free.get().close()

    def complete(self, body: dict) -> dict:
        kwargs = {}
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            kwargs["response_format"] = {"type": "json_object", "schema": fmt["json_schema"]["schema"]}
        if "seed" in body:
            kwargs["seed"] = body["seed"]
        llm = self._free.get()  # wait for a free slot
        with self._count:
            self.requests += 1
            self._busy += 1
            self.most_at_once = max(self.most_at_once, self._busy)
        try:
            return llm.create_chat_completion(messages=body["messages"], max_tokens=body.get("max_tokens", 64),
                                              temperature=body.get("temperature", 0.0), **kwargs)
        finally:
            with self._count:
                self._busy -= 1
            self._free.put(llm)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = json.dumps(server.complete(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        return Handler
