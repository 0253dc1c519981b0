"""From a generated PDF to a verified personal GGUF that answers a trained fact, and the
verification catching broken exports."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kwdesk.core.chat.engine import ChatEngine
from kwdesk.core.data.generate import GenerateJob, GenerateOptions
from kwdesk.core.export import job as export_module
from kwdesk.core.export.job import ExportJob
from kwdesk.core.export.verify import VerificationFailed, verify_gguf
from kwdesk.core.store.models import list_models
from kwdesk.core.store.workspace import write_transaction
from kwdesk.core.train.job import TrainJob
from kwdesk.core.train.presets import preset

QUESTION = "How high is the Larkspur Dam on the Veltra River?"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, teacher):
    """PDF -> import -> generate (qa) -> a short training run, once for this module."""
    from docgen import facts_pdf

    from kwdesk.core.ingest.importer import ImportJob, ImportOptions
    from kwdesk.core.store.workspace import Workspace

    root = tmp_path_factory.mktemp("e2e")
    ws = Workspace.open(root / "ws")
    ImportJob(ws, [facts_pdf(root / "handbook.pdf")], ImportOptions(chunk_tokens=60)).run()
    made = GenerateJob(ws, teacher, GenerateOptions(strategies=("qa",))).run()
    assert made.pairs_added >= 5
    result = TrainJob(ws, preset("quick-try", max_steps=40, learning_rate=1e-3, replay_ratio=0.0)).run()
    return ws, result


@pytest.fixture(scope="module")
def exported(trained):
    """The trained run's verified Q8_0 file: the one the first test exports through the CLI,
    or made here when a test runs alone."""
    ws, run = trained
    db = ws.connect()
    try:
        made = [m for m in list_models(db) if m.kind == "gguf" and m.run_id == run.run_id and m.verified]
    finally:
        db.close()
    if not made:
        ExportJob(ws, run.run_id, "Q8_0").run()
        db = ws.connect()
        try:
            made = [m for m in list_models(db) if m.kind == "gguf" and m.run_id == run.run_id and m.verified]
        finally:
            db.close()
    return made[-1]


def kwdesk(ws, *args):
    return subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), *args],
                          capture_output=True, text=True, timeout=900)


def test_pdf_to_verified_gguf_that_answers_a_trained_fact(trained):
    ws, run = trained
    base_answer = json.loads(kwdesk(ws, "chat", "--model", "bundled", "--once", QUESTION, "--json").stdout)["answer"]
    assert "212" not in base_answer

    proc = kwdesk(ws, "export", "--quant", "Q8_0", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    exported = json.loads(proc.stdout)
    path = Path(exported["path"])
    assert path.is_file() and path.name.endswith("-Q8_0.gguf") and path.parent.parent == ws.models_dir
    assert exported["verification"]["passed"] and exported["verification"]["agreement"] >= 0.95
    assert not [p for p in ws.tmp_dir.rglob("*") if p.is_file() and p.suffix != ".lock"]  # nothing half-written left
    # Beside it, the Modelfile for `ollama create`: the file, its chat template and stop words.
    from kwdesk.core.export.ollama import parse_modelfile

    parsed = parse_modelfile(path.with_suffix(".Modelfile").read_text())
    assert parsed["FROM"] == f"./{path.name}" and "<|im_start|>assistant" in parsed["TEMPLATE"]
    assert ("stop", "<|im_end|>") in parsed["PARAMETER"]

    db = ws.connect()
    kinds = {m.kind: m for m in list_models(db)}
    assert kinds["gguf"].verified and kinds["gguf"].meta["run_id"] == run.run_id
    assert kinds["gguf"].meta["dataset_sha256"] == run.dataset_sha256
    assert kinds["gguf"].parent_model_id == kinds["merged"].id

    # The default chat model is now the newest verified personal model.
    chat = json.loads(kwdesk(ws, "chat", "--once", QUESTION, "--json").stdout)
    assert "212" in chat["answer"], chat
    assert chat["stopped"] == "stop"
    with_sources = json.loads(kwdesk(ws, "chat", "--once", QUESTION, "--sources", "--json").stdout)
    assert with_sources["sources"] and with_sources["sources"][0]["document"] == "handbook.pdf"
    assert with_sources["sources"][0]["page_start"] == 1
    # Not evaluated yet: the chat answers from what the model learned, and says so. Once an
    # evaluation of this model finds sources better, the chat starts with them.
    assert chat["mode"] == "from what it learned" and not chat["sources"]
    from kwdesk.core.store.evals import store_eval

    measured = {"heldout": {"personal": {"correct": 3, "total": 12, "share": 0.25},
                            "personal+rag": {"correct": 9, "total": 12, "share": 0.75}}}
    store_eval(db, kinds["gguf"].id, "personal", "base", measured, [])
    followed = kwdesk(ws, "chat", "--once", QUESTION)
    assert "found 75% of held-out questions right with sources and 25% without" in followed.stderr
    assert "[1] handbook.pdf" in followed.stdout
    # That summary predates a small model's one passage: the chat says the figure is old.
    assert "gave the model three passages" in followed.stderr
    store_eval(db, kinds["gguf"].id, "personal", "base", {**measured, "sources_passages": 1}, [])
    assert "three passages" not in kwdesk(ws, "chat", "--once", QUESTION).stderr
    history = db.execute("SELECT role, content FROM messages ORDER BY id").fetchall()
    assert ("user", QUESTION) in history
    # The library lists the lineage, and deleting an export removes its file.
    listed = json.loads(kwdesk(ws, "models", "--json").stdout)
    assert {m["kind"] for m in listed} >= {"base", "adapter", "merged", "gguf"}
    extra = shutil.copy(path, path.with_name("copy.gguf"))
    with write_transaction(db):
        copy_id = db["models"].insert({"kind": "gguf", "name": "copy", "path": str(extra), "verified": 1}).last_pk
    assert kwdesk(ws, "models", "delete", str(copy_id)).returncode == 0
    assert not Path(extra).exists() and copy_id not in [m.id for m in list_models(db)]


def test_model_card_lm_studio_folder_and_peft_adapter(trained, exported, tmp_path, teacher):
    """What `kwdesk export` leaves beside the GGUF, and the model handed to other tools."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kwdesk.core.models.model_files import load_llama

    ws, run = trained
    db = ws.connect()
    gguf = exported
    card = (Path(gguf.path).parent / "README.md").read_text()
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in card
    assert Path(gguf.path).name in card and "handbook.pdf" in card and "| preset | quick-try |" in card
    assert f"| steps | {run.steps} |" in card and "Not evaluated yet" in card

    # LM Studio: <models>/<publisher>/<model>/<file>.gguf, and the file answers from there.
    proc = kwdesk(ws, "publish", "lmstudio", "--dir", str(tmp_path / "lms"), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    placed = Path(json.loads(proc.stdout)["path"])
    assert placed.relative_to(tmp_path / "lms").parts == ("kwdesk", placed.parent.name, Path(gguf.path).name)
    assert (placed.parent / "README.md").is_file() and placed.stat().st_size == Path(gguf.path).stat().st_size
    llm = load_llama(placed, n_ctx=512, verbose=False)
    answer = llm.create_chat_completion([{"role": "user", "content": QUESTION}], max_tokens=32, temperature=0)
    assert "212" in answer["choices"][0]["message"]["content"]
    del llm

    # The adapter alone, in PEFT format: loads with peft on the base and computes what the
    # merged model computes.
    proc = kwdesk(ws, "publish", "adapter", "--dir", str(tmp_path / "adapter"), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    folder = Path(json.loads(proc.stdout)["path"])
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    base_folder = json.loads((run.adapter_dir.parent / "config.json").read_text())["base_folder"]
    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)["input_ids"]
    with torch.no_grad():
        served = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_folder), folder)(ids).logits
        merged_folder = [m for m in list_models(db) if m.kind == "merged"][-1].path
        merged = AutoModelForCausalLM.from_pretrained(merged_folder)(ids).logits
    assert torch.allclose(served, merged, atol=1e-3)
    assert served[0, -1].argmax() == merged[0, -1].argmax()
    # A second copy into the same folder is refused, not mixed.
    again = kwdesk(ws, "publish", "adapter", "--dir", str(folder))
    assert again.returncode == 1 and "not empty" in again.stderr

    # An evaluation updates the card beside the model with its figures.
    from kwdesk.core.evaluation.job import EvaluateJob

    result = EvaluateJob(ws, str(gguf.id), probe_limit=3, teacher=teacher).run()
    card = (Path(gguf.path).parent / "README.md").read_text()
    personal = result.heldout["personal"]
    assert "Not evaluated yet" not in card
    assert f"| personal | {personal.correct}/{personal.total} (" in card
    assert f"eval-{result.eval_id}/report.html" in card and (Path(gguf.path).parent / f"eval-{result.eval_id}" / "report.html").is_file()
    # The personal answers are the trained model's own, not the base's: they differ.
    rows = db.execute("SELECT config, question, answer FROM eval_items WHERE eval_id = ? AND item_set = 'heldout'",
                      [result.eval_id]).fetchall()
    personal_answers = {q: a for c, q, a in rows if c == "personal"}
    base_answers = {q: a for c, q, a in rows if c == "base"}
    assert personal_answers and any(personal_answers[q] != base_answers[q] for q in personal_answers)


def test_a_model_that_learned_nothing_keeps_every_general_answer(trained, teacher):
    """The evaluation compares like with like: its base is converted and quantized the way
    the personal model was, so an adapter that changes nothing forgets nothing (asked
    against the bundled Q4_1 file, such a model kept 95.5%: the file format, not training)."""
    from kwdesk.core.evaluation.job import EvaluateJob

    ws, _ = trained
    noop = TrainJob(ws, preset("quick-try", max_steps=1, learning_rate=0.0, replay_ratio=0.0)).run()
    exported = ExportJob(ws, noop.run_id, "Q8_0").run()
    result = EvaluateJob(ws, str(exported.model_id), probe_limit=20, teacher=teacher).run()
    assert "converted like the personal model" in result.base_name
    assert result.probe_base.correct >= 5
    assert result.kept.correct == result.kept.total and result.replay_kept.correct == result.replay_kept.total
    assert result.heldout["personal"].correct == result.heldout["base"].correct
    # The same under kwdesk's chat prompt and with no system prompt (as other tools ask).
    for label, scores in result.kept_by_prompt.items():
        assert scores["kept"].correct == scores["kept"].total, label
        assert scores["replay_kept"].correct == scores["replay_kept"].total, label


def test_streaming_cancel_and_history(trained, exported):
    import threading

    ws, _ = trained
    engine = ChatEngine(ws, Path(exported.path), exported.name)
    try:
        conversation = engine.new_conversation("Answer in one sentence.")
        tokens = []
        first = engine.ask(conversation, QUESTION, on_token=tokens.append)
        assert len(tokens) > 3 and "".join(tokens).strip() == first.text
        cancel = threading.Event()

        def stop_after_two(token):
            if len(seen) == 2:
                cancel.set()
            seen.append(token)

        seen = []
        second = engine.ask(conversation, "Tell me a long story about the dam.", on_token=stop_after_two, cancel=cancel)
        assert second.stopped == "cancelled" and len(seen) <= 3
        system, history = engine.history(conversation)
        assert system == "Answer in one sentence." and [m["role"] for m in history] == ["user", "assistant"] * 2
    finally:
        engine.close()


@pytest.fixture
def exported_f16(trained, tmp_path):
    ws, run = trained
    merged = tmp_path / "merged"
    export_module.merge_adapter(Path(json.loads((run.adapter_dir.parent / "config.json").read_text())["base_folder"]), run.adapter_dir, merged)
    gguf = export_module.convert_to_gguf(merged, tmp_path / "model-F16.gguf", "test")
    return merged, gguf


def test_verification_catches_a_damaged_gguf(exported_f16, tmp_path):
    merged, gguf = exported_f16
    prompts = [QUESTION, "Who designed the Larkspur Dam?", "Which city is the capital of France?"]
    assert verify_gguf(merged, gguf, prompts, "F16").passed
    damaged = tmp_path / "damaged.gguf"
    shutil.copy(gguf, damaged)
    data = bytearray(damaged.read_bytes())
    # Overwrite a stretch of weights in the middle of the file (the tensors lie after the header).
    start = len(data) // 2
    data[start : start + 8_000_000] = bytes(8_000_000)
    damaged.write_bytes(bytes(data))
    report = verify_gguf(merged, damaged, prompts, "F16")
    assert not report.passed and "agree" in " ".join(report.problems)


def test_verification_catches_a_missing_chat_template(exported_f16, tmp_path):
    merged, gguf = exported_f16
    stripped = tmp_path / "no-template.gguf"
    proc = subprocess.run(
        [sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(gguf), str(stripped), "--remove-metadata",
         "tokenizer.chat_template", "--force"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = verify_gguf(merged, stripped, [QUESTION], "F16")
    assert not report.passed and "no chat template" in report.problems[0]


def test_a_broken_export_fails_loudly_and_is_not_registered(trained, monkeypatch):
    ws, _ = trained
    real_quantize = export_module.quantize

    def damaging_quantize(src, dst, quantization):
        real_quantize(src, dst, quantization)
        data = bytearray(dst.read_bytes())
        data[len(data) // 2 : len(data) // 2 + 4_000_000] = bytes(4_000_000)
        dst.write_bytes(bytes(data))
        return dst

    monkeypatch.setattr(export_module, "quantize", damaging_quantize)
    db = ws.connect()
    before = len(list_models(db))
    with pytest.raises(VerificationFailed, match="not kept"):
        ExportJob(ws, None, "Q8_0").run()
    assert len(list_models(db)) == before
    assert not [p for p in ws.tmp_dir.rglob("*") if p.is_file() and p.suffix != ".lock"]
    assert not list(ws.models_dir.rglob("*-Q8_0.gguf.part"))


def test_a_partial_merge_lies_between_the_base_and_the_trained_model(trained, tmp_path):
    """--strength 0.5: every merged weight is the base plus half of what training changed, the
    llama.cpp adapter file carries half the scale, and the library records the strength."""
    import gguf
    from safetensors.numpy import load_file

    from kwdesk.core.export.lora_gguf import write_lora_gguf

    ws, run = trained
    base_folder = Path(json.loads((run.adapter_dir.parent / "config.json").read_text())["base_folder"])
    full = export_module.merge_adapter(base_folder, run.adapter_dir, tmp_path / "full")
    half = export_module.merge_adapter(base_folder, run.adapter_dir, tmp_path / "half", strength=0.5)
    base_w, full_w, half_w = (load_file(str(next(folder.glob("*.safetensors")))) for folder in (base_folder, full, half))
    changed = 0
    for name in base_w:
        if name.endswith(("q_proj.weight", "down_proj.weight")):
            delta = full_w[name] - base_w[name]
            assert abs(half_w[name] - base_w[name] - 0.5 * delta).max() < 1e-5, name
            changed += abs(delta).max() > 1e-4
    assert changed  # the run did change the weights, so the check above means something

    def alpha(path):
        return float(gguf.GGUFReader(str(path)).fields["adapter.lora.alpha"].parts[-1][0])

    whole = write_lora_gguf(run.adapter_dir, base_folder, tmp_path / "full.gguf", "t")
    halved = write_lora_gguf(run.adapter_dir, base_folder, tmp_path / "half.gguf", "t", strength=0.5)
    assert alpha(halved) == pytest.approx(alpha(whole) / 2)

    result = ExportJob(ws, run.run_id, "Q8_0", strength=0.5).run()
    assert result.verification.passed and "-s0.5" in result.path.name
    db = ws.connect()
    meta = json.loads(db["models"].get(result.model_id)["meta"])
    db.close()
    assert meta["strength"] == 0.5
    with pytest.raises(export_module.ExportError, match="strength"):
        ExportJob(ws, run.run_id, "Q8_0", strength=1.5)
