"""Chat speed: the exported Q4_K_M GGUF on llama.cpp against the same model under
transformers (fp32), the same prompts, greedy, the same number of new tokens.

    .venv/bin/python bench/bench_chat.py [--prompts 6] [--tokens 64]

The model is the bundled base, exported through kwdesk's own path (HF folder -> F16 GGUF
with llama.cpp's converter -> Q4_K_M with llama.cpp's quantizer): a personal model is the
same architecture and size, so it chats at the same speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kwdesk.core.data.teacher import default_threads  # noqa: E402
from kwdesk.core.models.base_models import resolve_base  # noqa: E402
from kwdesk.core.models.gguf import convert_to_gguf, quantize  # noqa: E402

PROMPTS = [
    "How high is the Larkspur Dam?",
    "Explain in two sentences why the sky is blue.",
    "Give me three tips for sleeping better.",
    "What is photosynthesis?",
    "Write a short, friendly email declining a meeting invitation.",
    "What is the difference between weather and climate?",
]


def bench_gguf(path: Path, prompts: list[str], tokens: int) -> float:
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=1024, n_threads=default_threads(), verbose=False)
    eos = llm.token_eos()
    llm.create_chat_completion(messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
    start = time.perf_counter()
    made = 0
    for prompt in prompts:
        stream = llm.create_chat_completion(
            messages=[{"role": "user", "content": prompt}], max_tokens=tokens, temperature=0, stream=True,
            logit_bias={eos: -1e9},
        )
        made += sum(1 for chunk in stream if chunk["choices"][0]["delta"].get("content"))
    elapsed = time.perf_counter() - start
    llm.close()
    return made / elapsed


def bench_transformers(folder: Path, prompts: list[str], tokens: int) -> float:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(default_threads())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    made = 0
    with torch.inference_mode():
        start = time.perf_counter()
        for prompt in prompts:
            ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                                return_tensors="pt", return_dict=True)
            out = model.generate(**ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
            made += out.shape[1] - ids["input_ids"].shape[1]
        elapsed = time.perf_counter() - start
    return made / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    prompts = (PROMPTS * 4)[: args.prompts]
    base = resolve_base()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, threads {default_threads()}; "
          f"{len(prompts)} prompts x {args.tokens} new tokens, greedy")
    with tempfile.TemporaryDirectory() as tmp:
        f16 = convert_to_gguf(base.folder, Path(tmp) / "model-F16.gguf", "bench")
        q4 = quantize(f16, Path(tmp) / "model-Q4_K_M.gguf", "Q4_K_M")
        gguf = bench_gguf(q4, prompts, args.tokens)
        print(f"llama.cpp, Q4_K_M GGUF (streaming): {gguf:6.1f} tokens/s")
    hf = bench_transformers(base.folder, prompts, args.tokens)
    print(f"transformers, fp32 merged model:    {hf:6.1f} tokens/s")
    print(f"ratio: {gguf / hf:.1f}x")


if __name__ == "__main__":
    main()
