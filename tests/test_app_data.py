"""The Data step of the app: review pairs by keyboard beside their source passages."""

import pytest
from PySide6.QtCore import Qt

from kwdesk.core.store.workspace import write_transaction
from kwdesk.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, pairs_workspace, no_threads_left):
    win = MainWindow(pairs_workspace, "test model")
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


def test_the_source_passage_shows_beside_the_pair(window, db):
    page = window.data
    page.table.selectRow(1)
    assert "Engineer Maren Oskarsdottir designed" in page.source_view.toPlainText()
    # The whole pair above its passage, however long (the table shows the start of each).
    question, answer = db.execute("SELECT question, answer FROM pairs WHERE id = ?",
                                  [page.model.pair_id(1)]).fetchone()
    shown = page.pair_view.toPlainText()
    assert question in shown and answer in shown and shown.index(question) < shown.index(answer)
    assert "handbook.pdf, p. 1" in page.source_title.text() and "teacher-x" in page.source_title.text()
    # The answer's words are highlighted in the passage (formats of the text's layout).
    document = page.source_view.document()
    cursor = document.find("Oskarsdottir")
    block = cursor.block()
    marked = {block.text()[r.start:r.start + r.length]: r.format.background().color().name()
              for r in block.layout().formats()}
    assert marked.get("Oskarsdottir") == "#fff3a0", marked
    assert "the" not in {word.lower() for word in marked}  # the answer's content words only


def test_edit_in_place_and_undo_redo(window, qtbot, db):
    page = window.data
    index = page.model.index(0, 3)  # the answer of pair 1
    assert page.model.setData(index, "The Larkspur Dam is 212 metres high.")
    assert db.execute("SELECT answer, status FROM pairs WHERE id = 1").fetchone() == ("The Larkspur Dam is 212 metres high.", "edited")
    page.table.selectRow(1)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_N)
    assert db.execute("SELECT status FROM pairs WHERE id = 2").fetchone()[0] == "rejected"
    assert page.undo_button.isEnabled()
    qtbot.keyClick(page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert db.execute("SELECT status FROM pairs WHERE id = 2").fetchone()[0] == "new"
    page.undo_button.click()  # undo the edit: the old answer and status come back
    assert db.execute("SELECT answer, status FROM pairs WHERE id = 1").fetchone() == (
        "The Larkspur Dam on the Veltra River is 212 metres high.", "new")
    assert "Veltra River is 212" in page.model.index(0, 3).data()
    page.undo_stack.redo()
    assert db.execute("SELECT answer FROM pairs WHERE id = 1").fetchone()[0] == "The Larkspur Dam is 212 metres high."


def test_select_many_act_on_all_and_filter(window, qtbot, db):
    page = window.data
    page.table.selectAll()
    page.set_selected_status("accepted")
    assert [r[0] for r in db.execute("SELECT status FROM pairs")] == ["accepted"] * 3
    page.undo_stack.undo()
    assert [r[0] for r in db.execute("SELECT status FROM pairs")] == ["new"] * 3
    with write_transaction(db):
        db.execute("UPDATE pairs SET strategy = 'entities' WHERE id = 3")
    page.reload()
    page.strategy_filter.setCurrentIndex(page.strategy_filter.findData("entities"))
    assert page.model.ids == [3]
    page.strategy_filter.setCurrentIndex(0)
    page.search.setText("Oskarsdottir")
    assert page.model.ids == [2]
    page.search.setText("")
    document_id = db.execute("SELECT id FROM documents").fetchone()[0]
    page.document_filter.setCurrentIndex(page.document_filter.findData(document_id))
    assert page.model.rowCount() == 3


def test_add_a_pair_by_hand_linked_to_the_passage(window, qtbot, db, monkeypatch):
    from kwdesk.ui import data_page

    def fill_and_accept(dialog):
        dialog.question.setPlainText("What does the dam hold back?")
        dialog.answer.setPlainText("The Larkspur Dam holds back the Veltra River.")
        return data_page.QDialog.DialogCode.Accepted

    monkeypatch.setattr(data_page.AddPairDialog, "exec", fill_and_accept)
    page = window.data
    page.table.selectRow(0)
    page.add_button.click()
    row = db.execute("SELECT question, status, strategy, chunk_id FROM pairs ORDER BY id DESC LIMIT 1").fetchone()
    assert row[:3] == ("What does the dam hold back?", "accepted", "manual") and row[3] is not None
    assert page.model.rowCount() == 4
    assert "Larkspur Dam on the Veltra River" in page.source_view.toPlainText()  # the new pair, beside its passage
    page.undo_stack.undo()
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 3 and page.model.rowCount() == 3


def test_jsonl_export_and_import_from_the_page(window, qtbot, db, tmp_path):
    page = window.data
    out = tmp_path / "pairs.jsonl"
    page.export_dataset(out, "sharegpt")
    qtbot.waitUntil(lambda: not page.dataset_bar.is_busy(), timeout=30_000)
    assert "3 records written" in page.dataset_bar.message.text()
    assert len(out.read_text().splitlines()) == 3
    with write_transaction(db):
        db.execute("DELETE FROM pairs WHERE id = 3")
    page.import_dataset(out)
    qtbot.waitUntil(lambda: not page.dataset_bar.is_busy(), timeout=30_000)
    assert "1 pairs added, 2 already here" in page.dataset_bar.message.text()
    assert page.model.rowCount() == 3


def test_generate_from_the_page_with_live_counts(window, qtbot, db):
    page = window.data
    page.generate_button.setChecked(True)
    panel = page.generate_panel
    assert panel.isVisible()
    for strategy, check in panel.checks.items():
        check.setChecked(strategy == "qa")
    panel.per_chunk.setValue(1)
    counts, rows_while_running = [], []
    panel.job_bar.progressed.connect(lambda p: p.pairs is not None and counts.append(panel.counts.text()))
    # Connected after the page's own handler: the rows the table shows as each report arrives.
    panel.job_bar.progressed.connect(lambda p: p.pairs and rows_while_running.append(page.model.rowCount()))
    page.table.selectRow(1)
    reviewing = page.model.pair_id(1)
    panel.start_button.click()
    assert window.running_label.text().startswith("Generating")
    qtbot.waitUntil(lambda: not panel.job_bar.is_busy(), timeout=300_000)
    assert counts and counts[-1].startswith("Made ")
    added = db.execute("SELECT count(*) FROM pairs WHERE strategy = 'qa' AND made_by != 'teacher-x'").fetchone()[0]
    assert added > 0
    assert f"{added} pairs added" in panel.counts.text()
    assert page.model.rowCount() == 3 + added  # the table shows them without a restart
    # It filled while generation ran, and the pair under review stayed selected.
    assert rows_while_running and rows_while_running[0] > 3, rows_while_running
    assert page.model.pair_id(page.table.currentIndex().row()) == reviewing


def lightness_of(image) -> float:
    """The mean lightness of an icon's drawn (opaque) pixels."""
    from PySide6.QtGui import QColor

    values = [QColor.fromRgba(image.pixel(x, y)).lightness() for x in range(image.width())
              for y in range(image.height()) if QColor.fromRgba(image.pixel(x, y)).alpha() > 128]
    return sum(values) / max(1, len(values))


def icon_lightness(button) -> float:
    return lightness_of(button.icon().pixmap(16, 16).toImage())


def test_settings_dialog_saves_what_the_cli_reads(window, qtbot, screenshot):
    from kwdesk.core.app.settings import load_settings
    from kwdesk.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.preset.setCurrentIndex(dialog.preset.findData("learn-gently"))
    from kwdesk.core.app.settings import update_setting

    update_setting("teacher_parallel", "3")  # a setting the dialog has no field for: kept by a save
    assert dialog.quantization.currentData() == "Q8_0"  # the default: closest for a small model
    dialog.quantization.setCurrentIndex(dialog.quantization.findData("Q4_K_M"))
    assert dialog.quantization.currentText() == "Smallest file, slightly less exact"
    dialog.appearance.setCurrentIndex(dialog.appearance.findData("dark"))
    dialog.strategies["paraphrase"].setChecked(False)
    assert dialog.strategies["qa"].text() == "Questions on each passage"  # plain words, the name in the tooltip
    assert dialog.workspace.placeholderText().startswith("/")  # the folder itself
    screenshot(dialog, "settings")
    light_icon = icon_lightness(window.next_button)
    dialog.save()
    saved = load_settings()
    assert (saved.preset, saved.quantization, saved.appearance) == ("learn-gently", "Q4_K_M", "dark")
    # Dark at once, and the icons drawn again in the dark palette's light colour.
    from kwdesk.ui.theme import is_dark, marked_background

    assert is_dark() and marked_background() != "#fff3a0"
    qtbot.waitUntil(lambda: icon_lightness(window.next_button) > light_icon + 100, timeout=5000)
    step_icon = window.steps.item(0).icon().pixmap(22, 22).toImage()
    assert lightness_of(step_icon) > light_icon + 100
    # The answer's words in the passage are marked in the dark palette's colour too.
    block = window.data.source_view.document().firstBlock()
    assert {r.format.background().color().name() for r in block.layout().formats()} == {marked_background()}
    screenshot(window, "settings-dark-at-once")
    dialog.appearance.setCurrentIndex(dialog.appearance.findData("system"))
    dialog.save()  # back as the system is (light here), the icons with it
    assert not is_dark()
    qtbot.waitUntil(lambda: abs(icon_lightness(window.next_button) - light_icon) < 10, timeout=5000)
    assert saved.teacher_parallel == 3
    assert "paraphrase" not in saved.strategies
    for check in dialog.strategies.values():
        check.setChecked(False)
    dialog.save()  # nothing to generate: refused with a reason, the saved file unchanged
    assert "strategies" in dialog.error.text() and load_settings().preset == "learn-gently"


def test_hold_out_a_pair_for_evaluation_by_keyboard(window, qtbot, db):
    page = window.data
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_E)
    assert db.execute("SELECT split FROM pairs WHERE id = 1").fetchone()[0] == "eval"
    assert "held out for evaluation" in page.provenance_label.text()
    from kwdesk.core.store.pairs import pairs_for_training

    assert 1 not in [row[0] for row in pairs_for_training(db)]  # never trained
    page.undo_stack.undo()
    assert db.execute("SELECT split FROM pairs WHERE id = 1").fetchone()[0] == "train"


def test_the_coverage_view_lists_facts_not_asked_and_takes_a_question_for_one(window, qtbot, db, screenshot, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    page = window.data
    dialog = page.show_coverage()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)  # counted in a worker thread
    report = dialog.report
    # The three pairs ask for three of the handbook's facts; the others are listed first.
    assert len(report.facts) >= 6 and len(report.facts) - len(report.not_asked) == 3
    first = dialog.list.item(0).text()
    assert "not asked yet" in first and "handbook.pdf, p. " in first
    assert f"{len(report.not_asked)} not asked yet" in dialog.summary.text()
    screenshot(dialog, "data-coverage")
    fact = dialog.list.item(0).data(Qt.ItemDataRole.UserRole)
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("What does the handbook say here?", True))
    dialog.list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.counted, timeout=30_000):
        dialog.write_button.click()
    assert len(dialog.report.not_asked) == len(report.not_asked) - 1
    row = db.execute("SELECT question, answer, chunk_id, made_by FROM pairs ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("What does the handbook say here?", fact.fact, fact.chunk_id, "user")
    dialog.accept()
    qtbot.waitUntil(lambda: page.model.rowCount() == 4)


def test_rejecting_a_conflict_clears_the_button_and_the_panel_and_selection_keep_up(window, qtbot, db):
    """Issue 22's walk: the Conflicts button stayed red after both sides were rejected, the
    side panel kept "Status: new" after a verdict, and closing the dialog jumped to row 1."""
    page = window.data
    doc_id, chunk_id = db.execute("SELECT document_id, chunk_id FROM pairs WHERE id = 1").fetchone()
    with write_transaction(db):
        db["pairs"].insert({"question": "How high is the Larkspur Dam?", "answer": "The Larkspur Dam is 250 metres high.",
                            "document_id": doc_id, "chunk_id": chunk_id, "strategy": "qa"})
    page.reload()
    assert page.conflicts_button.text() == "Conflicts (1)"

    # On the last row a verdict does not move on: the panel shows the new status.
    page.table.setFocus()
    page.table.selectRow(3)
    qtbot.keyClick(page.table, Qt.Key.Key_N)
    assert "Status: rejected" in page.provenance_label.text()
    assert page.conflicts_button.text() == "Conflicts"  # settled by the rejection, at once

    page.table.selectRow(2)
    dialog = page.show_conflicts()
    dialog.close()
    qtbot.waitUntil(lambda: page.model.rowCount() == 4)
    assert page.table.currentIndex().row() == 2  # still the pair the expert was on
