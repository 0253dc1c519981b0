"""`kwdesk doctor`: what a bug report needs, even when the workspace will not open."""

from __future__ import annotations

import json
import subprocess
import sys


def _doctor(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwdesk", *map(str, args), "doctor", "--json"],
                          capture_output=True, text=True, timeout=120)


def test_doctor_reports_versions_hardware_and_workspace_health(pairs_workspace):
    out = _doctor("--workspace", pairs_workspace.root)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["packages"]["llama_cpp_python"] != "not installed" and found["packages"]["torch"] != "not installed"
    assert found["cpu_cores"] >= 1 and found["memory_gb"] > 0
    assert "AVX" in found["llama_cpp"]["system_info"] or "NEON" in found["llama_cpp"]["system_info"]
    assert found["bundled_model"].endswith(".gguf")
    assert found["downloads_allowed"] is False
    health = found["workspace"]
    assert health["integrity"] == "ok" and health["schema"] >= 4
    assert health["documents"] == 1 and health["pairs"] == 3


def test_doctor_works_when_the_workspace_does_not(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kwdesk.db").write_bytes(b"this is not a database" * 100)
    out = _doctor("--workspace", broken)
    assert out.returncode == 0, out.stderr
    assert "not a database" in json.loads(out.stdout)["workspace"]["error"]
