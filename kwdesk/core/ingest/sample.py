"""The sample document that ships with kwdesk (resources/sample, made by
scripts/make_sample_document.py): invented facts, laid out as documents are, for a first
start that shows the whole way from a PDF to an answer before the expert brings their own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_FILE = "kestrel-point-lighthouse.pdf"


def sample_document() -> Path:
    return Path(str(resources.files("kwdesk.resources").joinpath("sample", SAMPLE_FILE)))
