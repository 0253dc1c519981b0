"""The project's structural rules: a Qt-free core, and a package list that misses nothing."""

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _core_modules() -> list[str]:
    core = REPO / "kwdesk" / "core"
    return sorted(
        ".".join(("kwdesk", "core", *p.relative_to(core).with_suffix("").parts))
        for p in core.rglob("*.py") if p.stem != "__init__"
    )


def test_core_is_laid_out_by_stage():
    """Every module of the core lives in a stage package; none is left at the root."""
    core = REPO / "kwdesk" / "core"
    assert sorted(p.name for p in core.glob("*.py")) == ["__init__.py"]
    assert all((d / "__init__.py").is_file() for d in core.iterdir() if d.is_dir() and d.name != "__pycache__")


def test_layer_contracts_hold_counting_imports_inside_functions():
    """import-linter's contracts (pyproject.toml): the stages import only downward, the core
    never imports Qt, the CLI or the window. It reads imports inside functions too, which
    an import at run time (the test below) would miss."""
    proc = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_no_import_cycles():
    """No two modules import each other, directly or around a loop, counting function-level imports."""
    import ast

    modules = {m: REPO.joinpath(*m.split(".")).with_suffix(".py") for m in _core_modules()}
    for package in {m.rsplit(".", 1)[0] for m in modules}:
        modules[package] = REPO.joinpath(*package.split("."), "__init__.py")
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module and not module.startswith(name + "."):
                    edges[module].add(name)
    # Depth-first search for a back edge.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in edges[node]:
            if state.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
                return True
            if nxt not in state and visit(nxt, path + [nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(edges):
        if start not in state and visit(start, [start]):
            break
    assert not cycle, " -> ".join(cycle)


def test_core_never_imports_qt():
    modules = _core_modules()
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
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
