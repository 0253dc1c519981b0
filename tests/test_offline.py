"""Offline by default: kwdesk reaches no network unless the user asks for a download."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_the_guard_refuses_and_records_connections_in_child_processes(tmp_path):
    log = tmp_path / "attempts.log"
    env = {**os.environ, "KWDESK_NETWORK_LOG": str(log)}
    code = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\nexcept OSError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "network access refused" in out.stdout
    assert "192.0.2.1" in log.read_text()


def test_hub_downloads_are_off_unless_the_user_allows_them(monkeypatch):
    from kwdesk.core.app.settings import Settings
    from kwdesk.core.base.network import apply_network_policy
    from kwdesk.core.models.base_models import BaseModelError, resolve_base

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    apply_network_policy(Settings().allow_downloads)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"
    with pytest.raises(BaseModelError, match="downloading models is off"):
        resolve_base("someone/some-model")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    apply_network_policy(Settings(allow_downloads=True).allow_downloads)
    assert os.environ.get("HF_HUB_OFFLINE") != "1"
