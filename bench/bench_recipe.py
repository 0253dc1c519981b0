"""Training recipes side by side on one set of generated data: what each learns and keeps.

    .venv/bin/python bench/bench_recipe.py --pages 1 --recipe "default=" --recipe "e30=--epochs 30" ...
    .venv/bin/python bench/bench_recipe.py --pages 1 --peft --recipe "default=" --recipe "prefix=--method prefix"
    .venv/bin/python bench/bench_recipe.py --document formulary --pages 1 --recipe "default=" ...

The plain path of a new user, once: import a generated document of invented facts (the water
works handbook, or with --document formulary a clinic's formulary), `generate`
with the default strategies, no review. Then, for each recipe (a name and the extra `kwdesk
train` arguments), a copy of that workspace trains with them, exports the default file
(`train --export`) and is evaluated (`kwdesk eval`) on the shared held-out questions
(docgen.handbook_heldout: worded unlike the generator's questions) and on the general
questions. Every recipe sees the same pairs, so the differences are the recipe's. A method
that cannot become a model file (prefix tuning) is evaluated as its adapter under transformers
(`kwdesk eval --peft-run`); `--peft` does that for every recipe too, beside its model file.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from bench_eval import kwdesk, shared_scores  # noqa: E402
from docgen import formulary_heldout, formulary_pdf, handbook_heldout, handbook_pdf  # noqa: E402

# The generated documents of invented facts, each with its shared held-out questions: a water
# works handbook, and a clinic's formulary with a running header and footer (another domain,
# other sentence shapes), so that no recipe is chosen on one text.
DOCUMENTS = {
    "handbook": (lambda path, pages: handbook_pdf(path, pages)[0], handbook_heldout),
    "formulary": (formulary_pdf, formulary_heldout),
}


def prepare(ws: Path, pages: int, tmp: Path, document: str = "handbook") -> dict:
    make, heldout = DOCUMENTS[document]
    pdf = make(tmp / f"{document}.pdf", pages)
    times = {}
    times["import"], _ = kwdesk(REPO, ws, "import", str(pdf))
    times["generate"], _ = kwdesk(REPO, ws, "generate")
    pairs = kwdesk(REPO, ws, "pairs", "list")[1]
    ids = []
    for question, reference in heldout(pages):
        _, added = kwdesk(REPO, ws, "pairs", "add", "--question", question, "--answer", reference)
        ids.append(str(added))
    kwdesk(REPO, ws, "pairs", "holdout", *ids, json_out=False)
    return {"pairs": len(pairs), "times": times}


def answers_retrieved(ws: Path, heldout: list[tuple[str, str]]) -> int:
    """How many held-out questions find their reference answer's facts in the passages the
    chat retrieves for them (SOURCES_TOP_K, graded as an answer would be): the ceiling of
    "with sources" that retrieval sets, so that a low figure there reads as reading or as
    retrieval."""
    import sqlite_utils

    from kwdesk.core.models.chat_format import SOURCES_TOP_K
    from kwdesk.core.store.documents import search_chunks
    from kwdesk.core.text.fact_match import grade_against_reference

    db = sqlite_utils.Database(ws / "kwdesk.db")
    try:
        return sum(any(grade_against_reference(hit["text"], reference, question).correct
                       for hit in search_chunks(db, question, SOURCES_TOP_K))
                   for question, reference in heldout)
    finally:
        db.close()


def exportable(extra: list[str]) -> bool:
    """Whether the recipe's method becomes a model file (prefix tuning does not)."""
    from kwdesk.core.train.methods import METHODS

    name = extra[extra.index("--method") + 1] if "--method" in extra else "lora"
    return METHODS[name].exportable


def run_recipe(ws: Path, extra: list[str], probe_limit: int, peft: bool = False) -> dict:
    """Train (and export, where the method can be), then evaluate the model file; with PEFT,
    or for a method without a file, also the adapter under transformers (`eval --peft-run`)."""
    # As a user who does not review: the unreviewed sides of any conflict are left out (the plan says so).
    made_file = exportable(extra)
    t_train, trained = kwdesk(REPO, ws, "train", *(["--export"] if made_file else []), *extra)
    out = {"trained": trained, "times": {"train+export": t_train}}
    if made_file:
        t_eval, result = kwdesk(REPO, ws, "eval", "--probe-limit", str(probe_limit),
                                "--report", str(ws.parent / f"{ws.name}.html"))
        out.update(result=result, shared=shared_scores(ws, result["eval_id"]))
        out["times"]["eval"] = t_eval
    if peft or not made_file:
        t_peft, under = kwdesk(REPO, ws, "eval", "--peft-run", str(trained["run_id"]), "--probe-limit", str(probe_limit))
        out.update(peft=under, peft_shared=shared_scores(ws, under["eval_id"]))
        out["times"]["eval under transformers"] = t_peft
    return out


def _row(name: str, extra: list[str], train: dict, h: dict, result: dict, times: dict, how: str) -> str:
    return (f"{name:<12} {' '.join(extra) or '(defaults)':<40} {how:<13} steps {train['steps']:>4}  loss "
            f"{train['first_loss']:.2f}->{train['last_loss']:.2f}  closed-book {h['personal']['correct']:>3}/"
            f"{h['personal']['total']:<3} sources {h['personal+rag']['correct']:>3}/{h['personal+rag']['total']:<3} "
            f"(base {h['base']['correct']}, base+sources {h['base+rag']['correct']})  kept {_by_prompt(result)}  "
            + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))


def _by_prompt(result: dict) -> str:
    """Kept general answers and replay answers under each system prompt the eval asked with."""
    by = result.get("kept_by_prompt") or {"evaluation": {"kept": result["kept"], "replay_kept": result["replay_kept"]}}
    return ", ".join(f"{label}: {s['kept']['share']:.0%} replay {s['replay_kept']['correct']}/{s['replay_kept']['total']}"
                     for label, s in by.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1)
    parser.add_argument("--document", choices=list(DOCUMENTS), default="handbook",
                        help="the generated document: the water works handbook or the clinic's formulary")
    parser.add_argument("--recipe", action="append", default=[], metavar="NAME=ARGS",
                        help='a name and extra `kwdesk train` arguments, e.g. "long=--epochs 30"')
    parser.add_argument("--probe-limit", type=int, default=32)
    parser.add_argument("--keep", metavar="DIR")
    parser.add_argument("--peft", action="store_true",
                        help="also evaluate each adapter under transformers, as PEFT loads it (the other format a user takes away)")
    args = parser.parse_args()
    recipes = [(r.split("=", 1)[0], shlex.split(r.split("=", 1)[1]) if "=" in r else []) for r in args.recipe or ["default="]]
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kwdesk-bench-recipe-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.pages}-page {args.document}, {len(DOCUMENTS[args.document][1](args.pages))} shared held-out questions",
          flush=True)
    prepared = tmp / "ws-prepared"
    if not prepared.exists():
        made = prepare(prepared, args.pages, tmp, args.document)
        print(f"generated {made['pairs']} pairs and texts; " + ", ".join(f"{k} {v:.0f} s" for k, v in made["times"].items()),
              flush=True)
    heldout = DOCUMENTS[args.document][1](args.pages)
    print(f"retrieval: the chat's passages hold the answer to {answers_retrieved(prepared, heldout)} of "
          f"{len(heldout)} held-out questions", flush=True)
    rows = []
    for name, extra in recipes:
        ws = tmp / f"ws-{name}"
        shutil.rmtree(ws, ignore_errors=True)
        shutil.copytree(prepared, ws)
        started = time.perf_counter()
        out = run_recipe(ws, extra, args.probe_limit, args.peft)
        times = {**out["times"], "total": time.perf_counter() - started}
        for how, shared, result in (("model file", out.get("shared"), out.get("result")),
                                    ("transformers", out.get("peft_shared"), out.get("peft"))):
            if result is not None:
                rows.append(_row(name, extra, out["trained"], shared, result, times, how))
                print(rows[-1], flush=True)
    print("\n" + "\n".join(rows))
    print(f"workspaces and reports: {tmp}")


if __name__ == "__main__":
    main()
