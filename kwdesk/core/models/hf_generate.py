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
