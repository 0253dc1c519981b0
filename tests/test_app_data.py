"""The Data step of the app: review pairs by keyboard beside their source passages."""

import pytest
from PySide6.QtCore import Qt

from kwdesk.core.workspace import write_transaction
from kwdesk.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, facts_workspace, no_threads_left):
    db = facts_workspace.connect()
    doc_id, chunk_id = db.execute("SELECT document_id, id FROM chunks ORDER BY seq LIMIT 1").fetchone()
    with write_transaction(db):
        for question, answer in [
            ("How high is the Larkspur Dam?", "The Larkspur Dam on the Veltra River is 212 metres high."),
            ("Who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931."),
            ("Where does the Veltra River rise?", "The Veltra River rises in the Quellan Hills and flows into Lake Orvane."),
        ]:
            db["pairs"].insert({"question": question, "answer": answer, "document_id": doc_id, "chunk_id": chunk_id,
                                "strategy": "qa", "made_by": "teacher-x"})
    db.close()
    win = MainWindow(facts_workspace, "test model")
    qtbot.addWidget(win)
    win.show()
    win.resize(1200, 700)
    win.steps.setCurrentRow(1)
    yield win
    win.close()


def test_review_by_keyboard_is_saved_at_once(window, qtbot, db, screenshot):
    page = window.data
    assert page.model.rowCount() == 3 and page.count_label.text() == "3 pairs"
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Y)
    qtbot.keyClick(page.table, Qt.Key.Key_N)
    statuses = [row[0] for row in db.execute("SELECT status FROM pairs ORDER BY id")]
    assert statuses == ["accepted", "rejected", "new"]
    assert page.table.currentIndex().row() == 2  # moved on after each verdict
    assert page.model.index(0, 1).data() == "accepted"
    qtbot.keyClick(page.table, Qt.Key.Key_Up)
    qtbot.keyClick(page.table, Qt.Key.Key_U)
    assert db.execute("SELECT status FROM pairs WHERE id = 2").fetchone()[0] == "new"
    page.status_filter.setCurrentText("accepted")
    assert page.model.rowCount() == 1 and page.count_label.text() == "1 pair"
    screenshot(window, "data-review")


def test_the_source_passage_shows_beside_the_pair(window):
    page = window.data
    page.table.selectRow(1)
    assert "Engineer Maren Oskarsdottir designed" in page.source_view.toPlainText()
    assert "handbook.pdf, p. 1" in page.source_title.text() and "teacher-x" in page.source_title.text()
    # The answer's words are highlighted in the passage.
    document = page.source_view.document()
    cursor = document.find("Oskarsdottir")
    assert cursor.charFormat().background().color().name() == "#fff3a0"
