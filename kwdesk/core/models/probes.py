"""The general questions (with short known answers) that show what a model forgot:
resources/probe_questions.json, made by scripts/make_probe_set.py."""

from __future__ import annotations

import json
from importlib import resources


def probe_questions(limit: int | None = None) -> list[dict]:
    data = json.loads(resources.files("kwdesk.resources").joinpath("probe_questions.json").read_text(encoding="utf-8"))
    items = data["items"]
    if limit is not None and limit < len(items):
        # An even spread over the topics rather than the first N (which are all capitals).
        step = len(items) / limit
        items = [items[int(i * step)] for i in range(limit)]
    return items
