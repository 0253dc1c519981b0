import os
import sys
from pathlib import Path

import pytest

# Qt runs headless in tests unless a display is asked for explicitly.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests must never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))


def _corpus_dir() -> Path | None:
    env = os.environ.get("KWDESK_PDF_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "pdf-corpus")
    for candidate in candidates:
        if (candidate / "files.json").is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def pdf_corpus() -> Path:
    corpus = _corpus_dir()
    if corpus is None:
        if os.environ.get("CI"):
            pytest.fail("the shared PDF corpus (../shared/pdf-corpus) is missing on CI")
        pytest.skip("the shared PDF corpus (../shared/pdf-corpus) is not beside this checkout")
    return corpus


@pytest.fixture
def workspace(tmp_path):
    from kwdesk.core.workspace import Workspace

    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def db(workspace):
    conn = workspace.connect()
    yield conn
    conn.close()
