"""The app's side of living knowledge: collections on the Documents page, what a changed
document changed (retire / generate), conflicting pairs side by side, and the Train page's
choice of collection and starting adapter."""

import pytest
from docgen import make_pdf

from kwdesk.core.ingest.importer import ImportJob, ImportOptions
from kwdesk.core.store.pairs import add_pair
from kwdesk.ui.main_window import DATA, DOCUMENTS, TRAIN, MainWindow

DAM = "The Larkspur Dam on the Veltra River is 212 metres high and was finished in 1931 by Maren Oskarsdottir."
DAM_V2 = "The Larkspur Dam on the Veltra River is 215 metres high since its crest was raised in 2019."
TOWER = "The Orvane water tower holds 4,000 cubic metres of water and was painted green in 1977."


@pytest.fixture
def window(qtbot, workspace, tmp_path, no_threads_left):
    path = tmp_path / "handbook.pdf"
    make_pdf(path, [("Structures", [DAM, TOWER])])
    (v1,) = ImportJob(workspace, [path], ImportOptions(chunk_tokens=40)).run()
    db = workspace.connect()
    dam_chunk = db.execute("SELECT id FROM chunks WHERE document_id = ? AND text LIKE '%Larkspur%'", [v1.document_id]).fetchone()[0]
    add_pair(db, "How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high.", chunk_id=dam_chunk)
    add_pair(db, "What is the height of the Larkspur Dam?", "The Larkspur Dam is 250 metres high.", chunk_id=dam_chunk)
    db.close()
    make_pdf(path, [("Structures", [DAM_V2, TOWER])])
    ImportJob(workspace, [path], ImportOptions(chunk_tokens=40)).run()
    win = MainWindow(workspace, "test model")
    qtbot.addWidget(win)
    win.show()
    win.resize(1200, 760)
    yield win
    win.close()


def test_collections_changes_and_conflicts_in_the_app(window, qtbot, workspace, screenshot):
    docs = window.documents
    window.steps.setCurrentRow(DOCUMENTS)
    docs.refresh()
    assert docs.collection_combo.itemText(0) == "All documents"
    made = docs.new_collection("contracts")
    docs.table.selectRow(0)
    docs.move_selected(made)
    assert docs.model.index(0, 5).data() == "contracts"
    docs.select_collection(made.id)
    assert docs.model.rowCount() == 1 and docs.current_collection_id() == made.id
    screenshot(window, "documents-collections")
    docs.select_collection(None)
    # The train page offers the collection as what to train.
    assert window.train.collection_combo.findData(made.id) > 0

    # What changed: one passage gone (its two pairs to retire), one new.
    docs.table.selectRow(0)
    assert docs.changes_button.isEnabled()
    dialog = docs.show_changes()
    assert "2 pair(s) come from passages that are gone" in dialog.summary.text()
    assert "1 new passage(s) have no pairs yet" in dialog.summary.text()
    screenshot(dialog, "changes-dialog")
    dialog.close()

    # The two pairs contradict each other: the Data page says so and shows them side by side.
    window.steps.setCurrentRow(DATA)
    window.data.reload()
    assert window.data.conflicts_button.text() == "Conflicts (1)"
    conflicts = window.data.show_conflicts()
    left, right = (view.toPlainText() for view in conflicts.views)
    assert "212" in left and "250" in right and "handbook.pdf (version 1), page 1" in left
    screenshot(conflicts, "conflicts-dialog")
    conflicts.keep(0)
    assert "No pairs contradict each other" in conflicts.header.text()
    conflicts.close()
    qtbot.waitUntil(lambda: window.data.conflicts_button.text() == "Conflicts", timeout=5000)

    # Retiring the pairs of the removed passage (the one kept is retired too: its passage is gone).
    window.steps.setCurrentRow(DOCUMENTS)
    docs.table.selectRow(0)
    dialog = docs.show_changes()
    assert dialog.apply() == {"carried": 0, "retired": 1}
    assert "0 pair(s) come from passages that are gone" in dialog.summary.text()
    dialog.close()
    window.steps.setCurrentRow(TRAIN)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=120_000)  # the plan is worked out in a child process
    assert "nothing to train on" in window.train.plan_label.text()  # every pair was retired or rejected
    screenshot(window, "train-collections")
