"""Greedy chat answers under transformers: the reference that exports are checked against,
and the way replay answers are made for bases that did not come from a GGUF file."""

from __future__ import annotations

from pathlib import Path

from kwdesk.core.models.chat_format import chat_messages


def greedy_chat(folder: Path, prompts: list[str], max_new_tokens: int,
                system: str | None = None) -> list[tuple[list[int], list[int], object]]:
    """For each prompt (under SYSTEM; None: no system message): its chat-formatted token
    ids, the greedy answer's token ids, and the tokenizer (to decode them)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, use_safetensors=True).eval()
    out = []
    with torch.inference_mode():
        for prompt in prompts:
            ids = tokenizer.apply_chat_template(
                chat_messages(system, prompt), add_generation_prompt=True, return_tensors="pt", return_dict=True
            )["input_ids"]
            generated = model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False
            )[0, ids.shape[1] :].tolist()
            out.append((ids[0].tolist(), generated, tokenizer))
    return out


def stop_ids(tokenizer) -> set[int]:
    """The token ids that end an answer: the tokenizer's end of text and the chat turn's end."""
    return {i for i in (tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>"))
            if isinstance(i, int) and i >= 0}


def greedy_batch(peft, prompts: list[list[int]], max_tokens: int, *, adapter: bool, eos: set[int],
                 device) -> list[list[int]]:
    """The greedy continuations of several prompts (token ids) by PEFT (a peft model; with its
    adapter or without), decoded together: left-padded, one forward pass a token for all of
    them. On the CPU a pass over eight sequences costs little more than over one (the
    weights are read once), which is where the time goes.

    kwdesk's own loop with a key-value cache: transformers' `generate` on a prefix-tuned peft
    model answers as the base does (the prefix is not put in the cache it starts from). Used
    for answers from an adapter under transformers (chat/peft_engine) and for the held-out
    checks while training (train/early_stop)."""
    import contextlib
    import inspect

    import torch

    config = peft.active_peft_config
    prefix = adapter and config.is_prompt_learning
    offset = config.num_virtual_tokens if prefix else 0
    # LoRA-like adapters live in the base's layers: switched off for the base's answers.
    # A prefix is not in the layers at all: the base model alone, with or without its cache.
    switched = contextlib.nullcontext() if adapter or config.is_prompt_learning else peft.disable_adapter()
    network = peft.get_base_model()
    parameters = inspect.signature(network.forward).parameters
    # transformers 5 names the cache argument `cache` (`past_key_values` is deprecated).
    cache_argument = "cache" if "cache" in parameters else "past_key_values"
    # Only the last position's logits: the vocabulary at every prompt position is most of the memory.
    last_only = {"logits_to_keep": 1} if "logits_to_keep" in parameters else {}
    rows, longest = len(prompts), max(len(p) for p in prompts)
    pad = min(eos) if eos else 0  # any id: the mask hides it
    step = torch.tensor([[pad] * (longest - len(p)) + list(p) for p in prompts], device=device)
    real = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in prompts], device=device)
    # The prefix's virtual tokens come first and are seen by every row.
    mask = torch.cat([torch.ones((rows, offset), dtype=torch.long, device=device), real], 1)
    # Each row counts its positions from its first real token (after the prefix, as in training).
    positions = offset + (real.cumsum(1) - 1).clamp(min=0)
    out: list[list[int]] = [[] for _ in prompts]
    finished = [False] * rows
    with switched, torch.inference_mode():
        cache = peft.get_prompt(rows, max_cache_len=offset + longest + max_tokens) if prefix else None
        for _ in range(max_tokens):
            result = network(input_ids=step, attention_mask=mask, position_ids=positions, use_cache=True,
                             **{cache_argument: cache}, **last_only)
            cache = result.cache if getattr(result, "cache", None) is not None else result.past_key_values
            tokens = result.logits[:, -1].argmax(-1).tolist()
            for row, token in enumerate(tokens):
                if finished[row]:
                    continue
                if token in eos:
                    finished[row] = True
                else:
                    out[row].append(token)
            if all(finished):
                break
            step = torch.tensor(tokens, device=device)[:, None]
            positions = positions[:, -1:] + 1
            mask = torch.cat([mask, torch.ones((rows, 1), dtype=torch.long, device=device)], 1)
    return out
