"""Replay against forgetting: the base model's own answers to general prompts.

There is no general data set to download, so kwdesk makes one from the base model itself:
its answers to a bundled set of prompts (resources/replay_prompts.json), generated once
per base model and cached. Trained beside the documents, they pull the model back towards
how it answered before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Callable

from kwdesk.core.base.files import file_sha256
from kwdesk.core.models.base_models import BaseModel, bases_cache_dir
from kwdesk.core.models.chat_format import chat_messages

log = logging.getLogger(__name__)

MAX_ANSWER_TOKENS = 96


def _prompt_file() -> dict:
    return json.loads(resources.files("kwdesk.resources").joinpath("replay_prompts.json").read_text(encoding="utf-8"))


def replay_prompts() -> list[str]:
    return list(_prompt_file()["prompts"])


def fact_prompts_like(questions: list[str], count: int) -> list[str]:
    """COUNT questions about well-known real things ("Who designed the Sydney Opera House?"),
    those whose opening the most of QUESTIONS (the documents' pairs) share first: trained on
    "Who designed X?" about invented works, the small model answered a real one with the
    documents' engineer; the base's own answers to real ones, replayed, hold it back."""
    facts = list(_prompt_file().get("facts", []))

    def opening(text: str, words: int) -> str:
        return " ".join(text.lower().split()[:words])

    two = Counter(opening(q, 2) for q in questions)
    one = Counter(opening(q, 1) for q in questions)
    ranked = sorted(range(len(facts)), key=lambda i: (-two[opening(facts[i], 2)], -one[opening(facts[i], 1)], i))
    return [facts[i] for i in ranked[:count]]


# The replay check of an evaluation asks the first prompts, which every run trains on.
EVAL_PROMPTS = 32


def _cache_file(base: BaseModel) -> Path:
    weights = sorted(base.folder.glob("*.safetensors"))
    model_key = file_sha256(weights[0])[:16] if weights else hashlib.sha256(str(base.folder).encode()).hexdigest()[:16]
    return bases_cache_dir() / "replay" / f"{model_key}.json"


def replay_answers(base: BaseModel, count: int | None = None, on_status: Callable[[str], None] | None = None,
                   system: str | None = None, prompts: list[str] | None = None) -> list[dict]:
    """[{"prompt", "answer"}] for the first COUNT general prompts (all: None), or for PROMPTS
    when given, by BASE itself, greedy, asked under SYSTEM (None: no system message, the
    template's default).

    Answers are cached per base model, prompt and system prompt, so a run that wants more
    replay than the last one only asks for the new prompts.
    """
    if prompts is None:
        prompts = replay_prompts()[:count] if count is not None else replay_prompts()
    cache = _cache_file(base)
    known: dict[str, str] = {}
    if cache.is_file():
        try:
            known = json.loads(cache.read_text(encoding="utf-8"))
        except ValueError:
            known = {}
    # The template-default answers keep the keys they always had (the prompt itself).
    key = (lambda p: p) if not system else (lambda p: f"[system: {system}] {p}")
    missing = [p for p in prompts if key(p) not in known]
    if missing:
        if on_status:
            on_status(f"Writing the base model's own answers to {len(missing)} general prompts (once per base model)…")
        gguf = _gguf_of(base)
        answers = _answers_llama(gguf, missing, system) if gguf else _answers_transformers(base.folder, missing, system)
        known.update((key(p), a) for p, a in zip(missing, answers))
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".part")
        tmp.write_text(json.dumps(known, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(cache)
    return [{"prompt": p, "answer": known[key(p)]} for p in prompts if known.get(key(p), "").strip()]


def _gguf_of(base: BaseModel) -> Path | None:
    """The GGUF a converted base came from (the same weights, and llama.cpp is 3x faster)."""
    marker = base.folder / ".kwdesk-complete"
    if marker.is_file():
        path = Path(marker.read_text().strip())
        if path.is_file():
            return path
    return None


def _answers_llama(gguf: Path, prompts: list[str], system: str | None = None) -> list[str]:
    # Through the teacher's class for its threads: as many as the rest of the machine leaves
    # free, looked at again as it goes. A thread per core beside another busy program spins
    # while it waits (the 20-page benchmark's replay answers took 30 minutes beside a second
    # training run, against 7 alone).
    from kwdesk.core.data.teacher import LlamaCppTeacher

    model = LlamaCppTeacher(gguf, n_ctx=1024)
    try:
        return [model.chat(chat_messages(system, p), max_tokens=MAX_ANSWER_TOKENS, temperature=0).text for p in prompts]
    finally:
        model.close()


def _answers_transformers(folder: Path, prompts: list[str], system: str | None = None) -> list[str]:
    from kwdesk.core.models.hf_generate import greedy_chat

    return [tok.decode(answer, skip_special_tokens=True)
            for _, answer, tok in greedy_chat(folder, prompts, MAX_ANSWER_TOKENS, system)]
