"""What a desktop needs to show kwdesk: the package list, the desktop entry, the AppStream
metainfo (validated by the freedesktop tools), and the icon set."""

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
APP_ID = "app.kwdesk.Kwdesk"


def test_every_python_package_is_listed_in_pyproject():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "kwdesk").rglob("__init__.py")}
    assert found - {"kwdesk.resources"} <= listed and "kwdesk.resources" in listed


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/system-packages.sh installs it)")
    return path


def test_desktop_entry_is_valid_and_names_the_icon():
    entry = PACKAGING / f"{APP_ID}.desktop"
    proc = subprocess.run([_tool("desktop-file-validate"), str(entry)], capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr  # not even a hint
    values = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    assert values["Icon"] == APP_ID and values["Exec"].split()[0] == "kwdesk"


def test_appstream_metainfo_is_valid_and_points_at_the_desktop_entry():
    metainfo = PACKAGING / f"{APP_ID}.metainfo.xml"
    proc = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(metainfo)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.parse(metainfo).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    from kwdesk import __version__

    assert root.find("releases/release").get("version") == __version__


def test_icon_set_has_every_size_as_a_real_image(qapp):
    from PySide6.QtGui import QImage

    from kwdesk.ui.app import app_icon

    for size in (16, 32, 48, 64, 128, 256, 512):
        image = QImage(str(REPO / "resources" / "icons" / f"kwdesk-{size}.png"))
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(size // 2, size // 2).alpha() == 255  # drawn, not empty
        assert image.pixelColor(0, 0).alpha() == 0  # rounded corners: transparent
    assert len(app_icon().availableSizes()) == 7


def test_the_converter_runs_in_process_with_its_own_gguf_package():
    """How the packaged app converts (it has no python to start): the converter's gguf must
    win over the one already imported, as the frozen one would be."""
    import sys

    from kwdesk.core.models.gguf import converter_dir

    code = (
        "import sys, gguf\n"
        "from kwdesk.core.models.converter_runner import run_converter\n"
        "from kwdesk.core.models.gguf import converter_dir\n"
        "try:\n    run_converter(converter_dir(), ['--help'])\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('GGUF', sys.modules['gguf'].__file__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage" in proc.stdout.lower() and "--outtype" in proc.stdout
    assert proc.stdout.split("GGUF ")[-1].strip().startswith(str(converter_dir()))
