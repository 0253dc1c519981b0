import os
import shutil
import sys
from pathlib import Path

import pytest

# Qt runs headless in tests unless a display is asked for explicitly.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Settings, logs and the default workspace of tests stay out of the user's own folders.
_HOME = Path(__import__("tempfile").mkdtemp(prefix="kwdesk-test-home-"))
# The cache stays real: models converted once are reused across test runs.
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = str(_HOME / _var.lower())
# Tests must never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
sys.path.insert(0, str(TESTS))

# Offline by default, proven: no process of the tests may reach beyond this machine
# (tests/network_guard/sitecustomize.py); attempts are logged, and the session fails on one.
NETWORK_LOG = _HOME / "network-attempts.log"
os.environ["KWDESK_NETWORK_LOG"] = str(NETWORK_LOG)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS / "network_guard"), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(TESTS / "network_guard"))
import sitecustomize  # noqa: E402,F401  (installs the guard in this process)


def pytest_sessionfinish(session, exitstatus):
    if NETWORK_LOG.is_file() and NETWORK_LOG.read_text().strip():
        print(f"\nNetwork access was attempted during the tests:\n{NETWORK_LOG.read_text()[:4000]}")
        session.exitstatus = 1
    else:  # nothing to look at afterwards: each run left a folder in the temp dir
        shutil.rmtree(_HOME, ignore_errors=True)


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


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    """Each test has its own settings file: one test's choices never leak into the next."""
    monkeypatch.setenv("KWDESK_SETTINGS", str(tmp_path / "settings.json"))
    from PySide6.QtCore import QSettings

    QSettings().remove("main_window")  # window state: every test starts as a first run


@pytest.fixture(autouse=True)
def no_blocking_modals(monkeypatch):
    """A message box nobody answers would block an offscreen test run for ever (the CI
    limit, not a test failure). Each one is answered with its safe choice (No, or OK) and
    the test fails at its end, naming it; a test that expects one patches it itself."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []

    def answer(kind, safe):
        def modal(parent, title, text, *args, **kwargs):
            shown.append(f"{kind}: {title}: {text}")
            return safe

        return modal

    buttons = QMessageBox.StandardButton
    monkeypatch.setattr(QMessageBox, "question", answer("question", buttons.No))
    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, answer(kind, buttons.Ok))
    yield
    assert not shown, f"a message box came up that the test did not expect: {shown}"


@pytest.fixture(scope="session")
def bundled_base():
    """The bundled model as a safetensors base (converted once per machine, then cached)."""
    from kwdesk.core.models.base_models import resolve_base

    return resolve_base()


@pytest.fixture
def workspace(tmp_path):
    from kwdesk.core.store.workspace import Workspace

    return Workspace.open(tmp_path / "ws")


@pytest.fixture
def db(workspace):
    conn = workspace.connect()
    yield conn
    conn.close()


SCREENSHOTS = REPO / "build" / "screenshots"


@pytest.fixture
def screenshot():
    """Saves a PNG of a widget under build/screenshots/ to look at."""

    def save(widget, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        assert widget.grab().save(str(path)), f"could not save {path}"
        return path

    return save


@pytest.fixture
def no_threads_left():
    """Fails a GUI test that leaves a worker thread running."""
    yield
    from kwdesk.ui.worker import JobRunner

    running = [r for r in list(JobRunner.instances) if r.is_running()]
    for runner in running:
        runner.cancel()
        runner.wait(30_000)
    assert not running, f"worker threads left running: {running}"


@pytest.fixture(scope="session")
def teacher():
    """The bundled teacher (SmolLM2-135M-Instruct on llama.cpp), loaded once per test run."""
    from kwdesk.core.data.teacher import open_teacher

    t = open_teacher()
    yield t
    t.close()


@pytest.fixture
def facts_workspace(workspace, tmp_path):
    """A workspace holding the invented-facts handbook, in small chunks (one topic each)."""
    from docgen import facts_pdf

    from kwdesk.core.ingest.importer import ImportJob, ImportOptions

    (result,) = ImportJob(workspace, [facts_pdf(tmp_path / "handbook.pdf")], ImportOptions(chunk_tokens=60)).run()
    assert result.status == "imported"
    return workspace


# Three reviewed-looking pairs on the handbook's first passage, for the app's tests.
HANDBOOK_PAIRS = [
    ("How high is the Larkspur Dam?", "The Larkspur Dam on the Veltra River is 212 metres high."),
    ("Who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931."),
    ("Where does the Veltra River rise?", "The Veltra River rises in the Quellan Hills and flows into Lake Orvane."),
]


@pytest.fixture
def pairs_workspace(facts_workspace):
    """The facts handbook with HANDBOOK_PAIRS (ids 1-3) as qa pairs made by "teacher-x"."""
    from kwdesk.core.store.workspace import write_transaction

    db = facts_workspace.connect()
    doc_id, chunk_id = db.execute("SELECT document_id, id FROM chunks ORDER BY seq LIMIT 1").fetchone()
    with write_transaction(db):
        for question, answer in HANDBOOK_PAIRS:
            db["pairs"].insert({"question": question, "answer": answer, "document_id": doc_id, "chunk_id": chunk_id,
                                "strategy": "qa", "made_by": "teacher-x"})
    db.close()
    return facts_workspace


@pytest.fixture
def open_window(qtbot):
    """Opens the main window on a workspace at 1200x760, as the app tests look at it, and
    closes it after the test."""
    from kwdesk.ui.main_window import MainWindow

    opened = []

    def open_(workspace):
        win = MainWindow(workspace, "test model")
        qtbot.addWidget(win)
        win.show()
        win.resize(1200, 760)
        opened.append(win)
        return win

    yield open_
    for win in opened:
        win.close()


@pytest.fixture
def add_held_out():
    """Adds (question, answer) pairs to a workspace as held-out questions written by hand, on
    its first passage."""
    from kwdesk.core.store.workspace import write_transaction

    def add(workspace, pairs) -> None:
        db = workspace.connect()
        doc_id, chunk_id = db.execute("SELECT document_id, id FROM chunks ORDER BY seq LIMIT 1").fetchone()
        with write_transaction(db):
            for question, answer in pairs:
                db["pairs"].insert({"question": question, "answer": answer, "split": "eval", "document_id": doc_id,
                                    "chunk_id": chunk_id, "strategy": "manual"})
        db.close()

    return add


@pytest.fixture(scope="session")
def two_adapters(tmp_path_factory):
    """Two collections (two_collections.py), each trained and exported as an adapter file on
    one shared base: (workspace, {name: ExportResult}). Once a session: test_adapters.py and
    test_serve.py both use it."""
    from two_collections import CONTRACTS, MANUALS, collection_with_pairs

    from kwdesk.core.export.job import ExportJob
    from kwdesk.core.store.workspace import Workspace
    from kwdesk.core.train.job import TrainJob
    from kwdesk.core.train.presets import preset

    root = tmp_path_factory.mktemp("adapters")
    ws = Workspace.open(root / "ws")
    exports = {}
    for spec in (CONTRACTS, MANUALS):
        collection_id = collection_with_pairs(ws, root, spec)
        config = preset("quick-try", max_steps=30, learning_rate=2e-3, replay_ratio=0.0, collection_id=collection_id)
        TrainJob(ws, config).run()
        exports[spec["name"]] = ExportJob(ws, quantization="Q8_0").run()
    return ws, exports
