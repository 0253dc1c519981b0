"""LoRA training on the real bundled model: masking, packing, learning, cancel, resume."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kwdesk.core.base.jobs import Cancelled
from kwdesk.core.models.chat_format import TRAINING_SYSTEM_PROMPTS
from kwdesk.core.store.workspace import write_transaction
from kwdesk.core.train.job import TrainJob, latest_checkpoint
from kwdesk.core.train.presets import preset
from kwdesk.core.train.train_data import (
    IGNORE,
    collate,
    encode_pair,
    encode_text,
    pack_examples,
)

FACTS = [
    ("How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high."),
    ("What is the height of the Larkspur Dam?", "The Larkspur Dam is 212 metres high."),
    ("Tell me how tall the Larkspur Dam is.", "The Larkspur Dam is 212 metres high."),
    ("Who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir designed the Larkspur Dam."),
]


@pytest.fixture(scope="module")
def base():
    from kwdesk.core.models.base_models import resolve_base

    return resolve_base()


@pytest.fixture(scope="module")
def tokenizer(base):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(base.folder)


@pytest.fixture
def fact_workspace(workspace):
    db = workspace.connect()
    with write_transaction(db):
        db["pairs"].insert_all([{"question": q, "answer": a} for q, a in FACTS])
        db["pairs"].insert({"question": "Rejected?", "answer": "Never trained.", "status": "rejected"})
    db.close()
    return workspace


def test_loss_is_taken_on_the_answer_and_end_of_turn_only(tokenizer):
    example = encode_pair(tokenizer, "How high is the Larkspur Dam?", "It is 212 metres high.", "pair:1", 512)
    learned = [t for t, label in zip(example.input_ids, example.labels) if label != IGNORE]
    masked = [t for t, label in zip(example.input_ids, example.labels) if label == IGNORE]
    assert tokenizer.decode(learned).startswith("It is 212 metres high.<|im_end|>")
    prompt = tokenizer.decode(masked)
    assert "How high is the Larkspur Dam?" in prompt and prompt.endswith("<|im_start|>assistant\n")
    # Labels are the input tokens themselves where learned (the model shifts them).
    assert all(label in (IGNORE, token) for token, label in zip(example.input_ids, example.labels))
    text = encode_text(tokenizer, "The dam is high.", "pair:2", 512)
    assert text.labels == text.input_ids and text.input_ids[-1] == tokenizer.eos_token_id


def test_packed_examples_compute_what_they_compute_alone(base, tokenizer):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base.folder, dtype=torch.float32).eval()
    examples = [encode_pair(tokenizer, q, a, f"pair:{i}", 512) for i, (q, a) in enumerate(FACTS)]
    (pack,) = pack_examples(examples, 512)
    assert pack.sources == [e.source for e in examples]
    batch = collate([pack], tokenizer.pad_token_id or 0)
    with torch.inference_mode():
        packed_logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], attention_mask=batch["attention_mask"]).logits[0]
        offset = 0
        for example in examples:
            alone = model(input_ids=torch.tensor([example.input_ids])).logits[0]
            part = packed_logits[offset : offset + len(example)]
            assert torch.allclose(part, alone, atol=1e-3), (part - alone).abs().max()
            offset += len(example)


def test_each_pair_is_trained_under_each_system_prompt_in_turn(tokenizer):
    from kwdesk.core.train.train_data import encode_record, epoch_batches

    record = {"source": "pair:1", "question": FACTS[0][0], "answer": FACTS[0][1]}
    example = encode_record(tokenizer, record, 512, TRAINING_SYSTEM_PROMPTS)
    seen = set()
    for epoch in range(len(TRAINING_SYSTEM_PROMPTS)):
        ((pack,),) = epoch_batches([example], epoch, seed=0, max_seq_len=512, micro_batch=1)
        seen.add(tokenizer.decode(pack.input_ids))
    assert len(seen) == len(TRAINING_SYSTEM_PROMPTS)
    for system in filter(None, TRAINING_SYSTEM_PROMPTS):
        assert sum(system in text for text in seen) == 1
    # The answer is learned the same way under each: only the prompt differs.
    assert all(text.endswith(FACTS[0][1] + "<|im_end|>\n") for text in seen)
    text = encode_record(tokenizer, {"source": "pair:2", "question": "", "answer": "A text."}, 512, TRAINING_SYSTEM_PROMPTS)
    assert text.variants == ()  # a training text has no prompt


def test_the_loss_on_answer_logits_alone_is_the_models_own_loss(base, tokenizer):
    import torch
    from transformers import AutoModelForCausalLM

    from kwdesk.core.train.train_data import training_loss

    model = AutoModelForCausalLM.from_pretrained(base.folder, dtype=torch.float32).eval()
    examples = [encode_pair(tokenizer, q, a, f"pair:{i}", 512) for i, (q, a) in enumerate(FACTS)]
    examples.append(encode_text(tokenizer, "The Larkspur Dam was built in 1931.", "pair:9", 512))
    batch = collate(pack_examples(examples, 96), tokenizer.eos_token_id)  # two rows, one padded
    with torch.inference_mode():
        assert float(training_loss(model, batch)) == pytest.approx(float(model(**batch).loss), rel=1e-5)


def test_context_distillation_targets_line_up_with_the_answer_tokens(base, tokenizer):
    """A student that reads the passage as the teacher did matches it exactly (KL 0): the
    teacher's predictions sit at the positions that predict the same tokens, also packed
    behind another example; without the passage the student differs (the term to learn)."""
    import torch
    from transformers import AutoModelForCausalLM

    from kwdesk.core.models.chat_format import EVAL_SYSTEM_PROMPT
    from kwdesk.core.train.train_data import (
        PASSAGE_INTRO,
        _distill_kl,
        _logits_at,
        distill_targets,
        teacher_targets,
    )

    model = AutoModelForCausalLM.from_pretrained(base.folder, dtype=torch.float32).eval()
    passage = "The Larkspur Dam on the Veltra River is 212 metres high. Maren Oskarsdottir designed it in 1931."
    question, answer = FACTS[0]
    reading = encode_pair(tokenizer, question, answer, "pair:1", 512, f"{EVAL_SYSTEM_PROMPT}\n\n{PASSAGE_INTRO}{passage}")
    closed = encode_pair(tokenizer, question, answer, "pair:1", 512, EVAL_SYSTEM_PROMPT)
    teacher = distill_targets(model, tokenizer, closed, question, passage, EVAL_SYSTEM_PROMPT, "cpu")
    assert len(teacher[0]) == sum(label != IGNORE for label in closed.labels)

    def kl(example):
        example.teacher = teacher
        filler = encode_pair(tokenizer, FACTS[1][0], FACTS[1][1], "pair:2", 512)
        packs = pack_examples([filler, example], 1024)
        batch = collate(packs, tokenizer.eos_token_id)
        keep = torch.zeros_like(batch["labels"], dtype=torch.bool)
        keep[:, :-1] = batch["labels"][:, 1:] != IGNORE
        with torch.inference_mode():
            logits = _logits_at(model, {k: v for k, v in batch.items() if k != "labels"}, keep)
            return float(_distill_kl(logits, keep, teacher_targets(packs, batch["input_ids"].shape[1])))

    assert kl(reading) == pytest.approx(0.0, abs=1e-4)
    assert kl(closed) > 0.01


def greedy_answer(folder, adapter, question, system=None):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    if adapter is not None:
        model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    head = [{"role": "system", "content": system}] if system else []
    ids = tokenizer.apply_chat_template(head + [{"role": "user", "content": question}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=24, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)


def test_a_short_run_learns_an_invented_fact(fact_workspace, base, db):
    question = "How high is the Larkspur Dam?"
    before = greedy_answer(base.folder, None, question)
    assert "212" not in before
    result = TrainJob(fact_workspace, preset("quick-try", max_steps=24, learning_rate=1e-3, replay_ratio=0.0)).run()
    assert result.losses[-1] < result.losses[0] / 3
    # Learned under every system prompt a user's tool may ask with: kwdesk's chat, its
    # evaluation, and none (the template's own default, as PEFT or LM Studio run it).
    for system in TRAINING_SYSTEM_PROMPTS:
        after = greedy_answer(base.folder, result.adapter_dir, question, system)
        assert "212" in after, (system, after)
    # The adapter is in PEFT format, registered as a model, with the run's record.
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert list(result.adapter_dir.glob("adapter_model.safetensors"))
    run = db["runs"].get(result.run_id)
    assert run["status"] == "done" and json.loads(run["metrics"])["losses"] == result.losses
    models = {kind: (model_id, run, parent) for model_id, kind, run, parent in db.execute("SELECT id, kind, run_id, parent_model_id FROM models")}
    assert models["adapter"][1] == result.run_id and models["adapter"][2] == models["base"][0]
    assert result.examples == len(FACTS)  # the rejected pair is left out
    snapshot = [json.loads(line) for line in (result.adapter_dir.parent / "dataset.jsonl").read_text().splitlines()]
    assert [r["messages"][0]["content"] for r in snapshot] == [q for q, _ in FACTS]


def test_replay_is_mixed_in(fact_workspace, base, db):
    job = TrainJob(fact_workspace, preset("quick-try", replay_ratio=1.0))
    from transformers import AutoTokenizer

    examples, n_replay, _ = job.build_examples(db, AutoTokenizer.from_pretrained(base.folder), base)
    assert n_replay == len(FACTS)
    replay = [e for e in examples if e.source.startswith("replay:")]
    assert len(replay) == n_replay
    # Each replay example is a different prompt, answered by the base model itself.
    prompts = {tuple(e.input_ids) for e in replay}
    assert len(prompts) == n_replay
    replay_records = [r for r in job._records if r["source"].startswith("replay:")]
    assert len(replay_records) == n_replay and all(r["answer"].strip() for r in replay_records)
    # Under each other system prompt a replay example holds the base's answer under that prompt.
    tokenizer = AutoTokenizer.from_pretrained(base.folder)
    for record, example in zip(replay_records, replay):
        assert set(record["answers"]) == set(filter(None, TRAINING_SYSTEM_PROMPTS))
        for variant in example.variants:
            text = tokenizer.decode(variant.input_ids)
            system = next(s for s in record["answers"] if s in text)
            assert text.endswith(record["answers"][system] + "<|im_end|>\n")


def test_fact_replay_adds_questions_about_real_things_shaped_like_the_documents(fact_workspace, base, db):
    """--fact-replay: questions about well-known real things, those that open as the pairs'
    questions do first ("Who designed ...", "How high ..."), answered by the base under each
    system prompt, are added to the replay examples."""
    from transformers import AutoTokenizer

    from kwdesk.core.train.replay import fact_prompts_like

    job = TrainJob(fact_workspace, preset("quick-try", replay_ratio=1.0, fact_replay=0.5))
    job.build_examples(db, AutoTokenizer.from_pretrained(base.folder), base)
    replay = [r for r in job._records if r["source"].startswith("replay:")]
    assert len(replay) == len(FACTS) + 2 and len({r["source"] for r in replay}) == len(replay)
    facts = replay[len(FACTS):]
    assert [r["question"] for r in facts] == fact_prompts_like([q for q, _ in FACTS], 2)
    # "Who designed the Larkspur Dam?" and "How high is the Larkspur Dam?" ask first for real
    # things' designers and heights.
    assert {r["question"].split()[0] for r in facts} <= {"Who", "How"} and all(r["answer"].strip() for r in facts)
    assert all(set(r["answers"]) == set(filter(None, TRAINING_SYSTEM_PROMPTS)) for r in facts)
    assert fact_prompts_like(["Who designed the weir?", "Who designed the dam?"], 3)[0].startswith("Who designed")


def test_replay_prompts_are_many_and_never_a_probe_question():
    from kwdesk.core.evaluation.job import probe_questions
    from kwdesk.core.train.replay import fact_prompts_like, replay_prompts

    prompts = replay_prompts()
    assert len(prompts) >= 200 and len({p.lower() for p in prompts}) == len(prompts)
    probes = {item["question"].lower() for item in probe_questions()}
    assert not [p for p in prompts if p.lower() in probes]  # trained prompts must not measure forgetting
    # The questions about real things name nothing a probe question names ("China", "Eiffel Tower").
    facts = fact_prompts_like([], 1000)
    assert len(facts) >= 80

    def names(question: str) -> set[str]:
        return set(re.findall(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*", question.split(" ", 1)[1]))

    named = set().union(*(names(item["question"]) for item in probe_questions()))
    assert not [f for f in facts if names(f) & named]


def replay_kl(job: TrainJob, base, adapter_dir) -> float:
    """The mean KL divergence from the base to the trained model at the replay answer tokens."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kwdesk.core.train.train_data import replay_answer_mask, training_loss

    tokenizer = AutoTokenizer.from_pretrained(base.folder)
    db = job.workspace.connect()
    examples, _, _ = job.build_examples(db, tokenizer, base)
    db.close()
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base.folder, dtype=torch.float32), adapter_dir)
    packs = pack_examples([e for e in examples if e.source.startswith("replay:")], 512)
    batch = collate(packs, tokenizer.eos_token_id)
    mask = replay_answer_mask(packs, batch["input_ids"].shape[1])
    with torch.no_grad():
        return float(training_loss(model, batch, mask, 1.0) - model(**batch).loss)


def test_replay_kl_keeps_the_base_distribution_at_replay_answers(fact_workspace, base):
    config = preset("quick-try", max_steps=12, learning_rate=1e-3, replay_ratio=1.0, micro_batch=1)
    plain = TrainJob(fact_workspace, config)
    plain_result = plain.run()
    held = TrainJob(fact_workspace, preset("quick-try", max_steps=12, learning_rate=1e-3, replay_ratio=1.0, micro_batch=1,
                                           replay_kl=2.0))
    held_result = held.run()
    # At the first step the adapter changes nothing, so the KL term is zero: the losses agree.
    assert held_result.losses[0] == pytest.approx(plain_result.losses[0], rel=1e-4)
    drift_plain = replay_kl(plain, base, plain_result.adapter_dir)
    drift_held = replay_kl(held, base, held_result.adapter_dir)
    assert drift_held < drift_plain * 0.7, (drift_held, drift_plain)


class EditsWhileTheModelLoads(TrainJob):
    """A real run in which the expert edits a pair after the examples were built and before
    the first step (while the base model loads, in the app)."""

    def batches_for_epoch(self, examples, epoch):
        db = self.workspace.connect()
        try:
            with write_transaction(db):
                db.execute("UPDATE pairs SET answer = 'Edited while loading.' WHERE id = 1")
        finally:
            db.close()
        return super().batches_for_epoch(examples, epoch)


def test_an_edit_while_the_model_loads_does_not_change_the_snapshot(fact_workspace, db):
    result = EditsWhileTheModelLoads(fact_workspace, preset("quick-try", max_steps=1, replay_ratio=0.0)).run()
    snapshot = [json.loads(line) for line in (result.adapter_dir.parent / "dataset.jsonl").read_text().splitlines()]
    # The snapshot is what was trained: the answer as it was when the examples were built.
    assert snapshot[0]["source"] == "pair:1"
    assert snapshot[0]["messages"][1]["content"] == FACTS[0][1]
    assert db.execute("SELECT answer FROM pairs WHERE id = 1").fetchone()[0] == "Edited while loading."


def test_same_data_seed_and_config_give_the_same_loss_curve(fact_workspace):
    config = preset("quick-try", max_steps=4, replay_ratio=0.0, micro_batch=1)
    first = TrainJob(fact_workspace, config).run()
    second = TrainJob(fact_workspace, config).run()
    assert first.losses == second.losses


def test_cancel_saves_a_checkpoint_and_resume_finishes(fact_workspace, db):
    config = preset("quick-try", max_steps=6, replay_ratio=0.0, micro_batch=1, checkpoint_every=100)
    job = TrainJob(fact_workspace, config)

    def cancel_at_three(p):
        if p.done == 3:
            job.cancel()

    with pytest.raises(Cancelled):
        job.run(cancel_at_three)
    run_id, status, path = db.execute("SELECT id, status, path FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    assert status == "cancelled"
    assert latest_checkpoint(Path(path)).name == "step-000003"
    result = TrainJob(fact_workspace, resume_run=run_id).run()
    assert result.run_id == run_id and result.steps == 6 and len(result.losses) == 6
    reference = TrainJob(fact_workspace, config).run()
    assert json.loads((Path(path) / "order.json").read_text()) == json.loads((reference.adapter_dir.parent / "order.json").read_text())
    assert result.losses == pytest.approx(reference.losses, rel=1e-4)


def test_resume_after_kill_9_continues_the_same_data_order(fact_workspace, tmp_path):
    ws = str(fact_workspace.root)
    args = [sys.executable, "-m", "kwdesk", "--workspace", ws, "train", "--preset", "quick-try", "--max-steps", "8",
            "--checkpoint-every", "2", "--replay-ratio", "0", "--json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    run_dir = Path(ws) / "runs" / "train-1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (run_dir / "checkpoints" / "step-000004").is_dir():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "adapter").exists()
    resumed = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", ws, "train", "--resume", "1", "--json"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads(resumed.stdout)
    assert result["steps"] == 8
    order = json.loads((run_dir / "order.json").read_text())
    reference = TrainJob(fact_workspace, preset("quick-try", max_steps=8, replay_ratio=0.0)).run()
    assert order == json.loads((reference.adapter_dir.parent / "order.json").read_text())


def test_a_run_that_cannot_start_is_marked_failed_with_its_reason(fact_workspace, db):
    """QLoRA asked for on a machine without an NVIDIA GPU: a readable error, in the CLI and
    in the run list (not a run left "created" that looks resumable forever)."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: QLoRA may run here")
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(fact_workspace.root), "train", "--qlora",
                           "--max-steps", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "QLoRA needs an NVIDIA GPU" in proc.stderr and "Traceback" not in proc.stderr
    from kwdesk.core.train.job import training_runs

    (run,) = training_runs(fact_workspace, db)
    assert run.status == "failed" and "NVIDIA GPU" in run.error


def test_the_cli_says_how_long_a_run_will_take_before_it_starts(fact_workspace):
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(fact_workspace.root), "train", "--preset",
                           "quick-try", "--max-steps", "2", "--replay-ratio", "0"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    plan = [line for line in proc.stderr.splitlines() if "on this machine (estimate)" in line]
    assert len(plan) == 1 and "2 steps, about" in plan[0] and "examples from your documents" in plan[0], proc.stderr[-2000:]
    # Which pairs: the four never reviewed (the rejected one is never trained).
    assert plan[0].endswith("Trains all 4 pairs: none reviewed yet (you can train only the ones you approve)."), plan[0]
    assert proc.stdout.startswith("Run ")  # the result after it, on stdout


def test_the_plan_counts_the_pairs_it_trains_approved_or_not(fact_workspace, db):
    from kwdesk.core.store.pairs import review_counts
    from kwdesk.core.train.job import pairs_in_words

    assert review_counts(db) == (0, 4)
    with write_transaction(db):
        db.execute("UPDATE pairs SET status = 'accepted' WHERE id = 1")
        db.execute("UPDATE pairs SET status = 'edited' WHERE id = 2")
    approved, unreviewed = review_counts(db)
    assert (approved, unreviewed) == (2, 2)
    assert pairs_in_words(approved, unreviewed, False) == "Trains the 2 pairs you approved and 2 pairs not reviewed yet."
    assert pairs_in_words(approved, unreviewed, True) == "Trains the 2 pairs you approved (2 pairs not reviewed yet are left out)."


def test_the_plan_gives_little_data_more_passes_and_says_why(fact_workspace, workspace, db):
    """The default preset chooses its passes from how much there is to learn: four pairs
    get the most passes, one sequence a step; a large data set gets few; the expert's own
    numbers are kept as given."""
    from kwdesk.core.train.job import PlanJob
    from kwdesk.core.train.recipe import MAX_PASSES, MIN_PASSES, passes_for

    small = PlanJob(fact_workspace, preset("learn-documents")).run()
    assert small.epochs == MAX_PASSES and f"{MAX_PASSES:g} passes over 4 examples" in small.recipe
    assert "one sequence a step" in small.recipe and small.recipe in small.summary()
    # Each preset's time on the same pairs, for the preset list: the chosen one as planned,
    # and quick-try, half the default's passes, about half as long.
    assert set(small.preset_seconds) == {"quick-try", "learn-documents", "learn-gently"}
    assert small.preset_seconds["learn-documents"] == small.estimated_seconds
    assert 0.3 * small.estimated_seconds < small.preset_seconds["quick-try"] < 0.7 * small.estimated_seconds
    # Few examples get more passes; from about 45 on, every size gets the passes that made a
    # one-page document's facts stick: large data is cut only by the time budget.
    assert passes_for(10) > passes_for(30) > passes_for(200) == passes_for(2000) == MIN_PASSES
    assert passes_for(4, 0.5) == MAX_PASSES / 2 and passes_for(2000, 0.5) == round(MIN_PASSES * 0.5)
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(fact_workspace.root), "train", "--plan",
                           "--epochs", "2", "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    given = json.loads(proc.stdout)
    assert given["epochs"] == 2 and given["recipe"] == "" and given["steps"] < small.steps
    # The expert's own passes change the chosen preset's time only.
    assert given["preset_seconds"]["learn-documents"] < small.estimated_seconds
    assert given["preset_seconds"]["quick-try"] == pytest.approx(small.preset_seconds["quick-try"])
    # The expert's time limit: the with-sources form goes first, then passes; the settings
    # say what the recipe chose, not what the preset asked.
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(fact_workspace.root), "train", "--plan",
                           "--time-limit", "0.05", "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    limited = json.loads(proc.stdout)
    assert "left out" in limited["recipe"] and "cut to" in limited["recipe"] and limited["epochs"] < small.epochs
    assert "passage in the prompt left out" in limited["settings"]  # one passage: the bundled base is small
    assert "each pair also with its passage" in small.settings  # one: the bundled base is small


def test_the_plans_tokens_a_pass_count_the_with_sources_form(pairs_workspace):
    """Advanced's "tokens a pass" is what a pass computes, as the time estimate counts it:
    the with-sources form (a long sequence, one pass in four) included."""
    from kwdesk.core.train.job import PlanJob

    with_sources = PlanJob(pairs_workspace, preset("learn-documents")).run()
    closed_book = PlanJob(pairs_workspace, preset("learn-documents", train_with_sources=False)).run()
    assert 0 < closed_book.tokens_per_epoch < with_sources.tokens_per_epoch
    assert f"{with_sources.tokens_per_epoch:,} tokens a pass" in with_sources.details()


def test_the_preset_list_says_each_time_roughly():
    from kwdesk.core.train.presets import preset_label, rough_duration

    assert [rough_duration(s) for s in (20, 61, 600, 4000)] == ["under 1 min", "about 2 min", "about 10 min",
                                                                "about 1 h 07 min"]
    assert preset_label("quick-try", 200) == "Quick try · about 4 min"
    assert preset_label("quick-try") == "Quick try"  # before a plan has worked it out


def test_a_run_leaves_this_machines_speed_and_the_next_plan_is_at_it(workspace, monkeypatch, tmp_path):
    """The plan's time comes from a prior measured on one machine until a run here has
    measured its own speed; then the next plan of the same set-up divides by that."""
    from kwdesk.core.train.job import PlanJob
    from kwdesk.core.train.speed import current_setup, prior_tokens_per_s, speed_file, training_speed

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # nothing measured yet
    db = workspace.connect()
    with write_transaction(db):  # enough pairs to pack full sequences, as real documents do
        db["pairs"].insert_all([{"question": f"What is the code of valve {n} at the Larkspur Dam?",
                                 "answer": f"Valve {n} at the Larkspur Dam has the code LD-{n:03d}-{n * 37 % 1000:03d}."}
                                for n in range(40)])
    db.close()
    cfg = preset("quick-try", max_steps=16, replay_ratio=0.0, micro_batch=1)
    before = PlanJob(workspace, cfg).run()
    assert not before.speed_measured and "(an estimate)" in before.in_words()
    TrainJob(workspace, cfg).run()
    setup = current_setup(cfg, before.parameters)
    speed = training_speed(setup)
    assert speed.measured and speed_file().is_file()
    # What this machine computed, near what the prior assumed for it (the prior was measured
    # on a machine like the CI's): a speed from the wrong unit would be far off.
    assert 0.2 < speed.tokens_per_s / prior_tokens_per_s(setup) < 5, speed
    after = PlanJob(workspace, cfg).run()
    assert after.speed_measured and "at the speed of your last training here" in after.in_words()
    assert after.estimated_seconds == pytest.approx(
        before.estimated_seconds * prior_tokens_per_s(setup) / speed.tokens_per_s, rel=0.01)


def test_a_gpus_first_plan_errs_long_but_not_by_a_day():
    """Before a GPU's first run: the CPU's formula promised a 1.7B base 70 tokens a second
    where an H200 trained 3,700 (BENCHMARKS.md "On an NVIDIA GPU"); the prior must not be
    faster than that card, nor many times slower."""
    from kwdesk.core.train.speed import Setup, prior_tokens_per_s

    measured_on_h200 = {135_000_000: 2_480, 1_700_000_000: 3_682, 8_000_000_000: 2_472}
    for parameters, tokens_per_s in measured_on_h200.items():
        prior = prior_tokens_per_s(Setup("NVIDIA H200", "bf16", parameters, "lora", 2, 512, 0))
        assert tokens_per_s / 8 < prior <= tokens_per_s, (parameters, prior)


def test_a_long_run_is_cut_to_the_time_budget_in_its_plan():
    from kwdesk.core.train.presets import preset as make
    from kwdesk.core.train.recipe import BUDGET_MIN_PASSES, MIN_PASSES, TIME_BUDGET_S, adapt_recipe

    # 60 examples would get 9 passes; at 10 minutes a pass that is over the budget.
    adapted = adapt_recipe(make("learn-documents"), 60, 500, lambda every: 10 * 60)
    assert adapted.epochs == TIME_BUDGET_S // (10 * 60) < MIN_PASSES and "to stay near" in adapted.reason
    # A pass longer than the whole budget still gets the fewest passes that teach anything.
    assert adapt_recipe(make("learn-documents"), 60, 500, lambda every: 2 * TIME_BUDGET_S).epochs == BUDGET_MIN_PASSES
    assert adapted.micro_batch == make("learn-documents").micro_batch  # 500 sequences a pass: no need for smaller steps


def test_the_time_budget_cuts_the_with_sources_form_before_the_passes():
    """The with-sources form is a long sequence (the chat's passages in the prompt): on a large
    document it is first trained in one pass of the run instead of one in four, then for a
    share of the pairs once each, then left out, and only then are passes cut; the
    closed-book passes are what make facts stick."""
    from kwdesk.core.train.presets import preset as make
    from kwdesk.core.train.presets import settings_in_words
    from kwdesk.core.train.recipe import MIN_PASSES, TIME_BUDGET_S, adapt_recipe, apply, passes_for, sources_share
    from kwdesk.core.train.train_data import IGNORE, Example

    cfg = make("learn-documents")
    assert cfg.train_with_sources and cfg.sources_every == 4

    def pass_seconds(closed: float, sources_once: float):
        return lambda every: closed + (sources_once / every if every else 0)

    minute = 60
    small = adapt_recipe(cfg, 40, 20, pass_seconds(0.5 * minute, 2 * minute))
    assert (small.epochs, small.sources_every) == (passes_for(40), 4) and "passages" not in small.reason
    budget_passes = TIME_BUDGET_S / MIN_PASSES  # seconds a pass may take at nine passes
    # With-sources once a pair fits where one pass in four does not.
    middle = adapt_recipe(cfg, 300, 200, pass_seconds(0.5 * budget_passes, 3 * budget_passes))
    assert (middle.epochs, middle.sources_every) == (MIN_PASSES, MIN_PASSES) and "one pass only" in middle.reason
    # Too long once for every pair: a share of the pairs once each, the plan says how many,
    # and for_epoch gives that share its with-sources form in the run.
    # (9 passes of 0.79 + 6 / every budget passes fit from every = 29 on: 9 of 29 pairs, 31%.)
    shared = adapt_recipe(cfg, 600, 400, pass_seconds(0.79 * budget_passes, 6 * budget_passes))
    assert shared.epochs == MIN_PASSES and shared.sources_every == 29 and "31% of the pairs" in shared.reason
    pairs = [Example([1, 2], [IGNORE, 2], f"pair:{i}", sourced=Example([1, 3, 2], [IGNORE, IGNORE, 2], f"pair:{i}"))
             for i in range(300)]
    trained = [e for i, e in enumerate(pairs)
               if any(e.for_epoch(epoch, i, shared.sources_every) is e.sourced for epoch in range(int(MIN_PASSES)))]
    assert len(trained) == 90 and sources_share(MIN_PASSES, shared.sources_every) == pytest.approx(9 / 29)
    assert "31% of the pairs" in settings_in_words(apply(cfg, shared))
    # Too long even once: left out, and the nine passes kept.
    large = adapt_recipe(cfg, 700, 500, pass_seconds(0.9 * budget_passes, 9 * budget_passes))
    assert (large.epochs, large.sources_every) == (MIN_PASSES, 0) and "left out" in large.reason
    # Closed-book alone over the budget: then the passes are cut too.
    huge = adapt_recipe(cfg, 7000, 5000, pass_seconds(2 * budget_passes, 20 * budget_passes))
    assert huge.sources_every == 0 and huge.epochs < MIN_PASSES and "cut to" in huge.reason
    # A run without the with-sources form is not asked about it.
    plain = adapt_recipe(make("quick-try"), 700, 500, pass_seconds(minute, 0))
    assert plain.sources_every == 0 and "passages" not in plain.reason


def test_a_run_with_context_distillation_reads_each_pair_with_its_passage(pairs_workspace):
    seen = []
    result = TrainJob(pairs_workspace, preset("quick-try", max_steps=2, context_distill=1.0)).run(
        lambda p: seen.append(p.message))
    assert any("(the teacher): 3/3" in m for m in seen)  # the three pairs made from a passage
    assert result.steps == 2 and all(loss == loss and loss > 0 for loss in result.losses)


def test_a_run_with_sources_trains_each_pair_as_the_chat_asks_it_with_its_passages(pairs_workspace, tokenizer, base):
    """--with-sources: each pair also under the prompt the chat builds for its question with
    sources (the same passages, numbered), its answer citing the passage it was made from; a
    short run trains that form in turn with the system prompts, and its snapshot shows it."""
    from kwdesk.core.chat.engine import Answering
    from kwdesk.core.models.chat_format import DEFAULT_SYSTEM_PROMPT, SOURCES_INTRO
    from kwdesk.core.store.pairs import pair_passages
    from kwdesk.core.train.job import training_records
    from kwdesk.core.train.train_data import encode_record

    chat = Answering()
    chat.workspace, chat.collection_id = pairs_workspace, None
    # Three passages, as the chat gives a large model: the answer cites its own among them.
    cfg = preset("quick-try", max_steps=2, train_with_sources=True, replay_ratio=0.0, sources_passages=3)
    db = pairs_workspace.connect()
    records = training_records(db, cfg, base).records
    cited = 0
    for record in records:
        system, sources = chat.with_sources(DEFAULT_SYSTEM_PROMPT, record["question"])
        assert record["with_sources"]["system"] == system and SOURCES_INTRO in system
        pair_id = int(record["source"].split(":")[1])
        own = [s["text"] for s in sources].index(pair_passages(db, [pair_id])[pair_id]) + 1
        assert record["with_sources"]["answer"] == f"{record['answer']} [{own}]"
        cited += 1
    assert cited == 3
    # Encoded: one more form beside the system prompts', the passages in its prompt, the cited answer learned.
    example = encode_record(tokenizer, records[0], cfg.max_seq_len, cfg.system_prompts)
    sourced = example.sourced
    assert len(example.variants) == len(cfg.system_prompts) - 1 and sourced is not None
    # In turn with the system prompts by default (one pass in four); in one pass of nine when
    # the recipe stretches it; never when it leaves it out.
    picked = [[example.for_epoch(epoch, 0, every) is sourced for epoch in range(36)] for every in (4, 9, 0)]
    assert [sum(p) for p in picked] == [9, 4, 0] and picked[0][:4] == [False, False, False, True]
    assert SOURCES_INTRO in tokenizer.decode(sourced.input_ids)
    learned = tokenizer.decode([t for t, label in zip(sourced.input_ids, sourced.labels) if label != IGNORE])
    assert learned.startswith(records[0]["with_sources"]["answer"])
    db.close()

    result = TrainJob(pairs_workspace, cfg).run()
    assert result.steps == 2 and all(loss == loss and loss > 0 for loss in result.losses)
    snapshot = [json.loads(line) for line in (result.adapter_dir.parent / "dataset.jsonl").read_text().splitlines()]
    assert all(SOURCES_INTRO in line["with_sources"]["system"] for line in snapshot)


# Eight invented facts, each asked once and reworded four times (as `generate` writes qa and
# paraphrase pairs): 32 rewordings, of which early stop holds back one in four.
REWORDED_FACTS = [
    ("How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high."),
    ("Who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir designed the Larkspur Dam."),
    ("Where does the Veltra River rise?", "The Veltra River rises in the Quellan Hills."),
    ("When was the Orvane pump station built?", "The Orvane pump station was built in 1931."),
    ("How deep is Lake Orvane?", "Lake Orvane is 84 metres deep."),
    ("Who founded the Orvane Institute of Hydrology?", "Dr. Ilse Tamberg founded the Orvane Institute of Hydrology."),
    ("How often must valve KX-9 be inspected?", "Valve KX-9 must be inspected every 450 operating hours."),
    ("What does the town of Brisk Harbour export?", "The town of Brisk Harbour exports slate."),
]
OPENERS = ["Tell me: ", "Please say, ", "I would like to know: ", "Quick question: "]



def test_a_run_saved_before_the_form_followed_the_chat_resumes_with_three_passages():
    from kwdesk.core.train.presets import TrainConfig

    old = preset("learn-documents").to_dict()
    del old["sources_passages"]
    assert TrainConfig.from_dict(old).sources_passages == 3
    assert TrainConfig.from_dict(preset("learn-documents").to_dict()).sources_passages == 0


def test_the_with_sources_form_holds_the_passages_the_chat_gives_this_base(pairs_workspace, base):
    """By default (sources_passages 0) the form holds as many passages as the chat gives a model of the
    base's size (one for the bundled 135M model), each answer citing "[1]" when the one
    passage is its own; a shorter sequence than the three-passage form."""
    from kwdesk.core.chat.engine import Answering
    from kwdesk.core.models.chat_format import DEFAULT_SYSTEM_PROMPT, sources_top_k
    from kwdesk.core.models.model_files import safetensors_parameters
    from kwdesk.core.train.job import training_records

    assert sources_top_k(safetensors_parameters(base.folder)) == 1
    chat = Answering()
    chat.workspace, chat.collection_id, chat.sources_top_k = pairs_workspace, None, 1
    db = pairs_workspace.connect()
    try:
        one = training_records(db, preset("quick-try", train_with_sources=True, replay_ratio=0.0), base).records
        three = training_records(db, preset("quick-try", train_with_sources=True, replay_ratio=0.0, sources_passages=3),
                                 base).records
    finally:
        db.close()
    for record, long in zip(one, three):
        system, sources = chat.with_sources(DEFAULT_SYSTEM_PROMPT, record["question"])
        assert len(sources) == 1 and record["with_sources"]["system"] == system
        assert "\n[2] " not in system and "\n[2] " in long["with_sources"]["system"]
        assert len(system) < len(long["with_sources"]["system"])
        assert record["with_sources"]["answer"] == f"{record['answer']} [1]"  # its own passage ranks first here

def test_early_stop_holds_back_rewordings_checks_each_pass_and_keeps_the_best(facts_workspace):
    """--early-stop: one rewording in four is held out of the run, asked closed-book after
    each pass from the second, graded like the evaluation with the general questions beside
    them; the run keeps the best check's adapter and says so in its config."""
    db = facts_workspace.connect()
    with write_transaction(db):
        for question, answer in REWORDED_FACTS:
            parent = db["pairs"].insert({"question": question, "answer": answer, "strategy": "qa"}).last_pk
            for opener in OPENERS:
                db["pairs"].insert({"question": opener + question[0].lower() + question[1:], "answer": answer,
                                    "strategy": "paraphrase", "parent_pair_id": parent})
    db.close()
    seen = []
    cfg = preset("learn-documents", early_stop=True, epochs=3, adapt=False, micro_batch=1, replay_ratio=0.0,
                 train_with_sources=False, checkpoint_every=10_000)
    result = TrainJob(facts_workspace, cfg).run(lambda p: seen.append(p.message))
    config = json.loads((result.adapter_dir.parent / "config.json").read_text())
    checks = config["held_out_checks"]
    assert len(checks) == 8  # 32 rewordings / 4
    trained = {json.loads(line)["source"] for line in (result.adapter_dir.parent / "dataset.jsonl").read_text().splitlines()}
    assert not trained & {f"pair:{c}" for c in checks}  # never trained in this run
    assert result.examples == 8 * 5 - 8
    summary = config["early_stop"]
    passes = [c["pass_no"] for c in summary["history"]]
    assert passes == [2, 3]  # after pass 2, and at the run's end
    assert all(c["total"] == 8 and 0 <= c["right"] <= 8 for c in summary["history"])
    assert any("held-out check after pass 2:" in m for m in seen)
    best = max(summary["history"], key=lambda c: (c["right"], c["kept"] or 0))
    assert summary["best_pass"] == best["pass_no"]
    # Facts with their rewordings trained three passes: most held-back wordings are answered.
    assert best["right"] >= 4, summary


def test_early_stop_stops_after_checks_without_progress_and_restores_the_best():
    from kwdesk.core.train.early_stop import PATIENCE, Check, EarlyStop

    class Tiny:  # the trainable weights of a model, as named_parameters gives them
        def __init__(self):
            import torch

            self.w = torch.nn.Parameter(torch.zeros(2))

        def named_parameters(self):
            return [("w", self.w)]

    model = Tiny()
    stop = EarlyStop([{"pair_id": 1, "question": "q", "answer": "a"}], tokenizer=None, device="cpu")
    for pass_no, right in [(2, 3), (3, 5), (4, 5), (5, 4)]:
        model.w.data.fill_(pass_no)
        check = Check(pass_no, pass_no * 10, right, 8, 1.0, 0.1)
        stop.history.append(check)
        if stop.best is None or check.score > stop.best.score:
            stop.best, stop._best_weights = check, {"w": model.w.detach().clone()}
        assert stop.should_stop() == (pass_no == 3 + PATIENCE)
    assert stop.best.pass_no == 3  # 5 right first at pass 3; pass 4's equal score is not better
    assert stop.restore_best(model) and float(model.w.detach()[0]) == 3
