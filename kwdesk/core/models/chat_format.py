"""How kwdesk talks to a chat model: the system prompt every front end and export uses.

Kept in one place because the exported Modelfile, the chat engine and the evaluation must
ask with the same words: a model's answers shift with its system prompt.
"""

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly and correctly."
# The system prompt of the evaluation: short answers, as the probe references are short.
EVAL_SYSTEM_PROMPT = "You are a helpful assistant. Answer the question briefly and correctly."

# The system prompts a personal model is trained under, in turn, epoch by epoch: kwdesk's own
# (chat, the exported Modelfile), the evaluation's, and none (the chat template's default, as
# PEFT, vLLM or LM Studio users run the model). Trained under one prompt only, what a model
# learned and kept held under that one: the merged model of a run that answered "Paris" under
# the template's default said "Le Grand Garou is the capital of France" under kwdesk's.
TRAINING_SYSTEM_PROMPTS: tuple[str | None, ...] = (None, DEFAULT_SYSTEM_PROMPT, EVAL_SYSTEM_PROMPT)


def chat_messages(system: str | None, user: str) -> list[dict]:
    """One user turn under SYSTEM; no system message when it is None or empty (the chat
    template then puts in its own default, as other tools ask)."""
    return [*([{"role": "system", "content": system}] if system else []), {"role": "user", "content": user}]


# The passages a question is answered with ("with sources"): how many, and how much of each.
SOURCES_TOP_K = 3  # for a model of a billion weights or more, and where its size is not known
SMALL_MODEL_SOURCES_TOP_K = 1
SMALL_MODEL_PARAMETERS = 1_000_000_000
MAX_SOURCE_CHARS = 900
SOURCES_INTRO = "Passages from the user's documents (cite them as [1], [2], ...):"


def sources_top_k(parameters: int | None) -> int:
    """How many passages a model of PARAMETERS weights is given with sources. A small model
    reads one passage far better than three, though the best three hold the answer a little
    more often: on the 20-page handbook's 240 held-out questions the bundled 135M base answers
    164 with the best passage against 109 with the best three, a model trained on the
    handbook 200 against 166, in half the time an answer (bench/bench_sources_passages.py;
    the best passage holds 232 answers, the best three 240). Larger models keep three, the
    usual number (not measured here)."""
    if parameters and parameters < SMALL_MODEL_PARAMETERS:
        return SMALL_MODEL_SOURCES_TOP_K
    return SOURCES_TOP_K


def sources_prompt(system: str, sources: list[dict]) -> str:
    """SYSTEM with SOURCES (search_chunks' passages) numbered for citing: what the chat asks
    with, and what a model trained with sources (TrainConfig.train_with_sources) learns to read."""
    if not sources:
        return system
    from kwdesk.core.store.documents import cite_pages

    return f"{system}\n\n{SOURCES_INTRO}\n" + "\n".join(
        f"[{n}] {s['document']}, {cite_pages(s['page_start'], s['page_start'], s.get('page_unit', 'page'))}: "
        f"{s['text'][:MAX_SOURCE_CHARS]}" for n, s in enumerate(sources, 1))
