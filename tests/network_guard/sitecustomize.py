"""Refuses network connections beyond this machine in every Python process of the tests.

conftest.py puts this folder first on PYTHONPATH, so the CLI runs, fork-server workers and
training children that tests start load it too. Each refused attempt is also written to
the file named by KWDESK_NETWORK_LOG, and the test session fails if that file is not
empty: a library that swallowed the error is still caught.
"""

from __future__ import annotations

import errno
import os
import socket
import traceback

_LOCAL_HOSTS = {"localhost", "::1", "0.0.0.0", "::", "ip6-localhost"}


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host or "")
    return host in _LOCAL_HOSTS or host.startswith("127.") or host.startswith("/")


def _refuse(what: str) -> OSError:
    log = os.environ.get("KWDESK_NETWORK_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{what} (pid {os.getpid()})\n{''.join(traceback.format_stack(limit=12))}\n")
    return OSError(errno.ENETUNREACH, f"kwdesk tests: network access refused: {what}")


def install() -> None:
    if getattr(socket, "_kwdesk_guarded", False):
        return
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise _refuse(f"connect to {address}")
        return original_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            raise _refuse(f"connect to {address}")
        return original_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_local(host):
            raise _refuse(f"name lookup of {host}")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    socket._kwdesk_guarded = True


install()
