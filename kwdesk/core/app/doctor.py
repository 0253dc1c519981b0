"""`kwdesk doctor`: what a bug report needs, in one place.

Versions of kwdesk and the libraries it stands on, what the machine can do (cores,
memory, GPU, the CPU features llama.cpp was built for), whether the bundled model and
Tesseract are there, and the health of the workspace. Nothing here may fail: a part that
cannot be read says why instead.
"""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from kwdesk.core.base.system import usable_cores
from kwdesk.core.store.workspace import workspace_health

PACKAGES = ("torch", "transformers", "peft", "llama_cpp_python", "pymupdf", "PySide6_Essentials", "sqlite-utils", "gguf")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def package_versions() -> dict[str, str]:
    """kwdesk's, Python's and its main packages' versions, read from their metadata alone
    (cheap: nothing is imported), for the About box."""
    from kwdesk import __version__

    return {"kwdesk": __version__, "Python": sys.version.split()[0], **{name: _version(name) for name in PACKAGES}}


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def _torch() -> dict:
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - a broken install is what doctor is for
        return {"error": str(exc)}
    out = {"cuda": torch.cuda.is_available(), "cuda_version": torch.version.cuda}
    if torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
        out["gpu_memory_gb"] = round(torch.cuda.get_device_properties(0).total_memory / 1024**3, 1)
        out["bf16"] = torch.cuda.is_bf16_supported()
    out["mps"] = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if not torch.cuda.is_available():
        from kwdesk.core.train.train_data import compute_precision

        # bf16 products where the CPU has them: about twice as fast as float32 (BENCHMARKS.md).
        out["cpu_training"] = compute_precision(torch, "cpu")
    return out


def _llama_cpp() -> dict:
    try:
        import llama_cpp
    except Exception as exc:  # noqa: BLE001
        return {"error": str(exc)}
    return {
        "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
    }


def _tesseract() -> str:
    exe = shutil.which("tesseract")
    if not exe:
        return "not installed (scanned pages cannot be read)"
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        return f"found at {exe}, but it does not run: {exc}"


def _bundled() -> str:
    from kwdesk.core.models.bundled import bundled_model_path

    try:
        return str(bundled_model_path())
    except Exception as exc:  # noqa: BLE001
        return f"missing: {exc}"





def report(workspace_root: Path | None) -> dict:
    from kwdesk import __version__
    from kwdesk.core.app.settings import settings_file
    from kwdesk.core.base.network import downloads_allowed
    from kwdesk.core.base.paths import user_log_dir

    cores = usable_cores()
    return {
        "kwdesk": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_cores": cores,
        "memory_gb": _memory_gb(),
        "packages": {name: _version(name) for name in PACKAGES},
        "sqlite": sqlite3.sqlite_version,
        "torch": _torch(),
        "llama_cpp": _llama_cpp(),
        "tesseract": _tesseract(),
        "bundled_model": _bundled(),
        "downloads_allowed": downloads_allowed(),
        "settings_file": str(settings_file()),
        "log_folder": str(user_log_dir()),
        "workspace": workspace_health(workspace_root) if workspace_root else None,
    }
