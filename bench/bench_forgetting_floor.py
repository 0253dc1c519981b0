"""The floor of the evaluation's forgetting checks: what a model that forgot nothing scores.

    .venv/bin/python bench/bench_forgetting_floor.py --limit 32

The evaluation compares a personal model with the base made the same way (the same conversion
and quantization) and counts, under each system prompt a user's tool uses, the general
questions it still answers right ("kept") and the replay prompts where its answer still holds
the key facts of the base's own answer ("replay kept"). Any trained model differs from the
base in every weight, and greedy answers to open requests part ways after a few tokens at the
smallest change. Here the base itself is the "personal" model twice perturbed by far less than
training: its F16 file against the base's Q8_0 file (what `kwdesk eval` compares a Q8_0 export
with), graded exactly as `kwdesk eval` grades. What it scores is the most a goal on these
checks can ask of any trained model.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

from kwdesk.core.chat.engine import ChatEngine
from kwdesk.core.evaluation.job import FORGETTING_PROMPTS
from kwdesk.core.models.base_models import resolve_base
from kwdesk.core.models.probes import probe_questions
from kwdesk.core.models.targets import converted_base
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.text.fact_match import grade_against_reference, grade_short_answer
from kwdesk.core.train.replay import replay_prompts

MAX_TOKENS = 64  # as EvalJob answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=32, help="general questions and replay prompts (eval --probe-limit)")
    args = parser.parse_args()
    base = resolve_base(None)
    made = {q: converted_base({"base_folder": str(base.folder), "base_name": base.name}, q)[0] for q in ("Q8_0", "F16")}
    workspace = Workspace.open(Path(tempfile.mkdtemp(prefix="kwdesk-floor-")))  # the engines' home; no documents
    reference, unchanged = ChatEngine(workspace, made["Q8_0"]), ChatEngine(workspace, made["F16"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {base.name}: {made['F16'].name} graded against "
          f"{made['Q8_0'].name}, {args.limit} general questions and {args.limit} replay prompts", flush=True)
    for label, system_prompt in FORGETTING_PROMPTS:
        def ask(engine: ChatEngine, question: str) -> str:
            return engine.complete(question, max_tokens=MAX_TOKENS, system_prompt=system_prompt)

        base_right = kept = 0
        for probe in probe_questions(args.limit):
            if grade_short_answer(ask(reference, probe["question"]), probe["answers"]).correct:
                base_right += 1
                kept += grade_short_answer(ask(unchanged, probe["question"]), probe["answers"]).correct
        prompts = replay_prompts()[: args.limit]
        replayed = sum(grade_against_reference(ask(unchanged, p), ask(reference, p), p).correct for p in prompts)
        print(f"{label:<18} general kept {kept}/{base_right} ({kept / max(1, base_right):.0%}), "
              f"replay kept {replayed}/{len(prompts)}", flush=True)


if __name__ == "__main__":
    main()
