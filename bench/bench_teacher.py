"""Teacher throughput: llama.cpp (what kwdesk uses) against transformers `generate` on the
same model (the bundled SmolLM2-135M-Instruct), the same prompts and the same lengths.

    .venv/bin/python bench/bench_teacher.py [--prompts 16] [--tokens 48]

Every prompt is one of kwdesk's question prompts (instructions and few-shot examples, then
a sentence). Each side writes exactly --tokens new tokens per prompt, greedy, end-of-text
suppressed, so that both do the same work. transformers runs the GGUF dequantized to
float32 (how transformers loads a GGUF), one prompt at a time and in batches of 8.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from docgen import INVENTED_FACTS  # noqa: E402

from kwdesk.core.data.prompts import question_messages  # noqa: E402
from kwdesk.core.data.teacher import default_threads  # noqa: E402
from kwdesk.core.models.bundled import bundled_model_path  # noqa: E402
from kwdesk.core.text.anchors import sentence_kind  # noqa: E402


def prompts(n: int) -> list[list[dict]]:
    sentences = (INVENTED_FACTS * (n // len(INVENTED_FACTS) + 1))[:n]
    return [question_messages(s, sentence_kind(s)) for s in sentences]


def bench_llama(messages_list, tokens: int) -> float:
    from llama_cpp import Llama

    llm = Llama(model_path=str(bundled_model_path()), n_ctx=2048, n_threads=default_threads(), verbose=False)
    eos = llm.token_eos()
    llm.create_chat_completion(messages=messages_list[0], max_tokens=4, temperature=0)  # warm-up
    start = time.perf_counter()
    made = 0
    for messages in messages_list:
        out = llm.create_chat_completion(
            messages=messages, max_tokens=tokens, temperature=0, logit_bias={eos: -1e9}, stop=[]
        )
        made += out["usage"]["completion_tokens"]
    elapsed = time.perf_counter() - start
    llm.close()
    assert made == tokens * len(messages_list), made
    return made / elapsed


def bench_transformers(messages_list, tokens: int, batch: int) -> float:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(default_threads())
    path = bundled_model_path()
    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, torch_dtype=torch.float32)
    model.eval()
    print(f"  (transformers loaded the GGUF in {time.perf_counter() - t0:.0f} s)")
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in messages_list]
    with torch.inference_mode():
        warm = tokenizer(texts[:1], return_tensors="pt")
        model.generate(**warm, max_new_tokens=2, do_sample=False)
        start = time.perf_counter()
        made = 0
        for i in range(0, len(texts), batch):
            enc = tokenizer(texts[i : i + batch], return_tensors="pt", padding=True)
            out = model.generate(
                **enc, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
            made += (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
        elapsed = time.perf_counter() - start
    return made / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=48)
    args = parser.parse_args()
    messages_list = prompts(args.prompts)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, threads {default_threads()}; "
          f"{args.prompts} prompts x {args.tokens} new tokens, greedy")
    llama = bench_llama(messages_list, args.tokens)
    print(f"llama.cpp (Q4_1 GGUF, kwdesk's teacher): {llama:6.1f} tokens/s")
    single = bench_transformers(messages_list, args.tokens, batch=1)
    print(f"transformers generate, batch 1 (fp32):    {single:6.1f} tokens/s")
    batched = bench_transformers(messages_list, args.tokens, batch=8)
    print(f"transformers generate, batch 8 (fp32):    {batched:6.1f} tokens/s")
    print(f"ratio llama.cpp / transformers: {llama / single:.1f}x (batch 1), {llama / batched:.1f}x (batch 8)")


if __name__ == "__main__":
    main()
