"""How many passages "with sources" should give a small model: the same held-out questions
answered with the best 1, 2 or 3 passages (SOURCES_TOP_K is 3), by the base and by trained
model files, graded as `kwdesk eval` grades.

    .venv/bin/python bench/bench_sources_passages.py --workspace /tmp/b20/ws-share \\
        --pages 20 --model /tmp/b20/ws-share/models/run-2/...-Q8_0.gguf --k 1 2 3

The workspace is one bench_recipe.py prepared (the handbook imported, so that retrieval finds
its passages); the questions are the handbook's shared held-out ones (docgen.handbook_heldout).
Retrieval holds the answer for 240 of the 20-page handbook's 240 questions in its best three
passages and 232 in the best one: fewer passages are less to read for a 135M model, and lose
little of what there is to find.
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

from docgen import formulary_heldout, handbook_heldout  # noqa: E402

from kwdesk.core.chat.engine import ChatEngine  # noqa: E402
from kwdesk.core.evaluation.job import HELD_OUT_LIMIT  # noqa: E402
from kwdesk.core.models.base_models import resolve_base  # noqa: E402
from kwdesk.core.models.chat_format import EVAL_SYSTEM_PROMPT  # noqa: E402
from kwdesk.core.models.targets import converted_base  # noqa: E402
from kwdesk.core.store.evals import held_out_items, held_out_sample  # noqa: E402
from kwdesk.core.store.workspace import Workspace  # noqa: E402
from kwdesk.core.text.fact_match import grade_against_reference  # noqa: E402

MAX_TOKENS = 64  # as EvaluateJob answers


def held_out_questions(workspace: Workspace, source: str, pages: int) -> list[tuple[str, str]]:
    if source == "handbook":
        return handbook_heldout(pages)
    if source == "formulary":
        return formulary_heldout(pages)
    db = workspace.connect()
    try:  # as the evaluation samples them
        return [(item["question"], item["reference"]) for item in held_out_sample(held_out_items(db), HELD_OUT_LIMIT)]
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--questions", choices=["handbook", "formulary", "workspace"], default="handbook",
                        help="the generated document's shared held-out questions, or the workspace's own held-out "
                             "pairs (what `kwdesk eval` asks on a user's documents)")
    parser.add_argument("--model", type=Path, action="append", default=[], help="a trained model's GGUF file")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-base", action="store_true", help="leave the base out")
    args = parser.parse_args()
    workspace = Workspace.open(args.workspace)
    questions = held_out_questions(workspace, args.questions, args.pages)
    base = resolve_base(None)
    files = [] if args.no_base else [("base", converted_base({"base_folder": str(base.folder),
                                                               "base_name": base.name}, "Q8_0")[0])]
    files += [(path.name, path) for path in args.model]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.questions} ({args.pages} pages), "
          f"{len(questions)} held-out questions, with sources, passages {args.k}", flush=True)
    for name, path in files:
        engine = ChatEngine(workspace, path)
        try:
            for k in args.k:
                engine.sources_top_k = k
                started, right = time.perf_counter(), 0
                for question, reference in questions:
                    answer = engine.complete(question, with_sources=True, max_tokens=MAX_TOKENS,
                                             system_prompt=EVAL_SYSTEM_PROMPT)
                    right += grade_against_reference(answer, reference, question).correct
                seconds = (time.perf_counter() - started) / len(questions)
                print(f"{name:<52} {k} passage{'s' if k > 1 else ' '}  {right}/{len(questions)} "
                      f"({right / len(questions):.0%})  {seconds:.2f} s an answer", flush=True)
        finally:
            engine.close()


if __name__ == "__main__":
    main()
