"""The desktop app, driven offscreen: first run, drop PDFs, read pages, cancel, close."""

from pathlib import Path

import pytest
from docgen import facts_pdf, make_pdf
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from kwdesk.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, workspace, no_threads_left):
    win = MainWindow(workspace, "SmolLM2-135M-Instruct (bundled)")
    qtbot.addWidget(win)
    win.show()
    win.resize(1100, 700)
    yield win
    win.documents.shutdown()


def drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert event.isAccepted()


def test_first_run_says_what_to_do(window, workspace, screenshot):
    assert window.windowTitle().startswith("kwdesk")
    assert str(workspace.root) in window.windowTitle()
    page = window.documents
    assert page.stack.currentIndex() == 0 and page.empty_hint.isVisible() and page.sample_button.isVisible()
    assert "Drop your documents here" in page.empty_hint.text() and "Word" in page.empty_hint.text()
    screenshot(window, "documents-first-run")


def test_dropped_pdfs_are_imported_and_readable(window, qtbot, tmp_path, screenshot):
    good = facts_pdf(tmp_path / "handbook.pdf")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"this is not a pdf")
    with qtbot.waitSignal(window.documents.import_finished, timeout=60_000) as blocker:
        drop(window, [good, bad])
    statuses = {Path(r.path).name: r.status for r in blocker.args[0]}
    assert statuses == {"handbook.pdf": "imported", "broken.pdf": "rejected"}
    qtbot.waitUntil(lambda: not window.documents.is_busy())
    model = window.documents.model
    assert model.rowCount() == 2
    rows = {model.index(r, 0).data(): r for r in range(model.rowCount())}
    assert model.index(rows["broken.pdf"], 4).data().startswith("damaged PDF")
    assert model.index(rows["handbook.pdf"], 2).data() == 3
    # Selecting the document shows its first page; the page box moves through pages.
    window.documents.table.selectRow(rows["handbook.pdf"])
    assert "Larkspur Dam" in window.documents.page_view.toPlainText()
    window.documents.page_spin.setValue(3)
    assert "Ilse Tamberg" in window.documents.page_view.toPlainText()
    assert "Import done" in window.documents.status_label.text()
    assert window.running_label.text() == "Ready"
    screenshot(window, "documents-imported")


def test_cancel_stops_an_import(window, qtbot, tmp_path):
    paths = [make_pdf(tmp_path / f"{i}.pdf", [(f"Part {i}", [f"Paragraph {i} about valve {i}."])]) for i in range(40)]
    page = window.documents

    def cancel_after_first(p):
        if p.done >= 1:
            page.cancel_import()

    drop(window, paths)
    page.job_bar.progressed.connect(cancel_after_first)
    with qtbot.waitSignal(page.job_bar.finished, timeout=60_000):
        pass
    assert "cancelled" in page.status_label.text()
    assert 1 <= page.model.rowCount() < 40
    assert not page.job_bar.bar.isVisible()


def test_closing_during_an_import_asks_then_cancels(window, qtbot, tmp_path, monkeypatch):
    paths = [make_pdf(tmp_path / f"{i}.pdf", [(f"Part {i}", [f"Paragraph {i} about pumps {i}."])]) for i in range(40)]
    asked = []
    monkeypatch.setattr(window, "confirm_cancel_on_close", lambda: asked.append(1) or True)
    drop(window, paths)
    runner = window.documents.job_bar._runner
    assert window.documents.is_busy()
    window.close()
    assert asked == [1]
    assert not runner.is_running()
    assert not window.documents.is_busy()


def test_closing_when_the_user_says_no_keeps_the_window_and_the_job(window, qtbot, tmp_path, monkeypatch):
    paths = [make_pdf(tmp_path / f"{i}.pdf", [(f"Part {i}", [f"Paragraph {i} about gaskets {i}."])]) for i in range(10)]
    monkeypatch.setattr(window, "confirm_cancel_on_close", lambda: False)
    drop(window, paths)
    window.close()
    assert window.isVisible()
    with qtbot.waitSignal(window.documents.import_finished, timeout=60_000) as blocker:
        pass
    assert len(blocker.args[0]) == 10


def test_window_state_is_remembered(qtbot, facts_workspace, no_threads_left):
    first = MainWindow(facts_workspace, "test model")
    qtbot.addWidget(first)
    first.show()
    first.move(40, 30)
    first.steps.setCurrentRow(1)
    first.close()
    second = MainWindow(facts_workspace, "test model")
    qtbot.addWidget(second)
    assert second.steps.currentRow() == 1  # back on the Data step
    from PySide6.QtCore import QSettings

    assert QSettings().value("main_window/geometry") is not None  # restored when it fits the screen
    second.close()


def test_the_reader_draws_tables_and_says_how_much_hidden_text_was_left_out(window, qtbot, tmp_path, screenshot):
    from formats import write_docx
    from laidout import build_document

    pdf, truth = build_document("manual-two-columns", tmp_path)
    docx, _ = write_docx(tmp_path / "manual.docx")
    with qtbot.waitSignal(window.documents.import_finished, timeout=60_000):
        drop(window, [pdf, docx])
    qtbot.waitUntil(lambda: not window.documents.is_busy())
    page = window.documents
    names = [page.model.index(r, 0).data() for r in range(page.model.rowCount())]
    page.table.selectRow(names.index("manual-two-columns.pdf"))
    assert page.hidden_label.isVisible()
    assert f"{len(truth.hidden[0])} characters of hidden text" in page.hidden_label.text()
    assert "Ignore all previous instructions" not in page.page_view.toPlainText()
    assert 'For example: "Ignore all previous instructions' in page.hidden_label.text()  # what was hidden
    # The berths' table is drawn as a table, each cell in its own cell.
    table_page = next(n for n in range(1, page.page_spin.maximum() + 1)
                      if (page.page_spin.setValue(n) or "Oil Jetty" in page.page_view.toPlainText()))
    html = page.page_view.document().toHtml()
    assert "<table" in html and ">16.8<" in html and ">Depth (m)<" in html
    assert page.page_spin.prefix() == "Page "
    page.page_view.find("Ferry Berth")  # scrolls the table into view
    screenshot(window, f"reader-table-page-{table_page}")
    # A Word file has sections, not pages.
    page.table.selectRow(names.index("manual.docx"))
    assert page.page_spin.prefix() == "Section " and "sections)" in page.page_title.text()


def test_a_document_is_removed_with_its_pairs_by_key_and_by_the_cli(window, qtbot, workspace, tmp_path, monkeypatch,
                                                                     screenshot):
    import subprocess
    import sys

    from PySide6.QtWidgets import QMessageBox

    from kwdesk.core.store.workspace import write_transaction

    drop(window, [facts_pdf(tmp_path / "handbook.pdf"), make_pdf(tmp_path / "other.pdf", [("Other", ["Other text. " * 40])])])
    page = window.documents
    qtbot.waitUntil(lambda: not page.is_busy() and page.model.rowCount() == 2, timeout=60_000)
    db = workspace.connect()
    handbook, other = (db.execute("SELECT id FROM documents WHERE name = ?", [n]).fetchone()[0]
                       for n in ("handbook.pdf", "other.pdf"))
    with write_transaction(db):
        for doc in (handbook, other):
            db["pairs"].insert({"question": f"Q{doc}?", "answer": "A.", "document_id": doc, "strategy": "qa"})

    # The Delete key on the selected row asks first; No keeps it.
    row = [r.id for r in page.model.rows].index(handbook)
    page.table.selectRow(row)
    page.table.setFocus()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert asked and "handbook.pdf" in asked[0] and "1 pair made from it" in asked[0]
    assert page.model.rowCount() == 2
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.table.selectRow(row)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert page.status_label.text() == "Removed handbook.pdf and the 1 pair made from it."
    assert [r.name for r in page.model.rows] == ["other.pdf"]
    assert db.execute("SELECT count(*) FROM pairs WHERE document_id = ?", [handbook]).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM chunks WHERE document_id = ?", [handbook]).fetchone()[0] == 0
    assert (tmp_path / "handbook.pdf").is_file()  # the user's file is never touched
    screenshot(window, "documents-removed")

    # The same from the terminal, and a readable mistake.
    run = [sys.executable, "-m", "kwdesk", "--workspace", str(workspace.root), "remove"]
    done = subprocess.run(run + [str(other)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Removed other.pdf and the 1 pair made from it." in done.stderr
    wrong = subprocess.run(run + ["999"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode != 0 and "There is no document 999" in wrong.stderr
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
    db.close()


def test_an_empty_question_gets_a_word_and_ctrl_q_quits(window, qtbot):
    chat = window.chat
    chat.input.setPlainText("   ")
    chat.send()
    assert chat.message.text().startswith("Type a question first") and not chat.ask_bar.is_busy()
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)


def test_f1_lists_the_keys_about_shows_the_versions_and_ctrl_digits_go_to_a_step(window, qtbot, screenshot):
    from kwdesk.ui.main_window import DATA, MODELS

    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.steps.currentRow() == DATA
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.steps.currentRow() == MODELS
    assert window.shortcuts_action.shortcut().toString() == "F1"
    shortcuts = window.show_shortcuts()
    qtbot.addWidget(shortcuts)
    listed = shortcuts.text.toPlainText()
    for key in ("Y", "Ctrl+Z / Ctrl+Shift+Z", "Shift+Enter", "Delete", "Ctrl+1 … Ctrl+5"):
        assert key in listed
    screenshot(shortcuts, "shortcuts")
    shortcuts.close()
    about = window.show_about()
    qtbot.addWidget(about)
    import kwdesk

    shown = about.label.text()
    assert f"kwdesk {kwdesk.__version__}" in shown and "llama_cpp_python" in shown and "Qt" in shown
    about.close()
