"""Runs llama.cpp's converter (convert_hf_to_gguf) in this process, with its own gguf package.

The converter ships a gguf package newer than the one transformers loads, so it always
runs in a child process. From a source install that child is `python -m
convert_hf_to_gguf` with the converter's folder first on PYTHONPATH. A packaged app has
no python to start: its executable starts again with --kwdesk-run-converter, and this
module makes the converter's folder win over the modules frozen into the app.
"""

from __future__ import annotations

import importlib.machinery
import runpy
import sys
from pathlib import Path

RUN_CONVERTER_FLAG = "--kwdesk-run-converter"
_OWN_TOP_LEVEL = ("gguf", "convert_hf_to_gguf", "conversion")


class _ConverterFirst:
    """A finder ahead of every other one for the converter's own top-level packages."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] not in _OWN_TOP_LEVEL:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [self.folder] if "." not in fullname else path, target)


def run_converter(folder: Path, argv: list[str]) -> None:
    """Run convert_hf_to_gguf from FOLDER with ARGV, as if it were the main program."""
    for name in list(sys.modules):
        if name.split(".")[0] in _OWN_TOP_LEVEL:
            del sys.modules[name]
    sys.meta_path.insert(0, _ConverterFirst(Path(folder)))
    sys.argv = ["convert_hf_to_gguf", *argv]
    runpy.run_module("convert_hf_to_gguf", run_name="__main__", alter_sys=True)
