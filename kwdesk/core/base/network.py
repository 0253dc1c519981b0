"""kwdesk is offline by default: no network call unless the user allows downloads or
names an endpoint (a teacher URL).

The Hugging Face libraries are the only parts that would reach out on their own (hub
lookups, telemetry); their switches are set here, once, before they are imported.
"""

from __future__ import annotations

import os


def apply_network_policy(allow_downloads: bool) -> None:
    """ALLOW_DOWNLOADS: the user's setting (Settings.allow_downloads)."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if allow_downloads:
        # The user asked for hub downloads; an explicit HF_HUB_OFFLINE=1 still wins.
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def downloads_allowed() -> bool:
    return os.environ.get("HF_HUB_OFFLINE") != "1"
