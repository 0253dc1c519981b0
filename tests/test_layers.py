"""The project's structural rules: a Qt-free core, and a package list that misses nothing."""

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_core_never_imports_qt():
    modules = sorted(p.stem for p in (REPO / "kwdesk" / "core").glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import kwdesk.core.{m}\n" for m in modules)
        + "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]\n"
        + "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_cli_help_does_not_load_heavy_libraries():
    code = (
        "import sys\nfrom kwdesk.cli import build_parser\nbuild_parser()\n"
        "heavy = [m for m in ('torch', 'transformers', 'llama_cpp', 'pymupdf', 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "kwdesk").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert on_disk <= listed
    assert config["package-dir"]["kwdesk.resources"] == "resources"
