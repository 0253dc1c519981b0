"""Settings shared by the app and the CLI: one file, validated, written atomically."""

import json
import subprocess
import sys

import pytest

from kwdesk.core.app.settings import (
    Settings,
    load_settings,
    save_settings,
    update_setting,
)


def test_settings_round_trip_and_validation(tmp_path):
    path = tmp_path / "settings.json"
    assert load_settings(path) == Settings()  # no file yet: defaults
    save_settings(Settings(preset="quick-try", quantization="Q8_0", teacher="/models/t.gguf"), path)
    loaded = load_settings(path)
    assert (loaded.preset, loaded.quantization, loaded.teacher) == ("quick-try", "Q8_0", "/models/t.gguf")
    with pytest.raises(ValueError, match="preset"):
        update_setting("preset", "fastest", path)
    with pytest.raises(ValueError, match="unknown setting"):
        update_setting("colour", "blue", path)
    assert update_setting("per_chunk", "6", path).per_chunk == 6
    assert update_setting("export_after_training", "no", path).export_after_training is False
    # A damaged file gives the defaults instead of a crash at start-up.
    path.write_text("{not json")
    assert load_settings(path) == Settings()
    path.write_text(json.dumps({"preset": "nonsense", "unknown": 1}))
    assert load_settings(path) == Settings()


def test_cli_takes_its_defaults_from_the_settings(tmp_path, monkeypatch):
    settings = tmp_path / "settings.json"
    workspace = tmp_path / "ws"
    env = {**__import__("os").environ, "KWDESK_SETTINGS": str(settings)}
    env.pop("KWDESK_WORKSPACE", None)

    def kwdesk(*args):
        return subprocess.run([sys.executable, "-m", "kwdesk", *args], capture_output=True, text=True, env=env, timeout=120)

    assert kwdesk("settings", "workspace", str(workspace)).returncode == 0
    assert kwdesk("settings", "preset", "fastest").returncode == 2
    done = kwdesk("settings", "--json")
    assert json.loads(done.stdout)["workspace"] == str(workspace)
    # A hand-written pair lands in the workspace named by the settings.
    added = kwdesk("pairs", "add", "--question", "Who signs the permit?", "--answer", "The harbour master signs it.")
    assert added.returncode == 0, added.stderr
    listed = kwdesk("pairs", "list", "--json")
    (pair,) = json.loads(listed.stdout)
    assert pair["answer"] == "The harbour master signs it." and pair["status"] == "accepted" and pair["strategy"] == "manual"
    assert (workspace / "kwdesk.db").is_file()
