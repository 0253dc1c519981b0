"""LoRA training as a core job: progress, cooperative cancel, checkpoints, resume.

A run lives in runs/<id>/ of the workspace:
    config.json            the TrainConfig, the base model, the dataset hash
    checkpoints/step-N/    adapter + trainer_state.pt (optimizer, scheduler, RNG, position)
    adapter/               the final adapter in PEFT format (adapter_config.json, safetensors)
The loop is written out (no transformers Trainer) so that cancel, checkpoint and resume act
at exactly one optimizer step, and a resumed run sees the same data in the same order.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

from kwdesk.core.base import system
from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Cancelled, Job, format_duration
from kwdesk.core.base.locks import ProcessLock, held_elsewhere
from kwdesk.core.models.base_models import BaseModel, resolve_base
from kwdesk.core.models.gguf import estimated_file_mb
from kwdesk.core.models.ml import import_ml
from kwdesk.core.models.model_files import (
    check_safetensors_folder,
    safetensors_parameters,
)
from kwdesk.core.store.collections import (
    CollectionError,
    find_collection,
    list_collections,
)
from kwdesk.core.store.pairs import pair_passages, pairs_for_training, review_counts
from kwdesk.core.store.personal import knowledge_name
from kwdesk.core.store.runs import (
    create_run,
    exported_run_ids,
    finish_training,
    get_run,
    mark_run_failed,
    set_run_status,
    training_run_rows,
)
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.train.early_stop import EarlyStop, hold_back
from kwdesk.core.train.methods import cannot_export, method
from kwdesk.core.train.presets import PRESETS, TrainConfig, settings_in_words
from kwdesk.core.train.recipe import adapt_recipe
from kwdesk.core.train.recipe import apply as apply_recipe
from kwdesk.core.train.speed import SpeedMeter, current_setup, record_speed, training_speed
from kwdesk.core.train.train_data import (
    Example,
    dataset_sha256,
    distill_targets,
    encode_record,
    epoch_batches,
    optimizer_steps,
    peft_config,
    training_dtype,
    warmup_cosine,
)

log = logging.getLogger(__name__)

STATE_FILE = "trainer_state.pt"
RUN_LOCK = "train.lock"  # held by the process training the run


class TrainingError(KwdeskError):
    """Training cannot go on; the message says what to change."""


@dataclass
class TrainResult:
    run_id: int
    adapter_dir: Path
    steps: int
    losses: list[float]
    tokens_per_second: float
    peak_memory_mb: float
    examples: int
    replay_examples: int
    dataset_sha256: str
    left_out: list[int] = field(default_factory=list)  # unreviewed pairs left out (check_conflicts)

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "adapter_dir": str(self.adapter_dir),
            "steps": self.steps,
            "first_loss": self.losses[0] if self.losses else None,
            "last_loss": self.losses[-1] if self.losses else None,
            "tokens_per_second": round(self.tokens_per_second, 1),
            "peak_memory_mb": round(self.peak_memory_mb),
            "examples": self.examples,
            "replay_examples": self.replay_examples,
            "dataset_sha256": self.dataset_sha256,
            "left_out_conflicting": self.left_out,
        }


def peak_memory_mb(device: str = "cpu") -> float:
    """The memory that limits training: the GPU's on CUDA, the process's RSS on the CPU."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return system.peak_memory_mb()


def device_and_dtype():
    import torch

    cuda = torch.cuda.is_available()
    return ("cuda" if cuda else "cpu"), training_dtype(torch, cuda)


class TrainingRecords(NamedTuple):
    """What a run trains, before tokenizing."""

    records: list[dict]  # [{"source", "question", "answer"}]: documents, then replay ("" question: a text)
    replay: list[dict]  # the replay prompts and answers chosen
    dataset_sha256: str
    left_out: list[int]  # unreviewed pairs left out for contradicting another (check_conflicts)
    checks: tuple = ()  # rewordings held back for the held-out checks while training (early_stop)


def training_records(db, cfg: TrainConfig, base: BaseModel, on_status=None) -> TrainingRecords:
    """What a run trains; the training bundle writes the same records."""
    from kwdesk.core.train.replay import fact_prompts_like, replay_answers, replay_prompts

    items, records = [], []
    for pair_id, question, answer in pairs_for_training(db, cfg.accepted_only, cfg.collection_id):
        items.append([question, answer])
        records.append({"source": f"pair:{pair_id}", "question": question, "answer": answer})
    left_out = check_conflicts(db, cfg, [int(r["source"].split(":")[1]) for r in records]) if records else []
    if left_out:
        out = set(left_out)
        kept = [(item, record) for item, record in zip(items, records) if int(record["source"].split(":")[1]) not in out]
        items, records = [k[0] for k in kept], [k[1] for k in kept]
    if cfg.early_stop:
        kept_records, checks = hold_back(db, records)
        held = {f"pair:{c['pair_id']}" for c in checks}
        items = [item for item, record in zip(items, records) if record["source"] not in held]
        records = kept_records
    else:
        checks = []
    if not records:
        where = " in this collection" if cfg.collection_id is not None else ""
        why = " (the rest contradict each other: choose in Data > Conflicts)" if left_out else " (rejected pairs are left out)"
        raise TrainingError(f"There is nothing to train on{where}: generate or add Q&A pairs first{why}.")
    if cfg.train_with_sources:
        add_sources_forms(db, cfg.collection_id, records, items, sources_passages(cfg, base))
    wanted = round(len(records) * cfg.replay_ratio)
    chosen: list[dict] = []
    if wanted:
        # As many different prompts as replay examples (each seen once an epoch), cycling
        # only when more are wanted than there are prompts.
        chosen = replay_answers(base, min(wanted, len(replay_prompts())), on_status)
        prompts = [chosen[index % len(chosen)]["prompt"] for index in range(wanted)] if chosen else []
        if cfg.fact_replay > 0:
            questions = [r["question"] for r in records if r["source"].startswith("pair:")]
            prompts += fact_prompts_like(questions, round(wanted * cfg.fact_replay))
        for index, (prompt, answer, answers) in enumerate(_base_answers(base, prompts, cfg.system_prompts, on_status)):
            records.append({"source": f"replay:{index}", "question": prompt, "answer": answer,
                            **({"answers": answers} if answers else {})})
            items.append(["replay", prompt, answer, *([answers] if answers else [])])
    return TrainingRecords(records, chosen, dataset_sha256(items), left_out, tuple(checks))


def _base_answers(base: BaseModel, prompts: list[str], systems: tuple[str | None, ...], on_status=None):
    """(prompt, the base's answer without a system prompt, {system: its answer under it}) for
    each of PROMPTS that the base answered. Under each system prompt the pairs are trained
    under: held to its no-prompt answer under kwdesk's prompt, the model would learn that
    answer there while the KL term pulls it to the base's distribution under that prompt."""
    from kwdesk.core.train.replay import replay_answers

    unique = list(dict.fromkeys(prompts))
    plain = {r["prompt"]: r["answer"] for r in replay_answers(base, on_status=on_status, prompts=unique)}
    other = {system: {r["prompt"]: r["answer"] for r in replay_answers(base, on_status=on_status, system=system,
                                                                        prompts=unique)}
             for system in systems if system}
    for prompt in prompts:
        if prompt in plain:
            yield prompt, plain[prompt], {system: by[prompt] for system, by in other.items() if prompt in by}


def sources_passages(cfg: TrainConfig, base: BaseModel) -> int:
    """How many passages the with-sources form of CFG holds for BASE: the config's number, or
    with 0 as many as the chat gives a model of the base's size (chat_format.sources_top_k)."""
    from kwdesk.core.models.chat_format import sources_top_k
    from kwdesk.core.models.model_files import safetensors_parameters

    return cfg.sources_passages or sources_top_k(safetensors_parameters(base.folder) or None)


def add_sources_forms(db, collection_id: int | None, records: list[dict], items: list[list], top_k: int) -> None:
    """Each pair of RECORDS also as the chat asks it with sources: the TOP_K passages the chat
    retrieves for its question (search_chunks, as Answering.with_sources) in kwdesk's system
    prompt, its answer citing the passage it was made from when that one is among them ("[2]"),
    else the answer from what the model knows. ITEMS (the dataset hash's) get the same forms."""
    from kwdesk.core.models.chat_format import DEFAULT_SYSTEM_PROMPT, sources_prompt
    from kwdesk.core.store.documents import search_chunks

    pair_id = {index: int(r["source"].split(":")[1]) for index, r in enumerate(records) if r["source"].startswith("pair:")}
    own = pair_passages(db, list(pair_id.values()))
    for index, (record, item) in enumerate(zip(records, items)):
        if index not in pair_id or not record["question"]:
            continue
        sources = search_chunks(db, record["question"], top_k, collection_id)
        if not sources:
            continue
        cited = next((n for n, s in enumerate(sources, 1) if s["text"] == own.get(pair_id[index])), None)
        record["with_sources"] = {"system": sources_prompt(DEFAULT_SYSTEM_PROMPT, sources),
                                  "answer": f"{record['answer']} [{cited}]" if cited else record["answer"]}
        item.append(record["with_sources"])


def write_dataset_snapshot(run_dir: Path, records: list[dict]) -> Path:
    """The exact data of a run as chat JSONL, in the order trained, each line with its
    source ("pair:ID", "replay:N"): what was trained can always be seen."""
    lines = []
    for record in records:
        line = {"text": record["answer"]} if not record["question"] else {
            "messages": [{"role": "user", "content": record["question"]}, {"role": "assistant", "content": record["answer"]}]}
        if record.get("with_sources"):  # the form with the passages in the prompt, trained in turn
            line["with_sources"] = record["with_sources"]
        lines.append(json.dumps({**line, "source": record["source"]}, ensure_ascii=False))
    target = Path(run_dir) / "dataset.jsonl"
    partial = target.with_name(target.name + ".part")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


# A pair nobody has reviewed is left out of a run when it contradicts another pair; the
# expert's own verdicts are not overruled.
UNREVIEWED = "new"


def check_conflicts(db, cfg: TrainConfig, pair_ids: list[int]) -> list[int]:
    """The pairs to leave out of a run because they contradict another one: the unreviewed
    side of each conflict (both, when neither was reviewed), so that a user who does not
    review still trains without teaching the model two answers. TrainingError when the
    expert accepted both sides of a conflict, unless the config allows conflicts."""
    from kwdesk.core.data.conflicts import conflicts_summary, find_conflicts

    if cfg.allow_conflicts:
        return []
    conflicts = find_conflicts(db, cfg.collection_id, pair_ids=pair_ids)
    left_out = sorted({side.pair_id for c in conflicts for side in (c.a, c.b) if side.status == UNREVIEWED})
    standing = [c for c in conflicts if c.a.pair_id not in left_out and c.b.pair_id not in left_out]
    if standing:
        raise TrainingError(
            f"{conflicts_summary(standing)}, and you accepted both sides. Training both would teach the model two "
            "answers: choose one in Data > Conflicts (or `kwdesk conflicts`), or say there that both are right."
        )
    return left_out


def left_out_in_words(count: int) -> str:
    """The plan's note on pairs left out for contradicting others ("" for none)."""
    if not count:
        return ""
    they = "they contradict other pairs" if count != 1 else "it contradicts another pair"
    return f"{count} unreviewed pair{'s' if count != 1 else ''} left out because {they} (choose in Data > Conflicts to train them)"


class TrainJob(Job):
    """Train a LoRA adapter on the workspace's pairs; ``resume_run`` goes on with a run."""

    def __init__(
        self,
        workspace: Workspace,
        config: TrainConfig | None = None,
        base: str | None = None,
        resume_run: int | None = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.config = config or PRESETS["learn-documents"]
        if self.config.packing and not method(self.config.method).packs:
            # A prefix's keys and values come before the sequence: one example a sequence.
            self.config = replace(self.config, packing=False)
        self.base_spec = base
        self.resume_run = resume_run
        self.left_out: list[int] = []  # set by build_examples (training_records)
        self.checks: tuple = ()  # the rewordings held back for early stop, set by build_examples

    # --- data ------------------------------------------------------------------------------

    def build_examples(self, db, tokenizer, base: BaseModel, on_status=None) -> tuple[list[Example], int, str]:
        """The examples of one epoch (documents, then replay) and the dataset hash."""
        on_status = on_status or (lambda m: self.report(0, None, m))
        records, _, data_hash, self.left_out, self.checks = training_records(db, self.config, base, on_status)
        # What is trained is these records: the snapshot is written from them, never queried
        # again (an edit made while the model loads must not change the run's dataset.jsonl).
        self._records = records
        systems = tuple(self.config.system_prompts)
        examples = [encode_record(tokenizer, record, self.config.max_seq_len, systems) for record in records]
        return examples, sum(1 for r in records if r["source"].startswith("replay:")), data_hash

    def _distill_targets(self, db, model, tokenizer, examples: list[Example], device) -> None:
        """What the base model predicts at each document example's learned tokens with the
        example's passage in its prompt, computed once before training (the base without an
        adapter: MODEL before _prepare wraps it)."""
        from kwdesk.core.models.chat_format import EVAL_SYSTEM_PROMPT

        records = {r["source"]: r for r in self._records}
        passages = pair_passages(db, [int(e.source.split(":")[1]) for e in examples if e.source.startswith("pair:")])
        wanted = [e for e in examples if e.source.startswith("pair:") and int(e.source.split(":")[1]) in passages]
        model.eval()
        for index, example in enumerate(wanted, 1):
            self.check_cancelled()
            record = records[example.source]
            teacher = distill_targets(model, tokenizer, example, record["question"] or None,
                                      passages[int(example.source.split(":")[1])], EVAL_SYSTEM_PROMPT, device)
            for form in (example, *example.variants):  # the same answer tokens under every prompt
                if form.learned_tokens == example.learned_tokens:
                    form.teacher = teacher  # (not the with-sources form, whose answer cites a passage)
            if index % 10 == 0 or index == len(wanted):
                self.report(0, None, f"Reading each answer with its passage (the teacher): {index}/{len(wanted)}")

    def batches_for_epoch(self, examples: list[Example], epoch: int) -> list[list]:
        cfg = self.config
        return epoch_batches(examples, epoch, seed=cfg.seed, max_seq_len=cfg.max_seq_len, micro_batch=cfg.micro_batch,
                             packing=cfg.packing, sources_every=sources_every(cfg))

    def _adapt(self, base: BaseModel, examples: list[Example], n_replay: int) -> str:
        """Choose passes and micro batch for this much data (train/recipe.py) when the
        config adapts; the reason in words for the plan ("" when it does not)."""
        self.config, why = adapted_config(self.config, base, examples, n_replay)
        return why

    # --- the run -----------------------------------------------------------------------------

    def _run(self) -> TrainResult:
        import_ml()
        try:
            return self._train()
        except Cancelled:
            raise
        except Exception as exc:
            if _is_out_of_memory(exc):
                raise TrainingError(
                    "Out of memory. Lower the sequence length or the batch size (micro_batch), use a smaller "
                    "rank, or turn on QLoRA on a GPU."
                ) from exc
            raise

    def _train(self) -> TrainResult:
        from transformers import AutoTokenizer

        db = self.workspace.connect()
        lock = None
        run_id, owned = None, False
        try:
            run_id, run_dir, state = self._open_run(db)
            # One trainer per run: the app and the CLI could both try to resume it.
            lock = ProcessLock(run_dir / RUN_LOCK)
            if not lock.try_acquire():
                raise TrainingError(f"Run {run_id} is being trained by another kwdesk window or command.")
            owned = True
            cfg = self.config
            # Contradicting pairs refuse the run before the base model loads (seconds to
            # minutes on a large base); training_records checks again for bundles.
            check_conflicts(db, cfg, [row[0] for row in pairs_for_training(db, cfg.accepted_only, cfg.collection_id)])
            self.report(0, None, "Loading the base model…")
            base = resolve_base(self.base_spec, lambda m: self.report(0, None, m))
            device, dtype = device_and_dtype()
            tokenizer = AutoTokenizer.from_pretrained(base.folder)
            pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
            model = self._load_base(base, device, dtype)
            examples, n_replay, data_hash = self.build_examples(db, tokenizer, base)
            if state is not None and state["dataset_sha256"] != data_hash:
                raise TrainingError(
                    "The pairs changed since this run started, so it cannot resume exactly; start a new run."
                )
            if self.config.context_distill:
                self._distill_targets(db, model, tokenizer, examples, device)
            why = self._adapt(base, examples, n_replay)
            cfg = self.config
            steps_per_epoch = math.ceil(len(self.batches_for_epoch(examples, 0)) / cfg.grad_accum)
            total_steps = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))

            model, params, optimizer, scheduler, step, losses, order_log = self._prepare(
                db, model, base, state, total_steps, device)
            self._save_config(run_dir, base, data_hash, total_steps, len(examples) - n_replay, n_replay, why)
            # The plan before the first step: a run can take half an hour on a laptop's CPU.
            seconds, _ = estimate_run(base, cfg, examples, n_replay, total_steps - step, steps_per_epoch)
            self.report(step, total_steps, f"Training {len(examples) - n_replay} examples from your documents + {n_replay} "
                        f"replay: {total_steps - step} steps{f' ({why})' if why else ''}, about "
                        f"{format_duration(seconds)} on this machine (estimate)"
                        + (f". {left_out_in_words(len(self.left_out))}" if self.left_out else "")
                        + ". " + pairs_in_words(*review_counts(db, cfg.collection_id), cfg.accepted_only),
                        run_id=run_id, estimated_s=seconds)
            if state is None:
                write_dataset_snapshot(run_dir, self._records)
            self._mark_run(db, run_id, "running", data_hash)

            tokens_done = 0
            started = time.monotonic()
            micro = self._micro_batches(examples, step)
            stopper = EarlyStop(list(self.checks), tokenizer, device) if self.checks else None
            stopped_at = None
            # This machine's speed for the next plans: the steps' own time (train/speed.py).
            meter = SpeedMeter(kl_factor(cfg, n_replay), cfg.max_seq_len)
            setup = current_setup(cfg, safetensors_parameters(base.folder) or 0)
            try:
                self.check_cancelled()
                step_began = time.monotonic()
                for done in optimizer_steps(model, optimizer, scheduler, micro, params, first_step=step,
                                            total_steps=total_steps, grad_accum=cfg.grad_accum, pad_id=pad_id,
                                            device=device, replay_kl=cfg.replay_kl, distill=cfg.context_distill):
                    meter.add(done.computed_tokens, sum(map(len, done.sources)), time.monotonic() - step_began)
                    step = done.step
                    tokens_done += done.tokens
                    losses.append(round(done.loss, 6))
                    order_log.append(["|".join(",".join(pack) for pack in micro) for micro in done.sources])
                    elapsed = time.monotonic() - started
                    self.report(
                        step, total_steps, f"step {step}/{total_steps}, loss {done.loss:.3f}",
                        loss=done.loss, learning_rate=scheduler.get_last_lr()[0],
                        tokens_per_second=tokens_done / elapsed if elapsed else 0.0,
                        tokens=tokens_done,
                        memory_mb=peak_memory_mb(device), run_id=run_id,
                    )
                    if step % cfg.checkpoint_every == 0 and step < total_steps:
                        self._checkpoint(run_dir, model, optimizer, scheduler, step, losses, order_log)
                    self.check_cancelled()
                    pass_no = stopper.due(step, steps_per_epoch, total_steps) if stopper else None
                    if pass_no is not None:
                        checked = stopper.check(model, step, pass_no)
                        self.report(step, total_steps, stopper.in_words(checked), run_id=run_id)
                        if stopper.should_stop():
                            stopped_at = pass_no
                            self.report(step, total_steps, f"Stopped after pass {pass_no} of {cfg.epochs:g}: the "
                                        f"held-out checks found nothing better since pass {stopper.best.pass_no}",
                                        run_id=run_id)
                            break
                        self.check_cancelled()
                    step_began = time.monotonic()
            except Cancelled:
                self._record_speed(setup, meter)
                self._checkpoint(run_dir, model, optimizer, scheduler, step, losses, order_log)
                self._mark_run(db, run_id, "cancelled", data_hash, {"losses": losses, "steps": step})
                raise
            self._record_speed(setup, meter)
            if stopper is not None:
                # The run's end is as good as the best check, or the best pass's adapter is kept.
                restored = stopper.restore_best(model, stopper.check(model, step, step // steps_per_epoch)
                                                if stopped_at is None else None)
                self._save_early_stop(run_dir, stopper.summary(stopped_at, restored))
            adapter_dir = run_dir / "adapter"
            tmp = run_dir / "adapter.part"
            shutil.rmtree(tmp, ignore_errors=True)
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            shutil.rmtree(adapter_dir, ignore_errors=True)
            tmp.rename(adapter_dir)
            elapsed = time.monotonic() - started
            result = TrainResult(
                run_id, adapter_dir, step, losses, tokens_done / elapsed if elapsed else 0.0, peak_memory_mb(device),
                len(examples) - n_replay, n_replay, data_hash, self.left_out,
            )
            record_finished_run(db, run_id, result, base, order_log)
            return result
        except Cancelled:
            raise
        except Exception as exc:
            if owned:  # say so in the run list instead of leaving it "created" or "running"
                self._mark_failed(db, run_id, exc)
            raise
        finally:
            if lock is not None:
                lock.release()
            db.close()

    @staticmethod
    def _record_speed(setup, meter: SpeedMeter) -> None:
        if setup.parameters and meter.tokens_per_s is not None:  # a run long enough to say
            record_speed(setup, meter.tokens_per_s)

    @staticmethod
    def _save_early_stop(run_dir: Path, summary: dict) -> None:
        """The held-out checks, kept in the run's config.json beside the plan they changed."""
        path = run_dir / "config.json"
        config = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        config["early_stop"] = summary
        tmp = run_dir / "config.json.part"
        tmp.write_text(json.dumps(config, indent=2))
        tmp.replace(path)

    def _load_base(self, base: BaseModel, device: str, dtype):
        """The base model on DEVICE, in DTYPE, or in 4 bits for QLoRA."""
        import torch
        from transformers import AutoModelForCausalLM

        check_safetensors_folder(base.folder, what="base model")
        quantization = self._quantization(device)
        model = AutoModelForCausalLM.from_pretrained(base.folder, dtype=dtype, use_safetensors=True, **quantization)
        if quantization:
            from peft import prepare_model_for_kbit_training

            # Norms and embeddings back to fp32 for stable 4-bit training; no gradient
            # checkpointing: kwdesk's sequences are short, and speed matters more.
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        else:
            model.to(device)
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        return model

    def _prepare(self, db, model, base: BaseModel, state: dict | None, total_steps: int, device: str):
        """The adapter (new, from a previous run, or from this run's checkpoint), its
        optimizer and schedule, and where a resumed run stood: (model, trainable params,
        optimizer, scheduler, step, losses, order log)."""
        import torch
        from peft import PeftModel, get_peft_model

        cfg = self.config
        torch.manual_seed(cfg.seed)
        random.seed(cfg.seed)
        if state is not None:
            check_safetensors_folder(state["checkpoint"], what="checkpoint")
            model = PeftModel.from_pretrained(model, state["checkpoint"], is_trainable=True)
        elif cfg.init_adapter_run is not None:
            model = PeftModel.from_pretrained(model, self._previous_adapter(db, base), is_trainable=True)
        else:
            model = get_peft_model(model, peft_config(cfg.method, cfg.rank, cfg.alpha, cfg.dropout, cfg.target_modules))
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        warmup = max(1, int(total_steps * cfg.warmup_ratio))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step, warmup, total_steps))
        step, losses, order_log = 0, [], []
        if state is not None:
            trainer = torch.load(Path(state["checkpoint"]) / STATE_FILE, weights_only=True)
            optimizer.load_state_dict(trainer["optimizer"])
            scheduler.load_state_dict(trainer["scheduler"])
            torch.set_rng_state(trainer["torch_rng"])
            if device == "cuda" and "cuda_rng" in trainer:
                torch.cuda.set_rng_state_all(trainer["cuda_rng"])
            step, losses, order_log = trainer["step"], list(trainer["losses"]), list(trainer["order"])
        return model, params, optimizer, scheduler, step, losses, order_log

    def _micro_batches(self, examples, step: int):
        """Micro-batches from optimizer step STEP on, epoch after epoch, in a fixed order."""
        cfg = self.config
        skip = step * cfg.grad_accum
        epoch = 0
        while True:
            batches = self.batches_for_epoch(examples, epoch)
            for batch in batches:
                if skip:
                    skip -= 1
                    continue
                yield batch
            epoch += 1

    def _quantization(self, device: str) -> dict:
        if not self.config.qlora:
            return {}
        if device != "cuda":
            raise TrainingError("QLoRA needs an NVIDIA GPU; on this machine train without it.")
        import importlib.util

        import torch
        from transformers import BitsAndBytesConfig

        if importlib.util.find_spec("bitsandbytes") is None:  # transformers fails late and obscurely
            raise TrainingError("QLoRA needs the bitsandbytes package: pip install bitsandbytes")
        _, dtype = device_and_dtype()
        return {
            "quantization_config": BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype,
                bnb_4bit_use_double_quant=True,
            ),
            # A 4-bit model cannot be moved after loading: place it on the GPU while loading.
            "device_map": {"": torch.cuda.current_device()},
        }

    # --- bookkeeping ---------------------------------------------------------------------------

    def _open_run(self, db):
        if self.resume_run is None:
            # What the model is about, kept as training starts: its name (store/personal.py).
            config = {**self.config.to_dict(), "knowledge": knowledge_name(db, self.config.collection_id)}
            run_id, run_dir = create_run(db, "train", config, folder_for=lambda i: self.workspace.runs_dir / f"train-{i}")
            run_dir.mkdir(parents=True, exist_ok=True)
            return run_id, run_dir, None
        run = get_run(db, self.resume_run, kind="train")
        if run is None:
            raise TrainingError(f"There is no training run {self.resume_run} in this workspace.")
        if run.status == "done":
            raise TrainingError(f"Run {self.resume_run} is finished already.")
        self.config = TrainConfig.from_dict(run.config)
        run_dir = run.path
        checkpoint = latest_checkpoint(run_dir)
        if checkpoint is None:
            # Killed before its first checkpoint: start it again from the beginning.
            return self.resume_run, run_dir, None
        saved = json.loads((run_dir / "config.json").read_text())
        if "train" in saved:  # the passes and batch the run chose, not chosen again
            self.config = replace(TrainConfig.from_dict(saved["train"]), adapt=False)
        self.base_spec = saved["base_source"]
        return self.resume_run, run_dir, {"checkpoint": str(checkpoint), "dataset_sha256": saved["dataset_sha256"]}

    def _previous_adapter(self, db, base: BaseModel) -> Path:
        """The adapter of the finished run this one goes on from; it must share the base."""
        prev = self.config.init_adapter_run
        run = get_run(db, prev, kind="train", status="done") if prev is not None else None
        if run is None or run.path is None:
            raise TrainingError(f"Run {prev} is not a finished training run, so there is no adapter to go on from.")
        adapter = run.path / "adapter"
        saved = run.saved_config()
        if saved is None:
            raise TrainingError(f"The files of run {prev} are missing.")
        if Path(saved.get("base_folder", "")) != Path(base.folder):
            raise TrainingError(f"Run {prev} was trained on another base model ({saved.get('base_name')}); start from scratch.")
        check_safetensors_folder(adapter, what="adapter")
        return adapter

    def _save_config(self, run_dir: Path, base: BaseModel, data_hash: str, total_steps: int, examples: int, replay: int,
                     why: str = ""):
        config = {
            "recipe": why,  # why these passes and batches, where they were chosen from the data
            "train": self.config.to_dict(),
            "base_name": base.name,
            "base_source": base.source,
            "base_folder": str(base.folder),
            "dataset_sha256": data_hash,
            "total_steps": total_steps,
            "examples": examples,
            "replay_examples": replay,
            "collection": self._collection_name(),
            "left_out_conflicting": self.left_out,
            "held_out_checks": [c["pair_id"] for c in self.checks],
        }
        tmp = run_dir / "config.json.part"
        tmp.write_text(json.dumps(config, indent=2))
        tmp.replace(run_dir / "config.json")

    def _collection_name(self) -> str | None:
        if self.config.collection_id is None:
            return None
        db = self.workspace.connect()
        try:
            return find_collection(db, self.config.collection_id).name
        except CollectionError:
            return None
        finally:
            db.close()

    def _mark_run(self, db, run_id: int, status: str, data_hash: str, metrics: dict | None = None) -> None:
        set_run_status(db, run_id, status, dataset_sha256=data_hash, metrics=metrics)

    def _mark_failed(self, db, run_id: int, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, TrainingError) else f"{type(exc).__name__}: {exc}"
        try:
            mark_run_failed(db, run_id, message)
        except Exception:  # the first error is the one to report (a full disk fails this too)
            log.exception("could not mark run %s failed", run_id)

    def _checkpoint(self, run_dir: Path, model, optimizer, scheduler, step: int, losses, order_log) -> Path:
        import torch

        final = run_dir / "checkpoints" / f"step-{step:06d}"
        tmp = final.with_name(final.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp, safe_serialization=True)
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(),
                # Dropout on a GPU draws from the CUDA generator: keep it for an exact resume.
                **({"cuda_rng": torch.cuda.get_rng_state_all()} if torch.cuda.is_available() else {}),
                "step": step,
                "losses": losses,
                "order": order_log,
            },
            tmp / STATE_FILE,
        )
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)  # a checkpoint that exists under its name is whole
        # Keep the newest two.
        for old in sorted(final.parent.glob("step-*"))[:-2]:
            if not old.name.endswith(".part"):
                shutil.rmtree(old, ignore_errors=True)
        return final

def record_finished_run(db, run_id: int, result: TrainResult, base: BaseModel, order_log) -> None:
    """A finished run in the workspace: its metrics, and its adapter (and base) in the library."""
    metrics = {**result.to_dict(), "losses": result.losses}
    (result.adapter_dir.parent / "order.json").write_text(json.dumps(order_log))
    finish_training(db, run_id, metrics, base_name=base.name, base_folder=base.folder, base_source=base.source,
                    adapter_dir=result.adapter_dir, dataset_sha256=result.dataset_sha256)


def latest_checkpoint(run_dir: Path) -> Path | None:
    folder = Path(run_dir) / "checkpoints"
    done = sorted(p for p in folder.glob("step-*") if not p.name.endswith(".part") and (p / STATE_FILE).is_file())
    return done[-1] if done else None


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


@dataclass
class TrainPlan:
    """What a run will train, and a rough estimate of its time and memory on this machine."""

    examples: int
    replay_examples: int
    tokens_per_epoch: int
    steps: int
    estimated_seconds: float
    estimated_memory_mb: float
    epochs: float = 0.0
    learning_rate: float = 0.0
    recipe: str = ""  # why these passes, where they were chosen from the data
    left_out: int = 0  # unreviewed pairs left out for contradicting others
    approved: int = 0  # pairs the expert approved (accepted or edited)
    unreviewed: int = 0  # pairs not reviewed yet: trained unless accepted_only
    accepted_only: bool = False
    parameters: int = 0  # the base model's weights, for the model file's size in each quantization
    hidden_size: int = 0
    # About how long each preset would take on the same pairs here, by preset name.
    preset_seconds: dict[str, float] = field(default_factory=dict)
    held_out_checks: int = 0  # rewordings held back and asked after each pass (early stop)
    # The settings in words as the recipe chose them for this data (settings_in_words).
    settings: str = ""
    speed_measured: bool = False  # the time is at the speed of earlier runs here, not the prior

    def to_dict(self) -> dict:
        return {k: (round(v) if k.startswith("estimated") else v) for k, v in self.__dict__.items()}

    def file_mb(self, quantization: str) -> float | None:
        """About how large the model file of this base will be, or None before a plan."""
        return estimated_file_mb(quantization, self.parameters, self.hidden_size) if self.parameters else None

    def pairs_in_words(self) -> str:
        return pairs_in_words(self.approved, self.unreviewed, self.accepted_only)

    def in_words(self) -> str:
        """What is trained and about how long it takes, in the expert's words (the Train page)."""
        return (f"{self.pairs_in_words()} About {format_duration(self.estimated_seconds)} and "
                f"{self.estimated_memory_mb / 1000:.1f} GB of memory on this machine ("
                + ("at the speed of your last training here" if self.speed_measured else "an estimate") + ")."
                + (f" {left_out_in_words(self.left_out)}." if self.left_out else ""))

    def details(self) -> str:
        """How: examples, replay, tokens and steps (the Train page's Advanced part)."""
        chosen = f" ({self.recipe})" if self.recipe else ""
        checks = (f" {self.held_out_checks} rewordings held back, asked after each pass: the run keeps the best "
                  "pass and stops early when they stop improving." if self.held_out_checks else "")
        return (f"{self.examples} examples from your documents + {self.replay_examples} replay, "
                f"{self.tokens_per_epoch:,} tokens a pass, {self.steps} steps{chosen}.{checks}")

    def summary(self) -> str:
        """The plan in full, as the CLI says it."""
        return f"{self.in_words()} {self.details()}"


def plan_training(job: TrainJob, db, on_status=None) -> TrainPlan:
    """Build the examples as the run would, and estimate without training. ON_STATUS gets
    lines for people while the base and the replay answers are made."""
    from transformers import AutoConfig, AutoTokenizer

    base = resolve_base(job.base_spec, on_status)
    tokenizer = AutoTokenizer.from_pretrained(base.folder)
    examples, n_replay, _ = job.build_examples(db, tokenizer, base, on_status or (lambda m: None))
    why = job._adapt(base, examples, n_replay)
    cfg = job.config
    steps, steps_per_epoch = planned_steps(cfg, examples)
    seconds, memory_mb = estimate_run(base, cfg, examples, n_replay, steps, steps_per_epoch)
    approved, unreviewed = review_counts(db, cfg.collection_id)
    hidden = getattr(AutoConfig.from_pretrained(base.folder), "hidden_size", 0)
    # What a pass computes, the with-sources share and padding included (as the time estimate
    # counts): each example's first form alone left the share out of the figure.
    tokens = round(computed_tokens_per_pass(cfg, examples))
    plan = TrainPlan(len(examples) - n_replay, n_replay, tokens, steps, seconds, memory_mb,
                     cfg.epochs, cfg.learning_rate, why, len(job.left_out), approved, unreviewed, cfg.accepted_only,
                     safetensors_parameters(base.folder), hidden)
    # The chosen preset as planned (with the expert's own changes), the others estimated.
    times = {**preset_seconds(cfg, base, examples), cfg.preset: seconds}
    plan.preset_seconds = {name: times[name] for name in PRESETS if name in times}
    plan.held_out_checks = len(job.checks)
    plan.speed_measured = bool(plan.parameters) and training_speed(current_setup(cfg, plan.parameters)).measured
    plan.settings = settings_in_words(replace(cfg, sources_passages=sources_passages(cfg, base)))  # 0 said as the number
    return plan


def adapted_config(cfg: TrainConfig, base: BaseModel, examples: list[Example], n_replay: int) -> tuple[TrainConfig, str]:
    """CFG with passes and micro batch chosen for this much data (train/recipe.py) when it
    adapts, and why in words ("" when it does not). A run whose steps are set by hand
    (max_steps) keeps its numbers as given."""
    if not cfg.adapt or cfg.max_steps:
        return cfg, ""
    sequences = len(epoch_batches(examples, 0, seed=cfg.seed, max_seq_len=cfg.max_seq_len, micro_batch=1,
                                  packing=cfg.packing, sources_every=sources_every(cfg)))
    steps_per_epoch = math.ceil(sequences / cfg.micro_batch / cfg.grad_accum)

    def seconds_per_pass(every: int) -> float:
        return estimate_run(base, replace(cfg, sources_every=every), examples, n_replay, steps_per_epoch,
                            steps_per_epoch)[0]

    adapted = adapt_recipe(cfg, len(examples) - n_replay, sequences, seconds_per_pass)
    return apply_recipe(cfg, adapted), adapted.reason


def planned_steps(cfg: TrainConfig, examples: list[Example]) -> tuple[int, int]:
    """The optimizer steps of a run of CFG on EXAMPLES, and the steps of one pass."""
    batches = epoch_batches(examples, 0, seed=cfg.seed, max_seq_len=cfg.max_seq_len, micro_batch=cfg.micro_batch,
                            packing=cfg.packing, sources_every=sources_every(cfg))
    steps_per_epoch = math.ceil(len(batches) / cfg.grad_accum)
    return cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs)), steps_per_epoch


def preset_seconds(chosen: TrainConfig, base: BaseModel, examples: list[Example]) -> dict[str, float]:
    """About how long each preset other than CHOSEN's would train these examples here, for
    the preset list. Each preset's replay share is made from the replay examples built for
    CHOSEN (cycled where a preset wants more): an estimate, not the run's exact data."""
    documents = [e for e in examples if not e.source.startswith("replay:")]
    replay = [e for e in examples if e.source.startswith("replay:")]
    out = {}
    for name, default in PRESETS.items():
        if name == chosen.preset:
            continue
        cfg = replace(default, collection_id=chosen.collection_id, accepted_only=chosen.accepted_only,
                      init_adapter_run=chosen.init_adapter_run, system_prompts=chosen.system_prompts)
        wanted = round(len(documents) * cfg.replay_ratio) if replay else 0
        mixed = documents + (replay * math.ceil(wanted / len(replay)))[:wanted] if wanted else documents
        cfg, _ = adapted_config(cfg, base, mixed, wanted)
        steps, steps_per_epoch = planned_steps(cfg, mixed)
        out[name] = estimate_run(base, cfg, mixed, wanted, steps, steps_per_epoch)[0]
    return out


def _pairs(n: int) -> str:
    return f"{n} pair{'' if n == 1 else 's'}"


def pairs_in_words(approved: int, unreviewed: int, accepted_only: bool) -> str:
    """Which pairs a run trains, with counts, as the plan starts."""
    if accepted_only:
        return (f"Trains the {_pairs(approved)} you approved" +
                (f" ({_pairs(unreviewed)} not reviewed yet {'is' if unreviewed == 1 else 'are'} left out)."
                 if unreviewed else "."))
    if not approved and not unreviewed:
        return "No pairs to train yet."
    if not unreviewed:
        return f"Trains the {_pairs(approved)} you approved."
    if not approved:
        return f"Trains all {_pairs(unreviewed)}: none reviewed yet (you can train only the ones you approve)."
    return f"Trains the {_pairs(approved)} you approved and {_pairs(unreviewed)} not reviewed yet."


def estimate_run(base: BaseModel, cfg: TrainConfig, examples: list, n_replay: int, steps: int,
                 steps_per_epoch: int) -> tuple[float, float]:
    """Seconds and MB a run of STEPS steps on EXAMPLES will take on this machine (rough: at the
    speed measured on the last runs of the same set-up here, or the prior; train/speed.py)."""
    from transformers import AutoConfig

    tokens = computed_tokens_per_pass(cfg, examples)
    model_config = AutoConfig.from_pretrained(base.folder)
    hidden = getattr(model_config, "hidden_size", 576)
    layers = getattr(model_config, "num_hidden_layers", 30)
    vocab = getattr(model_config, "vocab_size", 49152)
    params = safetensors_parameters(base.folder) or 12 * layers * hidden * hidden + vocab * hidden
    speed = training_speed(current_setup(cfg, params)).tokens_per_s  # measured here, or the prior
    trained_tokens = tokens * (steps / steps_per_epoch) * kl_factor(cfg, n_replay)
    sequence_tokens = cfg.max_seq_len * cfg.micro_batch
    # Activations kept for the backward pass, in fp32: per token and layer about 68 bytes a
    # hidden unit plus the attention scores (10 bytes a head and position: Korthikanti et
    # al., 2022, at twice their fp16 figures); and the logits with their softmax and
    # gradient, about four fp32 copies of the vocabulary. Measured against the peak memory of
    # runs on the bundled model (bench/bench_memory_estimate.py: 0.94 and 1.00 of what the
    # runs took, where the first formula promised half).
    heads = getattr(model_config, "num_attention_heads", 9)
    per_token = layers * hidden * (68 + 10 * heads * cfg.max_seq_len / hidden) + vocab * 16
    memory = params * 4 + sequence_tokens * per_token + 600e6  # weights, activations, runtime
    return trained_tokens / speed, memory / 1e6


def kl_factor(cfg: TrainConfig, n_replay: int) -> float:
    """The KL term's forward pass through the base: about a third of a training step more."""
    return 4 / 3 if cfg.replay_kl and n_replay else 1.0


def sources_every(cfg: TrainConfig) -> int:
    """How often a run of CFG trains the with-sources forms: one pass in every this many, 0: never."""
    return cfg.sources_every if cfg.train_with_sources else 0


def computed_tokens_per_pass(cfg: TrainConfig, examples: list[Example]) -> float:
    """The tokens a pass computes: each micro batch padded to its longest sequence, with the
    forms of an example that take turns (system prompts; the with-sources form, a long
    sequence of its own) averaged over the passes of one turn. Counting the first form's
    tokens alone, the plan promised 45 minutes for the 20-page handbook's five passes with
    sources, where the run computed about twice as many tokens."""
    if not examples:
        return 0.0
    every = sources_every(cfg)
    forms = max(len(e.variants) + 1 for e in examples)
    turns = math.lcm(forms, every) if every else forms
    total = 0
    for epoch in range(turns):
        for micro in epoch_batches(examples, epoch, seed=cfg.seed, max_seq_len=cfg.max_seq_len,
                                   micro_batch=cfg.micro_batch, packing=cfg.packing, sources_every=every):
            total += len(micro) * max(len(p.input_ids) for p in micro)
    return total / turns


class PlanJob(Job):
    """plan_training as a job: building the examples loads a tokenizer, and the first time
    for a base also writes its replay answers, which takes a while."""

    def __init__(self, workspace: Workspace, config: TrainConfig | None = None, base: str | None = None) -> None:
        super().__init__()
        self.train_job = TrainJob(workspace, config, base)

    def _run(self) -> TrainPlan:
        import_ml()
        db = self.train_job.workspace.connect()
        try:
            return plan_training(self.train_job, db, lambda m: self.report(0, None, m))
        finally:
            db.close()


@dataclass
class RunSummary:
    """One training run as the Train page and `kwdesk runs` list it."""

    id: int
    status: str
    preset: str
    steps: int
    total_steps: int | None
    losses: list[float]
    resumable: bool
    exported: bool
    error: str = ""  # why a failed run stopped
    collection: str | None = None  # the knowledge collection it trained
    export_strength: float = 1.0  # the share of the trained change its preset exports
    cannot_export: str | None = None  # why its method cannot become a model file (prefix tuning); None: it can

    @property
    def state_in_words(self) -> str:
        if self.status == "done":
            return "trained"
        if self.status == "running" and self.resumable:
            return "interrupted: can resume"  # its process is gone (closed or killed)
        if self.status in ("cancelled", "failed") and self.resumable:
            return f"{'stopped' if self.status == 'cancelled' else 'failed'}: can resume"
        return {"running": "training", "created": "not started", "cancelled": "stopped"}.get(self.status, self.status)


def training_runs(workspace: Workspace, db) -> list[RunSummary]:
    """The workspace's training runs, newest first, with what can be done with each."""
    exported_runs = exported_run_ids(db)
    collections = {c.id: c.name for c in list_collections(db)}
    out = []
    for run in training_run_rows(db):
        run_id, status, config, run_dir, metrics = run.id, run.status, run.config, run.path, run.metrics
        total = (run.saved_config() or {}).get("total_steps")
        losses = list(metrics.get("losses") or [])
        out.append(
            RunSummary(
                run_id, status, config.get("preset", ""), int(metrics.get("steps") or len(losses)), total, losses,
                # A run whose process was killed still says "running"; its lock is free.
                resumable=status in ("cancelled", "running", "created", "failed")
                and run_dir is not None
                and not held_elsewhere(run_dir / RUN_LOCK),
                exported=run_id in exported_runs,
                error=str(metrics.get("error") or ""),
                collection=collections.get(config.get("collection_id")),
                export_strength=float(config.get("export_strength", 1.0)),
                cannot_export=cannot_export(config.get("method", "lora")),
            )
        )
    return out
