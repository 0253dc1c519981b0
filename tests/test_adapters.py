"""Many adapters on one base: two knowledge collections trained into two LoRA adapter files,
each applied by llama.cpp to the same base GGUF and answering its own invented fact only;
switching adapters without loading the base again."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from two_collections import CONTRACTS, MANUALS

from kwdesk.core.chat.engine import ChatEngine
from kwdesk.core.models.targets import chat_models, chat_target
from kwdesk.core.store.collections import (
    find_collection,
    list_collections,
)
from kwdesk.core.store.models import list_models
from kwdesk.core.train.job import TrainJob
from kwdesk.core.train.presets import preset


def _answer(engine: ChatEngine, question: str) -> str:
    return engine.complete(question, max_tokens=48)


def test_each_adapter_answers_its_own_fact_on_the_shared_base(two_adapters):
    ws, exports = two_adapters
    contracts, manuals = exports["contracts"].adapter, exports["maintenance manuals"].adapter
    # Both adapter files exist, passed verification, and sit on one and the same base file.
    for adapter in (contracts, manuals):
        assert "problem" not in adapter, adapter
        assert adapter["verification"]["passed"] and adapter["verification"]["agreement"] >= 0.95
        assert Path(adapter["path"]).stat().st_size < 25e6
    assert contracts["base_gguf"] == manuals["base_gguf"]

    db = ws.connect()
    target = chat_target(db, contracts["model_id"])
    base_path, lora = target.gguf, target.adapter
    assert str(base_path) == contracts["base_gguf"] and str(lora) == contracts["path"]
    # The runs know their collections; the collections count their adapters.
    assert {c.name: c.adapters for c in list_collections(db)} == {"contracts": 1, "maintenance manuals": 1}
    db.close()

    engine = ChatEngine(ws, base_path, "contracts", lora_path=lora)
    try:
        first = _answer(engine, CONTRACTS["ask"])
        assert CONTRACTS["fact"] in first, first
        assert MANUALS["fact"] not in _answer(engine, MANUALS["ask"])

        # Switch to the other adapter on the loaded base: the other fact, and not the first.
        engine.use_adapter(Path(manuals["path"]), "maintenance manuals")
        answer = _answer(engine, MANUALS["ask"])
        assert MANUALS["fact"] in answer, answer
        assert CONTRACTS["fact"] not in _answer(engine, CONTRACTS["ask"])

        # The base alone knows neither.
        engine.use_adapter(None)
        assert CONTRACTS["fact"] not in _answer(engine, CONTRACTS["ask"])
        assert MANUALS["fact"] not in _answer(engine, MANUALS["ask"])

        # And back: the first adapter answers as it did when it was loaded with the base.
        engine.use_adapter(Path(contracts["path"]))
        assert _answer(engine, CONTRACTS["ask"]) == first
    finally:
        engine.close()


def test_each_collection_trains_only_its_own_pairs(two_adapters):
    ws, exports = two_adapters
    db = ws.connect()
    try:
        for name, spec in (("contracts", CONTRACTS), ("maintenance manuals", MANUALS)):
            collection = find_collection(db, name)
            run_id = db.execute(
                "SELECT run_id FROM models WHERE id = ?", [exports[name].model_id]).fetchone()[0]
            config = json.loads(db.execute("SELECT config FROM runs WHERE id = ?", [run_id]).fetchone()[0])
            assert config["collection_id"] == collection.id
            snapshot = Path(db.execute("SELECT path FROM runs WHERE id = ?", [run_id]).fetchone()[0]) / "dataset.jsonl"
            questions = {json.loads(line)["messages"][0]["content"] for line in snapshot.read_text().splitlines()}
            assert questions == {q for q, _ in spec["pairs"]}
    finally:
        db.close()


def test_the_model_picker_and_the_cli_offer_base_plus_adapter(two_adapters):
    ws, exports = two_adapters
    db = ws.connect()
    try:
        labels = dict(chat_models(db))
        adapters = [m for m in list_models(db, "gguf-lora")]
    finally:
        db.close()
    assert len(adapters) == 2
    # One entry a model, by its collection's name: the adapter file on the shared base.
    assert len(labels) == 3
    for entry, name in zip(adapters, ("Contracts, version 1", "Maintenance manuals, version 1")):
        assert labels[str(entry.id)].startswith(name)
    manuals = exports["maintenance manuals"].adapter["model_id"]
    proc = subprocess.run(
        [sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), "chat", "--model", str(manuals), "--once",
         MANUALS["ask"], "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert MANUALS["fact"] in json.loads(proc.stdout)["answer"]


def test_the_app_switches_adapters_on_the_loaded_base_and_shows_the_saving(two_adapters, qtbot, screenshot, no_threads_left):
    from kwdesk.ui.main_window import CHAT, MODELS, MainWindow

    ws, exports = two_adapters
    win = MainWindow(ws, "test model")
    qtbot.addWidget(win)
    win.show()
    win.resize(1200, 760)
    try:
        chat = win.chat
        win.steps.setCurrentRow(CHAT)
        contracts, manuals = (exports[n].adapter["model_id"] for n in ("contracts", "maintenance manuals"))
        # The expert chooses another model while one still loads, and asks at once: the
        # question waits for the load, then goes to the model chosen last.
        chat.model_combo.setCurrentIndex(chat.model_combo.findData(str(manuals)))
        chat.ensure_loaded()
        assert chat.load_bar.is_busy()
        chat.model_combo.setCurrentIndex(chat.model_combo.findData(str(contracts)))
        chat.input.setPlainText(CONTRACTS["ask"])
        chat.send()
        qtbot.waitUntil(lambda: chat.engine is not None and not chat.is_busy(), timeout=180_000)
        engine = chat.engine
        assert CONTRACTS["fact"] in chat.view.toPlainText()

        # The other collection's adapter: the same engine (no base reload), its own answer.
        chat.model_combo.setCurrentIndex(chat.model_combo.findData(str(manuals)))
        assert chat.engine is engine and not chat.load_bar.is_busy()
        assert chat.message.text().startswith("Switched to") and "ms" in chat.message.text()
        chat.input.setPlainText(MANUALS["ask"])
        chat.send()
        qtbot.waitUntil(lambda: not chat.is_busy(), timeout=180_000)
        assert MANUALS["fact"] in chat.view.toPlainText()
        screenshot(win, "chat-adapters")

        # The library shows the adapter files and what sharing the base saves.
        win.steps.setCurrentRow(MODELS)
        win.library.refresh()
        assert "2 models share one base model file" in win.library.savings.text() and "saved" in win.library.savings.text()
        assert [m.name for m in win.library.models] == ["Maintenance manuals, version 1", "Contracts, version 1"]
        screenshot(win, "library-adapters")
    finally:
        win.close()


def test_the_next_version_can_start_from_the_previous_adapter(two_adapters):
    """A document changed: the next run goes on from the previous run's adapter (its weights
    are the starting point) or starts from scratch (LoRA's B matrices at zero)."""
    import torch
    from safetensors.torch import load_file

    from kwdesk.core.train.job import TrainingError

    ws, exports = two_adapters
    db = ws.connect()
    previous = db.execute("SELECT run_id FROM models WHERE id = ?", [exports["contracts"].model_id]).fetchone()[0]
    collection = find_collection(db, "contracts").id
    db.close()
    still = dict(max_steps=1, learning_rate=1e-12, replay_ratio=0.0, collection_id=collection)
    went_on = TrainJob(ws, preset("quick-try", init_adapter_run=previous, **still)).run()
    fresh = TrainJob(ws, preset("quick-try", **still)).run()
    old = load_file(str(ws.runs_dir / f"train-{previous}" / "adapter" / "adapter_model.safetensors"))
    new = load_file(str(went_on.adapter_dir / "adapter_model.safetensors"))
    scratch = load_file(str(fresh.adapter_dir / "adapter_model.safetensors"))
    b_keys = [k for k in old if "lora_B" in k]
    assert b_keys and all(torch.allclose(old[k], new[k], atol=1e-6) for k in old)
    assert all(float(scratch[k].abs().max()) < 1e-6 for k in b_keys)
    assert any(float(old[k].abs().max()) > 1e-4 for k in b_keys)
    with pytest.raises(TrainingError, match="not a finished training run"):
        TrainJob(ws, preset("quick-try", init_adapter_run=9999, **still)).run()
