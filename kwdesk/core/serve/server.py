"""Running the local server: where it listens, its key, start and stop.

Safe by default: it listens on 127.0.0.1, where only programs of this computer reach it.
Anywhere else (`--host 0.0.0.0`, a LAN address) every request needs an API key: one is
generated and shown when none is given, so the models of a user's documents are never
open to the network by accident.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
from dataclasses import dataclass

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.serve import DEFAULT_HOST, DEFAULT_PORT
from kwdesk.core.serve.openai_api import OpenAIServer, ServeLimits, create_app
from kwdesk.core.store.workspace import Workspace


class ServeError(KwdeskError):
    pass


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_api_key() -> str:
    return "kwd-" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ServeSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: a free port
    api_key: str | None = None
    limits: ServeLimits = ServeLimits()

    def with_key(self) -> "ServeSettings":
        """These settings with a key where the address needs one and none was given."""
        if self.api_key or is_loopback(self.host):
            return self
        return ServeSettings(self.host, self.port, new_api_key(), self.limits)


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LocalServer:
    """The server in a thread of this process (the app's Serve, tests) or in the foreground
    (`kwdesk serve`). ``url`` is its address once started."""

    def __init__(self, workspace: Workspace, settings: ServeSettings | None = None) -> None:
        import uvicorn

        self.settings = (settings or ServeSettings()).with_key()
        if self.settings.port == 0:
            self.settings = ServeSettings(self.settings.host, free_port(self.settings.host), self.settings.api_key,
                                          self.settings.limits)
        self.api = OpenAIServer(workspace, self.settings.limits, self.settings.api_key)
        config = uvicorn.Config(create_app(self.api), host=self.settings.host, port=self.settings.port,
                                log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.settings.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
        return f"http://{shown}:{self.settings.port}/v1"

    def serve_forever(self) -> None:
        """Serve until stop() or Ctrl+C (`kwdesk serve`)."""
        try:
            self._server.run()
        except (OSError, SystemExit) as exc:  # uvicorn exits when it cannot bind
            raise ServeError(f"Cannot listen on {self.settings.host}:{self.settings.port} (is the port in use?).") from exc
        if not self._server.started:
            raise ServeError(f"Cannot listen on {self.settings.host}:{self.settings.port} (is the port in use?).")

    def start(self, timeout_s: float = 30.0) -> "LocalServer":
        """Serve in a thread; returns once it listens (ServeError when it cannot)."""
        import time

        errors: list[BaseException] = []

        def run():
            try:
                self._server.run()
            except BaseException as exc:  # noqa: BLE001 - shown to the caller below
                errors.append(exc)

        self._thread = threading.Thread(target=run, name="kwdesk-serve-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if errors or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                why = f": {errors[0]}" if errors else " (is the port in use?)"
                raise ServeError(f"Cannot listen on {self.settings.host}:{self.settings.port}{why}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
