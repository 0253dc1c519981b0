"""The Train, Chat and Models steps of the app, driven offscreen with the real bundled model:
train in a worker with a live loss curve, cancel and resume, export to a verified GGUF,
chat with it (streamed), the base model's answer beside it, and citations that open pages."""

import json

import pytest
from PySide6.QtCore import QUrl

from kwdesk.core.train.presets import preset
from kwdesk.ui.main_window import CHAT, DOCUMENTS, MODELS, TRAIN, MainWindow


@pytest.fixture
def window(no_threads_left, open_window, pairs_workspace):
    return open_window(pairs_workspace)


def visible_words(widget) -> str:
    """Every word a user sees on WIDGET now: labels, buttons, boxes' titles and choices, headers."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QGroupBox,
        QLabel,
        QTableWidget,
        QWidget,
    )

    words = []
    for child in widget.findChildren(QWidget):
        if not child.isVisible():
            continue
        if isinstance(child, (QLabel, QAbstractButton)):
            words.append(child.text())
        elif isinstance(child, QGroupBox):
            words.append(child.title())
        elif isinstance(child, QComboBox):
            words.extend(child.itemText(i) for i in range(child.count()))
        elif isinstance(child, QTableWidget):
            words.extend(child.horizontalHeaderItem(c).text() for c in range(child.columnCount()))
    return " | ".join(words)


def run_status(db, run_id):
    return db.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()[0]


def test_train_cancel_resume_export_and_chat_with_the_result(window, qtbot, db, screenshot, tmp_path):
    page = window.train
    window.steps.setCurrentRow(TRAIN)
    qtbot.waitUntil(lambda: "About" in page.plan_label.text(), timeout=120_000)
    # Which pairs it trains, before it starts: none reviewed yet, so all three, and the choice.
    assert page.plan_label.text().startswith("Trains all 3 pairs: none reviewed yet")
    # Plain words first: the knobs, the formats and the machinery stay under Advanced and in tooltips.
    # Each preset with about how long it takes on these pairs here.
    assert page.preset_combo.currentText().startswith(("Learn my documents (recommended) · about ",
                                                       "Learn my documents (recommended) · under 1 min"))
    assert page.preset_combo.itemText(page.preset_combo.findData("quick-try")).startswith("Quick try · ")
    assert not page.advanced.isVisible()
    shown = visible_words(page)
    for term in ("rank", "learning rate", "GGUF", "Q4_K_M", "Q8_0", "LoRA", "adapter", "tokens", "replay", "loss",
                 "quantiz", "epoch"):
        assert term.lower() not in shown.lower(), f"{term!r} on the Train page: {shown}"
    # The model file as a choice of size and exactness, with this model's sizes.
    assert page.quant_combo.currentText().startswith("Larger file, closest to the trained model (about ")
    assert page.quant_combo.currentData() == "Q8_0"
    page.advanced_button.click()
    assert page.advanced.isVisible() and "rank 16" in page.settings_label.text()
    assert "3 examples from your documents" in page.settings_label.text()
    assert "its model file takes 70% of the trained change" in page.settings_label.text()
    # How long a run may take here, under Advanced: the preset's limit until the expert sets one.
    assert page.time_limit_spin.text() == "the preset's"
    assert page.config().time_budget_s == preset("learn-documents").time_budget_s
    page.time_limit_spin.setValue(120)
    assert page.config().time_budget_s == 120 * 60
    page.time_limit_spin.setValue(0)
    # The passages of the with-sources form follow the chat until the expert sets a number,
    # which the settings then say.
    assert page.passages_spin.text() == "as the chat gives" and page.passages_spin.isEnabled()
    assert page.config().sources_passages == 0
    page.passages_spin.setValue(3)
    assert page.config().sources_passages == 3 and "its 3 passages in the prompt" in page.settings_label.text()
    qtbot.waitUntil(lambda: not page.plan_bar.is_busy() and "About" in page.plan_label.text(), timeout=120_000)
    assert "its 3 passages in the prompt" in page.settings_label.text()  # the plan as the recipe chose it
    screenshot(window, "train-advanced")
    page.passages_spin.setValue(0)
    page.preset_combo.setCurrentIndex(page.preset_combo.findData("quick-try"))
    assert not page.passages_spin.isEnabled()  # quick-try trains no with-sources form
    page.preset_combo.setCurrentIndex(page.preset_combo.findData("learn-documents"))
    qtbot.waitUntil(lambda: not page.plan_bar.is_busy() and "About" in page.plan_label.text(), timeout=120_000)
    page.advanced_button.click()
    assert [page.pairs_combo.itemText(i) for i in range(2)] == ["Approved and not yet reviewed (3)",
                                                                "Only the ones I approved (0)"]
    page.auto_export.setChecked(False)

    steps_seen = []
    page.train_bar.progressed.connect(lambda p: p.loss is not None and steps_seen.append(p.done))
    page.start_training(preset("quick-try", max_steps=8, checkpoint_every=2, learning_rate=1e-3))
    assert window.running_label.text().startswith("Training")
    qtbot.waitUntil(lambda: len(steps_seen) >= 3, timeout=180_000)
    page.train_bar.cancel()
    qtbot.waitUntil(lambda: not page.train_bar.is_busy(), timeout=60_000)
    assert "cancelled" in page.train_bar.message.text()
    (run_id,) = db.execute("SELECT id FROM runs WHERE kind = 'train'").fetchone()
    assert run_status(db, run_id) == "cancelled"
    assert page.resume_combo.currentData() == run_id and page.resume_button.isEnabled()
    stopped_at = steps_seen[-1]
    assert stopped_at < 8

    page.resume_training()
    qtbot.waitUntil(lambda: not page.train_bar.is_busy(), timeout=180_000)
    assert run_status(db, run_id) == "done", page.train_bar.message.text()
    assert steps_seen[-1] == 8 and stopped_at + 1 in steps_seen  # went on from where it stopped
    assert len(page.curve.losses) == 8  # the curve holds the whole run, before and after the stop
    # The model by its name, and what to do next.
    assert page.train_bar.message.text().startswith("Handbook, version 1 is trained (8 steps")
    assert "Make its model file" in page.train_bar.message.text()
    screenshot(window, "train-done")

    # Export the run: merge -> GGUF -> quantize -> verify, then chat with it.
    page.runs_table.selectRow(0)
    assert page.export_button.isEnabled()
    page.quant_combo.setCurrentIndex(page.quant_combo.findData("Q8_0"))
    page.strength_spin.setValue(90)  # merge 90% of the trained change, as after an evaluation showed forgetting
    page.export_button.click()
    qtbot.waitUntil(lambda: not page.export_bar.is_busy(), timeout=600_000)
    assert "Verified" in page.export_bar.message.text(), page.export_bar.message.text()
    assert page.chat_button.isVisible()
    model_id, meta = db.execute("SELECT id, meta FROM models WHERE kind = 'gguf' AND verified = 1").fetchone()
    assert json.loads(meta)["strength"] == 0.9

    window.steps.setCurrentRow(MODELS)
    # One entry for the trained model, however many files it has, named after its documents.
    library = window.library
    assert len(library.models) == 1 and model_id in library.models[0].ids
    assert library.table.item(0, 0).text().endswith(", version 1")
    assert library.select_model(model_id)
    library.details_button.click()
    kinds = {library.files.item(row, 2).text() for row in range(library.files.rowCount())}
    assert {"model file (GGUF)", "adapter (LoRA, for PEFT)"} <= kinds
    screenshot(window, "models")
    # Use elsewhere: LM Studio's folder layout and the adapter in PEFT format, as jobs.
    assert library.share_button.isEnabled()
    library.add_to_lmstudio(tmp_path / "lms")
    qtbot.waitUntil(lambda: not library.share_bar.is_busy(), timeout=60_000)
    assert "LM Studio" in library.share_bar.message.text()
    assert len(list((tmp_path / "lms" / "kwdesk").glob("*/*.gguf"))) == 1
    library.save_adapter(tmp_path / "adapter")
    qtbot.waitUntil(lambda: not library.share_bar.is_busy(), timeout=60_000)
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file(), library.share_bar.message.text()
    screenshot(window, "models-shared")

    # An evaluation of this model found it better with sources: the chat starts with them, says why.
    from kwdesk.core.store.evals import store_eval

    store_eval(db, model_id, "personal", "base", {"heldout": {"personal": {"correct": 1, "total": 4, "share": 0.25},
                                                              "personal+rag": {"correct": 3, "total": 4, "share": 0.75}}}, [])
    page.chat_button.click()
    chat = window.chat
    assert window.steps.currentRow() == CHAT
    # The new personal model is chosen, through its adapter file on the shared base (the
    # evaluation stored on its model file counts for the model).
    assert chat.selected_spec() == str(library.selected().chat_file.id)
    assert library.selected().chat_file.kind == "gguf-lora"
    assert chat.sources.isChecked() and "75% of held-out questions right with sources" in chat.sources.toolTip()
    assert "75% of held-out questions right with sources" in chat.message.text()
    # The step column's "Next:" line (five lines here) shows whole: it lost its last line.
    next_line = window.next_label
    assert "training again makes a better version" in next_line.text()
    assert next_line.height() >= next_line.heightForWidth(next_line.width()), next_line.text()
    screenshot(window, "chat-measured-mode")
    chat.sources.setChecked(False)  # the expert's to switch
    chat.input.setPlainText("How high is the Larkspur Dam?")
    chat.send()
    qtbot.waitUntil(lambda: chat.engine is not None and not chat.is_busy(), timeout=180_000)
    (answer,) = db.execute("SELECT content FROM messages WHERE role = 'assistant'").fetchone()
    assert answer and answer in chat.view.toPlainText()


def test_an_error_in_a_worker_is_a_readable_message(qtbot, workspace, no_threads_left):
    win = MainWindow(workspace, "test model")  # no pairs: nothing to train on
    qtbot.addWidget(win)
    win.show()
    win.steps.setCurrentRow(TRAIN)
    win.train.start_training(preset("quick-try", max_steps=2))
    qtbot.waitUntil(lambda: not win.train.is_busy(), timeout=120_000)
    assert "nothing to train on" in win.train.train_bar.message.text()
    assert "Cannot plan: There is nothing to train on" in win.train.plan_label.text()
    assert win.running_label.text() == "Ready"
    win.close()


def test_closing_during_training_asks_then_cancels_cleanly(window, qtbot, db, monkeypatch):
    window.steps.setCurrentRow(TRAIN)
    seen = []
    window.train.train_bar.progressed.connect(lambda p: p.loss is not None and seen.append(p.done))
    window.train.start_training(preset("quick-try", max_steps=50))
    qtbot.waitUntil(lambda: bool(seen), timeout=180_000)
    asked = []
    monkeypatch.setattr(window, "confirm_cancel_on_close", lambda: asked.append(1) or False)
    window.close()
    assert asked and window.isVisible()  # "No": the window stays and training goes on
    monkeypatch.setattr(window, "confirm_cancel_on_close", lambda: True)
    window.close()
    assert not window.isVisible() and not window.is_busy()
    assert db.execute("SELECT status FROM runs WHERE kind = 'train'").fetchone()[0] == "cancelled"


def test_chat_streams_compares_with_the_base_and_cites_pages(window, qtbot, db, screenshot):
    chat = window.chat
    window.steps.setCurrentRow(CHAT)
    tokens = []
    chat.ask_bar.progressed.connect(lambda p: p.token and tokens.append(p.target))
    chat.sources.setChecked(True)
    chat.compare.setChecked(True)
    chat.input.setPlainText("How high is the Larkspur Dam?")
    chat.send()
    qtbot.waitUntil(lambda: chat.base_engine is not None and not chat.is_busy(), timeout=180_000)
    assert tokens.count(0) > 3 and tokens.count(1) > 3  # both answers streamed, token by token
    answers = [row[0] for row in db.execute("SELECT content FROM messages WHERE role = 'assistant' ORDER BY id")]
    assert len(answers) == 2
    # Each statement is shown, followed by the passage that backs it or "not in the sources".
    from kwdesk.core.chat.claims import answer_segments

    for answer, view in zip(answers, (chat.view, chat.base_view)):
        shown = view.toPlainText()
        segments = answer_segments(answer, [])
        assert segments and all(text in shown for text, _ in segments), (answer, shown)
        if any(claim for _, claim in segments):
            assert "statements backed by the passages" in shown
    assert "[1] handbook.pdf, p. 1" in chat.view.toPlainText()
    assert chat.history.count() >= 1
    screenshot(window, "chat")

    # The citation is a link (an anchor format, not HTML) that opens the cited page.
    cursor = chat.view.document().find("[1] handbook.pdf")
    assert cursor.charFormat().isAnchor()
    href = cursor.charFormat().anchorHref()
    chat.view.anchorClicked.emit(QUrl(href))
    assert window.steps.currentRow() == DOCUMENTS
    assert window.documents.page_spin.value() == 1
    assert "Larkspur Dam" in window.documents.page_view.toPlainText()

    # Stop: a long answer cut short is kept, marked as stopped.
    window.steps.setCurrentRow(CHAT)
    chat.compare.setChecked(False)
    chat.new_conversation()
    first = []
    chat.ask_bar.progressed.connect(lambda p: p.token and not first and (first.append(1), chat.stop_button.click()))
    chat.input.setPlainText("Write a long story about a dam.")
    chat.send()
    qtbot.waitUntil(lambda: not chat.is_busy(), timeout=120_000)
    assert db.execute("SELECT stopped FROM messages ORDER BY id DESC LIMIT 1").fetchone()[0] == "cancelled"
    assert "(stopped)" in chat.view.toPlainText()


def test_model_text_is_never_rendered_as_html(window, qtbot):
    chat = window.chat
    chat.view.add_turn("assistant", "<b>bold</b> <img src=x> &amp;")
    assert "<b>bold</b> <img src=x> &amp;" in chat.view.toPlainText()
