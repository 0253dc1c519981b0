"""Training examples from the workspace: chat-formatted Q&A with the loss on the answer
only, plain training texts, replay, and packing into fixed-size sequences.

Packing puts several whole examples into one sequence; a block-diagonal attention mask and
positions that restart per example keep them from seeing each other, so a packed batch
computes what the examples would compute alone, without the padding.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
from dataclasses import dataclass, field

IGNORE = -100
# The with-sources form of a pair holds the chat's passages (three for a large base): longer
# than a packed sequence, so it is cut at this length instead (a sequence of its own).
SOURCES_MAX_LEN = 2048


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]  # IGNORE where no loss is taken (the prompt)
    source: str  # "pair:12", "replay:3"
    # The same record under the other system prompts, trained in turn (for_epoch).
    variants: tuple[Example, ...] = ()
    # The record as the chat asks it with sources (the retrieved passages in the prompt): a
    # long sequence of its own, trained in the passes the recipe gives it (sources_every).
    sourced: Example | None = None
    # Context distillation: for each learned token in order, the top token ids and log-probs
    # of the base model that had the source passage in its prompt (distill_targets).
    teacher: tuple[list[list[int]], list[list[float]]] | None = None

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def learned_tokens(self) -> list[int]:
        """The tokens the loss is taken on (the answer and its end of turn), in order."""
        return [token for token, label in zip(self.input_ids, self.labels) if label != IGNORE]

    def for_epoch(self, epoch: int, index: int, sources_every: int = 0) -> Example:
        """The encoding trained in EPOCH: the system prompts take turns, shifted by the
        example's INDEX so that every epoch sees each prompt about as often; the with-sources
        form instead in one pass of every SOURCES_EVERY (0: never)."""
        turn = epoch + index
        if self.sourced is not None and sources_every > 0 and turn % sources_every == sources_every - 1:
            return self.sourced
        if not self.variants:
            return self
        forms = (self, *self.variants)
        return forms[turn % len(forms)]


def encode_pair(tokenizer, question: str, answer: str, source: str, max_len: int, system: str | None = None) -> Example:
    """The chat-formatted pair under SYSTEM (None: no system message, the template's
    default); loss on the answer and the end-of-turn token only."""
    head = [{"role": "system", "content": system}] if system else []
    prompt = tokenizer.apply_chat_template(head + [{"role": "user", "content": question}], tokenize=False,
                                           add_generation_prompt=True)
    full = tokenizer.apply_chat_template(
        head + [{"role": "user", "content": question}, {"role": "assistant", "content": answer}], tokenize=False
    )
    if not full.startswith(prompt):
        raise ValueError("the chat template does not put the prompt before the answer")
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    answer_ids = tokenizer(full[len(prompt) :], add_special_tokens=False).input_ids
    input_ids = (prompt_ids + answer_ids)[:max_len]
    labels = ([IGNORE] * len(prompt_ids) + answer_ids)[:max_len]
    return Example(input_ids, labels, source)


def encode_text(tokenizer, text: str, source: str, max_len: int) -> Example:
    """A training text (a rephrasing): every token is learned, then end of text."""
    ids = tokenizer(text, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
    ids = ids[:max_len]
    return Example(ids, list(ids), source)


def encode_record(tokenizer, record: dict, max_len: int, systems: tuple[str | None, ...] = (None,)) -> Example:
    """A training record {"source", "question", "answer"}: a chat pair, or a text when the
    question is empty. A pair is encoded under each of SYSTEMS (system prompts; None: the
    template's default), the first the example, the others its variants; a record's
    "answers" {system prompt: answer} (replay: the base's own answer under that prompt)
    replace its answer under those prompts; its "with_sources" {"system", "answer"} is its
    sourced form (the prompt with the passages the chat would retrieve)."""
    if not record["question"]:
        return encode_text(tokenizer, record["answer"], record["source"], max_len)
    by_system = record.get("answers") or {}
    first, *others = [encode_pair(tokenizer, record["question"], by_system.get(system, record["answer"]) if system else
                                  record["answer"], record["source"], max_len, system)
                      for system in systems or (None,)]
    # A template that ignores system prompts gives the same tokens: one form is enough.
    first.variants = tuple(o for o in others if o.input_ids != first.input_ids)
    sourced = record.get("with_sources")
    if sourced:  # the chat's prompt with the passages
        form = encode_pair(tokenizer, record["question"], sourced["answer"], record["source"],
                           max(max_len, SOURCES_MAX_LEN), sourced["system"])
        if any(label != IGNORE for label in form.labels):
            first.sourced = form
    return first


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    """The learning-rate factor at STEP: linear warm-up, then cosine decay to 10%."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def dataset_sha256(items: list) -> str:
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass
class Pack:
    input_ids: list[int]
    labels: list[int]
    position_ids: list[int]
    segments: list[int]  # which example each token belongs to, 0.. within the pack
    sources: list[str]
    # (position whose logits predict a learned token, teacher's top ids, their log-probs)
    teacher: list[tuple[int, list[int], list[float]]] = field(default_factory=list)


def pack_examples(examples: list[Example], max_len: int) -> list[Pack]:
    """First-fit: each example goes into the first pack with room, in the given order."""
    packs: list[Pack] = []
    for example in examples:
        target = next((p for p in packs if len(p.input_ids) + len(example) <= max_len), None)
        if target is None:
            target = Pack([], [], [], [], [])
            packs.append(target)
        segment = len(target.sources)
        offset = len(target.input_ids)
        labels = list(example.labels)
        labels[0] = IGNORE  # never learn a token from the example before it
        if example.teacher is not None:
            learned = [t for t, label in enumerate(example.labels) if label != IGNORE]
            target.teacher += [(offset + t - 1, ids, logprobs) for t, ids, logprobs in zip(learned, *example.teacher) if t]
        target.input_ids += example.input_ids
        target.labels += labels
        target.position_ids += list(range(len(example)))
        target.segments += [segment] * len(example)
        target.sources.append(example.source)
    return packs


def unpacked(examples: list[Example]) -> list[Pack]:
    """One example per sequence (padded batches): the baseline that packing is measured against."""
    return [pack_examples([e], len(e))[0] for e in examples]


def collate(packs: list[Pack], pad_id: int):
    """Tensors for one forward pass: right-padded, with a block-diagonal causal mask (a
    padding mask where each sequence holds one example)."""
    import torch

    length = max(len(p.input_ids) for p in packs)
    batch = len(packs)
    input_ids = torch.full((batch, length), pad_id, dtype=torch.long)
    labels = torch.full((batch, length), IGNORE, dtype=torch.long)
    positions = torch.zeros((batch, length), dtype=torch.long)
    segments = torch.full((batch, length), -1, dtype=torch.long)
    for row, pack in enumerate(packs):
        n = len(pack.input_ids)
        input_ids[row, :n] = torch.tensor(pack.input_ids)
        labels[row, :n] = torch.tensor(pack.labels)
        positions[row, :n] = torch.tensor(pack.position_ids)
        segments[row, :n] = torch.tensor(pack.segments)
    if all(len(pack.sources) == 1 for pack in packs):
        # One example a sequence: the plain padding mask. A prefix's keys and values are put
        # before the sequence (peft widens a 2-D mask by them; a block mask it cannot).
        mask = (segments >= 0).long()
        return {"input_ids": input_ids, "labels": labels, "position_ids": positions, "attention_mask": mask}
    same = segments[:, :, None] == segments[:, None, :]
    causal = torch.tril(torch.ones(length, length, dtype=torch.bool))
    valid = (segments >= 0)[:, :, None] & (segments >= 0)[:, None, :]
    allowed = same & causal[None] & valid
    # Padding rows attend to themselves only, so that no row of the mask is empty.
    allowed |= torch.eye(length, dtype=torch.bool)[None]
    return {"input_ids": input_ids, "labels": labels, "position_ids": positions, "attention_mask": allowed[:, None]}


def replay_answer_mask(packs: list[Pack], length: int):
    """True at the answer tokens of replay examples (where a label is learned), per row of
    the collated batch: where the personal model is held to the base model's distribution."""
    import torch

    mask = torch.zeros((len(packs), length), dtype=torch.bool)
    for row, pack in enumerate(packs):
        replay = [source.startswith("replay:") for source in pack.sources]
        for t, (segment, label) in enumerate(zip(pack.segments, pack.labels)):
            mask[row, t] = replay[segment] and label != IGNORE
    return mask


def teacher_targets(packs: list[Pack], length: int):
    """The collated batch's context-distillation targets: (top ids [B, L, K], their log-probs
    [B, L, K], where there is one [B, L]); None when no pack has any."""
    import torch

    entries = [(row, *entry) for row, pack in enumerate(packs) for entry in pack.teacher]
    if not entries:
        return None
    k = len(entries[0][2])
    ids = torch.zeros((len(packs), length, k), dtype=torch.long)
    logprobs = torch.zeros((len(packs), length, k), dtype=torch.float32)
    mask = torch.zeros((len(packs), length), dtype=torch.bool)
    for row, position, top, values in entries:
        ids[row, position] = torch.tensor(top)
        logprobs[row, position] = torch.tensor(values)
        mask[row, position] = True
    return ids, logprobs, mask


# Prefix tuning: keys and values for 32 positions before the prompt, in every layer, made by a
# small network (one hidden layer of 256) from 32 learned vectors while training, as its
# authors trained it: learned directly, the keys and values start far from anything the
# model expects (loss 9-12 on the bundled model where the base has 2.2) and diverge at rates
# that learn; through the network they start near the base and learn at LoRA's rate.
PREFIX_TOKENS = 32
PREFIX_HIDDEN = 256
DISTILL_TOP = 16  # teacher tokens kept per position: most of the probability mass, a fraction of the memory
PASSAGE_INTRO = "A passage from the user's documents:\n"
TEXT_REQUEST = "What does the passage say?"


def distill_targets(model, tokenizer, example: Example, question: str | None, passage: str, system: str,
                    device) -> tuple[list[list[int]], list[list[float]]]:
    """What the base model with PASSAGE in its system prompt predicts at each learned token of
    EXAMPLE (its answer, or the whole of a training text when QUESTION is None): the top
    DISTILL_TOP ids and log-probs, read along the example's own tokens (teacher forcing).
    MODEL must be the base without an adapter."""
    import torch

    learned = example.learned_tokens
    messages = [{"role": "system", "content": f"{system}\n\n{PASSAGE_INTRO}{passage}"},
                {"role": "user", "content": question or TEXT_REQUEST}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    ids = torch.tensor([prompt_ids + learned[:-1]], device=device)
    with torch.no_grad():
        logits = model(input_ids=ids, logits_to_keep=len(learned)).logits[0].float()
    top = torch.log_softmax(logits, dim=-1).topk(DISTILL_TOP, dim=-1)
    return top.indices.tolist(), top.values.tolist()


def peft_config(method: str, rank: int, alpha: int, dropout: float, target_modules):
    """The peft adapter for METHOD (train/methods.py says what each is for): "lora", "dora"
    (LoRA with magnitudes), "prefix" (learned keys and values) or "ia3" (scales of keys, values and the feed-forward input of the
    down projection, wherever TARGET_MODULES has them)."""
    from peft import IA3Config, LoraConfig, PrefixTuningConfig

    if method == "prefix":
        return PrefixTuningConfig(num_virtual_tokens=PREFIX_TOKENS, prefix_projection=True,
                                  encoder_hidden_size=PREFIX_HIDDEN, task_type="CAUSAL_LM")
    if method in ("lora", "dora"):
        return LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules),
                          task_type="CAUSAL_LM", use_dora=method == "dora")
    if method == "ia3":
        targets = [m for m in ("k_proj", "v_proj", "down_proj") if m in target_modules] or ["k_proj", "v_proj"]
        return IA3Config(target_modules=targets, feedforward_modules=[m for m in targets if m == "down_proj"],
                         task_type="CAUSAL_LM")
    raise ValueError(f"unknown training method {method!r}")


def training_loss(model, batch: dict, replay_mask=None, kl_weight: float = 0.0, teacher=None,
                  distill_weight: float = 0.0):
    """The next-token loss on the batch's labels, plus KL_WEIGHT times the KL divergence from
    the base model's next-token distribution to the trained one at the replay answer tokens.

    Replay alone trains on the base's greedy answers (one token per position); the KL term
    keeps the whole distribution there, the base's "manners", which is what forgetting
    loses (Learning without Forgetting, Li & Hoiem 2017; the same idea as distillation). The
    base is the same network with the LoRA adapter switched off, so no second copy is held.

    Logits are computed only where a label is learned: the output layer (vocabulary x
    hidden, a fifth of a small model's weights) at every prompt token was most of the
    work that trained nothing. Same loss as the model's own (mean over learned tokens).
    """
    import torch
    import torch.nn.functional as F

    inputs = {k: v for k, v in batch.items() if k != "labels"}
    labels = batch["labels"]
    # The logits at position t predict token t + 1.
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE
    logits = _logits_at(model, inputs, keep)
    loss = F.cross_entropy(logits.float(), labels[:, 1:][keep[:, :-1]])
    if distill_weight and teacher is not None:
        loss = loss + distill_weight * _distill_kl(logits, keep, teacher)
    if not kl_weight or replay_mask is None or not bool(replay_mask.any()):
        return loss
    at = torch.zeros_like(keep)
    at[:, :-1] = replay_mask[:, 1:].to(keep.device)
    peft_model = getattr(model, "module", model)  # under accelerate, the wrapped PeftModel
    with torch.no_grad(), peft_model.disable_adapter():
        base_logits = _logits_at(model, inputs, at)
    # Both are flattened row by row, so the replay rows of the kept logits line up with them.
    trained = F.log_softmax(logits[at[keep]].float(), dim=-1)
    base = F.log_softmax(base_logits.float(), dim=-1)
    kl = F.kl_div(trained, base, log_target=True, reduction="batchmean")
    return loss + kl_weight * kl


def _distill_kl(logits, keep, teacher):
    """KL from the teacher's distribution (the base with the passage in its prompt) to the
    trained model's, at the positions that have one (Knowledge Modules' deep context
    distillation, on the logits). Over the teacher's top DISTILL_TOP tokens and one bucket for
    all the rest, so that it is exactly 0 when the two agree and still pulls down what the
    teacher thinks unlikely."""
    import torch
    import torch.nn.functional as F

    ids, logprobs, mask = (t.to(logits.device) for t in teacher)
    at = mask & keep
    if not bool(at.any()):
        return logits.new_zeros(())
    student = F.log_softmax(logits[at[keep]].float(), dim=-1).gather(-1, ids[at])
    target = logprobs[at]

    def with_rest(top):  # log-probs of the top tokens and of the rest of the vocabulary
        rest = torch.log1p(-top.exp().sum(-1, keepdim=True).clamp(max=1 - 1e-6))
        return torch.cat([top, rest], dim=-1)

    target, student = with_rest(target), with_rest(student)
    return (target.exp() * (target - student)).sum(-1).mean()


def _logits_at(model, inputs: dict, where):
    """The logits at the positions WHERE is true, flattened row by row: (n, vocabulary)."""
    try:
        return model(**inputs, logits_to_keep=where).logits
    except TypeError:  # a model class without boolean logits_to_keep: every position, then pick
        return model(**inputs).logits[where]


def epoch_batches(examples: list[Example], epoch: int, *, seed: int, max_seq_len: int, micro_batch: int,
                  packing: bool = True, sources_every: int = 0) -> list[list[Pack]]:
    """The micro-batches of EPOCH: the examples in the epoch's order, each in the epoch's
    form (Example.for_epoch), packed (or one a sequence), MICRO_BATCH sequences a batch. The
    training job and a bundle's train.py both call this, so they train the same."""
    ordered = [examples[i].for_epoch(epoch, i, sources_every) for i in epoch_order(len(examples), seed, epoch)]
    packs = pack_examples(ordered, max_seq_len) if packing else unpacked(ordered)
    return [packs[i : i + micro_batch] for i in range(0, len(packs), micro_batch)]


def epoch_order(count: int, seed: int, epoch: int) -> list[int]:
    """The order of examples in an epoch: the same for the same seed, also after a resume."""
    order = list(range(count))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return order


def training_dtype(torch, cuda: bool):
    """The weights' dtype: bf16 on a GPU that has it, else float32. (float16 without a loss
    scaler lets AdamW's updates underflow, so a GPU without bf16 trains in float32.)"""
    return torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32


@functools.lru_cache(maxsize=1)
def cpu_has_bf16(torch) -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16: AMD Zen 4 and later, Intel
    Cooper Lake; AMX: Intel Sapphire Rapids and later). Elsewhere bf16 is emulated and slower
    than float32. Asked once (every training step asks it)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    except RuntimeError:
        return False


def compute_precision(torch, device) -> str:
    """How a training step multiplies: "bf16" (torch.autocast) on a CPU that has bf16, else
    the weights' own dtype ("fp32", or bf16 weights on a GPU).

    Measured on a 2-core AMD EPYC (Zen 4) with the bundled 135M model: the training job ran
    2.1x the trained tokens a second under autocast, the losses within 0.02 of float32's
    (bench/bench_cpu_bf16.py, BENCHMARKS.md "bf16 products on the CPU"). The weights, the
    adapter and the optimizer stay float32; only the products are bf16, as on a GPU.
    KWDESK_CPU_BF16=0 turns it off (a comparison, or a CPU that misreports)."""
    import os

    if getattr(device, "type", device) != "cpu":
        return "weights"
    if os.environ.get("KWDESK_CPU_BF16") == "0":
        return "fp32"
    return "bf16" if cpu_has_bf16(torch) else "fp32"


def precision_context(torch, device):
    """The context a training step's forward pass runs in (compute_precision)."""
    import contextlib

    if compute_precision(torch, device) == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class StepDone:
    """One optimizer step of ``optimizer_steps``."""

    step: int  # steps done so far, this one included
    loss: float  # the step's loss (averaged over processes where there are several)
    tokens: int  # real tokens trained in this step (no padding)
    sources: list[list[list[str]]]  # per micro-batch, per packed sequence, the sources of its examples
    computed_tokens: int = 0  # the tokens computed, padding included (the unit of train/speed.py)


def optimizer_steps(model, optimizer, scheduler, micro_batches, params, *, first_step: int, total_steps: int,
                    grad_accum: int, pad_id: int, device, replay_kl: float = 0.0, distill: float = 0.0,
                    backward=None, clip=None, no_sync=None, mean_over_processes=None):
    """The training loop, one optimizer step per item yielded (a StepDone), from FIRST_STEP to
    TOTAL_STEPS: GRAD_ACCUM micro-batches from MICRO_BATCHES, the loss on answers (and the KL
    term at replay answers), clipped gradients, the optimizer and the learning-rate schedule.

    kwdesk's training job and a bundle's train.py (under accelerate) both run this, so a
    bundle trains exactly what kwdesk would. The hooks are accelerate's where it is used:
    BACKWARD(loss), CLIP(params), NO_SYNC(is_last_micro_batch) -> a context manager, and
    MEAN_OVER_PROCESSES(loss tensor) -> float. Stopping (cancel, checkpoints) is the
    caller's, between steps."""
    import contextlib

    import torch

    backward = backward or (lambda loss: loss.backward())
    clip = clip or (lambda ps: torch.nn.utils.clip_grad_norm_(ps, 1.0))
    step = first_step
    while step < total_steps:
        optimizer.zero_grad(set_to_none=True)
        step_loss = torch.zeros((), device=device)
        tokens, computed, sources = 0, 0, []
        for micro in range(grad_accum):
            packs = next(micro_batches)
            sources.append([list(p.sources) for p in packs])
            tokens += sum(len(p.input_ids) for p in packs)
            batch = {k: v.to(device) for k, v in collate(packs, pad_id).items()}
            computed += batch["input_ids"].numel()
            replay = replay_answer_mask(packs, batch["input_ids"].shape[1]) if replay_kl else None
            teacher = teacher_targets(packs, batch["input_ids"].shape[1]) if distill else None
            last = micro == grad_accum - 1
            # Gradients are averaged across processes only on the last micro-batch of a step.
            with no_sync(last) if no_sync is not None else contextlib.nullcontext():
                with precision_context(torch, device):
                    loss = training_loss(model, batch, replay, replay_kl, teacher, distill) / grad_accum
                backward(loss)
            step_loss += loss.detach()
        clip(params)
        optimizer.step()
        scheduler.step()
        step += 1
        value = mean_over_processes(step_loss) if mean_over_processes is not None else step_loss.item()
        yield StepDone(step, value, tokens, sources, computed)
