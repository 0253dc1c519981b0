"""The user's settings: teacher, base model, preset, workspace and the like, in one JSON file.

The app's settings dialog and `kwdesk settings` read and write the same file, and every CLI
command takes its defaults from it, so what the expert chose in the app also holds in a
terminal. Window geometry is not here: that is the UI's own state (QSettings).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from kwdesk.core.base.paths import APP_NAME
from kwdesk.core.models.gguf import DEFAULT_QUANTIZATION, QUANTIZATIONS


@dataclass
class Settings:
    workspace: str = ""  # empty: the default workspace
    teacher: str = ""  # a GGUF file or an OpenAI-compatible URL; empty: the bundled model
    endpoint_model: str = ""  # the model name at a teacher URL
    teacher_parallel: int = 8  # requests sent at once to a teacher URL (a server's parallel slots)
    base_model: str = ""  # a GGUF file, an HF folder or a hub id; empty: the bundled model
    preset: str = "learn-documents"
    quantization: str = DEFAULT_QUANTIZATION
    per_chunk: int = 4
    strategies: str = "qa,entities,rephrase,paraphrase"
    export_after_training: bool = True
    # Off: kwdesk makes no network call (models come from disk). On: a hub id may be downloaded.
    allow_downloads: bool = False
    appearance: str = "system"  # system, light or dark (ui/theme.py)

    def to_dict(self) -> dict:
        return asdict(self)


def settings_file() -> Path:
    env = os.environ.get("KWDESK_SETTINGS")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings; unknown keys are ignored and a damaged file gives the defaults."""
    path = path or settings_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    known = {f.name: f.type for f in fields(Settings)}
    values = {}
    for key, value in data.items():
        if key in known:
            values[key] = value
    try:
        return _validated(Settings(**values))
    except (TypeError, ValueError):
        return Settings()


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically: a crash mid-write leaves the old file, never half a file."""
    settings = _validated(settings)
    path = path or settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(settings.to_dict(), indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def update_setting(key: str, value: str, path: Path | None = None) -> Settings:
    """Set one key from text (as typed after `kwdesk settings KEY VALUE`)."""
    current = load_settings(path)
    kinds = {f.name: f.type for f in fields(Settings)}
    if key not in kinds:
        raise ValueError(f"unknown setting {key!r}; known: {', '.join(kinds)}")
    default = getattr(Settings(), key)
    if isinstance(default, bool):
        if value.lower() not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            raise ValueError(f"{key} is yes or no")
        parsed: object = value.lower() in ("true", "yes", "1", "on")
    elif isinstance(default, int):
        parsed = int(value)
    else:
        parsed = value
    changed = Settings(**{**current.to_dict(), key: parsed})
    save_settings(changed, path)
    return changed


def _validated(settings: Settings) -> Settings:
    from kwdesk.core.data.generate import STRATEGIES
    from kwdesk.core.train.presets import PRESETS

    if settings.preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
    if settings.quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {', '.join(QUANTIZATIONS)}")
    if int(settings.per_chunk) < 1:
        raise ValueError("per_chunk must be at least 1")
    if settings.appearance not in ("system", "light", "dark"):
        raise ValueError("appearance must be system, light or dark")
    strategies = [s.strip() for s in settings.strategies.split(",") if s.strip()]
    if not strategies or any(s not in STRATEGIES for s in strategies):
        raise ValueError(f"strategies are a comma-separated list of {','.join(STRATEGIES)}")
    return settings
