"""Logging to a rotating file in the user's log folder, for bug reports."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from kwdesk.core.base.paths import user_log_dir


def setup_logging(level: int = logging.INFO, folder: Path | None = None) -> Path | None:
    """Send kwdesk's log records to kwdesk.log (1 MB, 5 files kept). Returns the file."""
    folder = folder or user_log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(folder / "kwdesk.log", maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None  # a read-only home folder must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("kwdesk")
    root.setLevel(level)
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        root.addHandler(handler)
    return folder / "kwdesk.log"
