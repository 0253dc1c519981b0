"""Where kwdesk keeps things on the user's machine."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "kwdesk"


def default_workspace_dir() -> Path:
    """The workspace used when neither --workspace nor KWDESK_WORKSPACE names one."""
    env = os.environ.get("KWDESK_WORKSPACE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "workspace"


def user_log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_state_dir() -> Path:
    """What kwdesk learns about this machine as it runs (training's measured speed)."""
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))
