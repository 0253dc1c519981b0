"""The floor of the evaluation's forgetting checks: what a model that forgot nothing scores.

    .venv/bin/python bench/bench_forgetting_floor.py --limit 32
    .venv/bin/python bench/bench_forgetting_floor.py --limit 294 --model path/to/personal-Q8_0.gguf

The evaluation compares a personal model with the base made the same way (the same conversion
and quantization) and counts, under each system prompt a user's tool uses, the general
questions it still answers right ("kept") and the replay prompts where its answer still holds
the key facts of the base's own answer ("replay kept"). Any trained model differs from the
base in every weight, and greedy answers to open requests part ways after a few tokens at the
smallest change. Here the base itself is the "personal" model twice perturbed by far less than
training: its F16 file against the base's Q8_0 file (what `kwdesk eval` compares a Q8_0 export
with), graded exactly as `kwdesk eval` grades. What it scores is the most a goal on these
checks can ask of any trained model.

With --model, a trained model's file is graded the same way beside the floor, on the same
questions, so that a goal such as "kept 97%" is judged against what the check itself allows.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

from kwdesk.core.chat.engine import ChatEngine
from kwdesk.core.evaluation.job import FORGETTING_PROMPTS, EvaluateJob
from kwdesk.core.models.base_models import resolve_base
from kwdesk.core.models.probes import probe_questions
from kwdesk.core.models.targets import converted_base
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.train.replay import EVAL_PROMPTS, replay_prompts

MAX_TOKENS = 64  # as EvaluateJob answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=32, help="general questions and replay prompts (eval --probe-limit)")
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="a trained model's GGUF file, graded beside the floor (repeatable)")
    args = parser.parse_args()
    base = resolve_base(None)
    made = {q: converted_base({"base_folder": str(base.folder), "base_name": base.name}, q)[0] for q in ("Q8_0", "F16")}
    with tempfile.TemporaryDirectory(prefix="kwdesk-floor-") as home:  # the engines' workspace; no documents
        workspace = Workspace.open(Path(home))
        reference = ChatEngine(workspace, made["Q8_0"])
        graded = [("unchanged base", made["F16"])] + [(path.name, path) for path in args.model]
        # As `kwdesk eval --probe-limit` asks: at most EVAL_PROMPTS replay prompts.
        probes, prompts = probe_questions(args.limit), replay_prompts()[: min(EVAL_PROMPTS, args.limit)]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores; graded against {base.name}'s "
              f"{made['Q8_0'].name}; {len(probes)} general questions and {len(prompts)} replay prompts", flush=True)
        # The evaluation's own check (EvaluateJob._forgetting), the Q8_0 file as the base.
        job = EvaluateJob(workspace, probe_limit=args.limit)
        asked: dict[tuple, str] = {}  # the reference's answers are the same for every graded model

        def ask(engine: ChatEngine, question: str, rag: bool, system_prompt: str | None) -> str:
            key = (id(engine), question, system_prompt)
            if key not in asked:
                asked[key] = engine.complete(question, max_tokens=MAX_TOKENS, system_prompt=system_prompt)
            return asked[key]

        for name, path in graded:
            model = ChatEngine(workspace, path)
            try:
                for label, system_prompt in FORGETTING_PROMPTS:
                    scores, kept, replayed = job._forgetting(reference, model, probes, prompts, system_prompt, label,
                                                             ask, lambda steps, message: None, [])
                    print(f"{name:<58} {label:<18} base right {sum(scores['base'])}/{len(probes)}, general kept "
                          f"{kept.correct}/{kept.total} ({kept.correct / max(1, kept.total):.1%}), "
                          f"replay kept {replayed.correct}/{replayed.total}", flush=True)
            finally:
                model.close()
                for key in [k for k in asked if k[0] == id(model)]:
                    del asked[key]  # a later engine may reuse the id

if __name__ == "__main__":
    main()
