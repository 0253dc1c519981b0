"""Answers from a trained adapter under transformers, as a user of PEFT loads it: for the
methods llama.cpp cannot run (prefix tuning), and to measure an adapter in the format a
PEFT or vLLM user takes away, beside the model file.

The base and the adapter are loaded once (`PeftModels`); `engine(adapter=...)` gives the
trained model or the base (the same weights with the adapter switched off), each asked
like a ChatEngine (`Answering.complete`: the same prompts, sources and system prompts).

Greedy decoding is kwdesk's own loop with a key-value cache: transformers' `generate` on a
peft prefix-tuned model answers as the base does (peft 0.21, transformers 5.x: the prefix is
not put in the cache it starts from), which would measure nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path

from kwdesk.core.chat.engine import Answering
from kwdesk.core.models.chat_format import sources_top_k
from kwdesk.core.models.hf_generate import greedy_batch, stop_ids
from kwdesk.core.store.workspace import Workspace

# The context of a model whose configuration does not say.
N_CTX = 4096


class PeftModels:
    """BASE_FOLDER under transformers (float32 on the CPU, the dtype training used on a GPU)
    with the adapter in ADAPTER_DIR on it."""

    def __init__(self, base_folder: Path, adapter_dir: Path) -> None:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from kwdesk.core.models.model_files import check_safetensors_folder
        from kwdesk.core.train.train_data import training_dtype

        check_safetensors_folder(base_folder, what="base model")
        check_safetensors_folder(adapter_dir, what="adapter")
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = training_dtype(torch, self.device == "cuda")  # the adapter's numbers as they were trained
        self.tokenizer = AutoTokenizer.from_pretrained(base_folder)
        base = AutoModelForCausalLM.from_pretrained(base_folder, dtype=dtype, use_safetensors=True)
        self.parameters = base.num_parameters()  # the base's own, before the adapter joins it
        self.model = PeftModel.from_pretrained(base, adapter_dir).to(self.device).eval()
        self.context = int(getattr(base.config, "max_position_embeddings", N_CTX) or N_CTX)
        self.lock = threading.Lock()  # one answer at a time: the adapter is switched per answer
        self.eos = stop_ids(self.tokenizer)

    def engine(self, workspace: Workspace, *, adapter: bool, name: str, collection_id: int | None = None) -> "PeftEngine":
        return PeftEngine(self, workspace, adapter=adapter, name=name, collection_id=collection_id)

    def close(self) -> None:
        self.model = None

    def greedy(self, prompt_ids: list[int], max_tokens: int, adapter: bool) -> list[int]:
        """The greedy continuation of PROMPT_IDS (token ids), with the adapter or without."""
        return self.greedy_many([prompt_ids], max_tokens, adapter)[0]

    def greedy_many(self, prompts: list[list[int]], max_tokens: int, adapter: bool) -> list[list[int]]:
        """The greedy continuations of several prompts, decoded together (hf_generate.greedy_batch)."""
        with self.lock:
            return greedy_batch(self.model, prompts, max_tokens, adapter=adapter, eos=self.eos, device=self.device)


class PeftEngine(Answering):
    """The trained model (ADAPTER) or its base, under transformers, answering like a ChatEngine."""

    def __init__(self, models: PeftModels, workspace: Workspace, *, adapter: bool, name: str,
                 collection_id: int | None = None) -> None:
        self.models = models
        self.workspace = workspace
        self.adapter = adapter
        self.model_name = name
        self.collection_id = collection_id
        self.n_ctx = models.context  # no context is allocated ahead: the model's whole length
        self.sources_top_k = sources_top_k(models.parameters)  # as a model file of this base is asked

    def token_count(self, text: str) -> int:
        return len(self.models.tokenizer(text, add_special_tokens=False).input_ids)

    def context_length(self) -> int:
        return self.models.context

    def _prompt_ids(self, messages: list[dict]) -> list[int]:
        tokenizer = self.models.tokenizer
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return tokenizer(prompt, add_special_tokens=False).input_ids

    def _greedy(self, messages: list[dict], max_tokens: int) -> str:
        ids = self.models.greedy(self._prompt_ids(messages), max_tokens, self.adapter)
        return self.models.tokenizer.decode(ids, skip_special_tokens=True)

    def complete_many(self, questions: list[dict], max_tokens: int = 128) -> list[str]:
        """The answers to QUESTIONS decoded together (PeftModels.greedy_many): the same as
        `complete` one by one, in a fraction of the time on the CPU."""
        prompts = [self._prompt_ids(self.question_messages(**q, max_tokens=max_tokens)) for q in questions]
        outs = self.models.greedy_many(prompts, max_tokens, self.adapter)
        return [self.models.tokenizer.decode(ids, skip_special_tokens=True).strip() for ids in outs]

    def close(self) -> None:
        """The models are the PeftModels' to close (the base and the trained model share them)."""
