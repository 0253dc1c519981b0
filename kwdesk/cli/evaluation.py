"""What a model learned and forgot: eval, its history and reports."""

from __future__ import annotations

import sys
from pathlib import Path

from kwdesk.cli.output import EXIT_OK, EXIT_USAGE, Bar, print_json


def cmd_eval(workspace, args) -> int:
    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.app.teacher import teacher_choice
    from kwdesk.core.evaluation.job import EvaluateJob
    from kwdesk.core.evaluation.report import configs_of, full_context_line

    if args.history:
        return _eval_history(workspace, args)
    bar = Bar(not args.json, unit="answer")
    try:
        limit = {"held_out_limit": args.held_out_limit or None} if args.held_out_limit is not None else {}
        if args.peft_run is not None and args.model:
            print("kwdesk: give a MODEL or --peft-run RUN, not both", file=sys.stderr)
            return EXIT_USAGE
        job = EvaluateJob(workspace, args.model, probe_limit=args.probe_limit, teacher=teacher_choice(load_settings()),
                          peft_run=args.peft_run, **limit)
        result = job.run(bar)
    finally:
        bar.close()
    if args.report:
        _write_report(workspace, result.eval_id, Path(args.report))
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK
    print(f"Evaluation {result.eval_id}: {result.model_name} (base: {result.base_name})")
    print("Held-out questions about your documents (new wordings of trained facts)"
          + (f", {result.held_out_asked} of {result.held_out_total} asked (--held-out-limit 0 asks all):"
             if result.held_out_asked < result.held_out_total else ":"))
    summary = result.to_dict()
    for config in configs_of(summary):
        score = result.heldout[config]
        seconds = result.seconds_per_answer.get(config)
        print(f"  {config:<14} {score.correct:>4}/{score.total:<4} {score.share:6.1%}"
              + (f"   {seconds:.1f} s an answer" if seconds is not None else ""))
    if full_context_line(summary):
        print(f"  {full_context_line(summary)}")
    if result.gap_closed is not None:
        print(f"  the personal model closes {result.gap_closed:.0%} of the gap between the base model and the base model with sources")
    print(f"Facts learned: {result.facts_learned} of {result.facts_total}")
    print(f"General questions: base {result.probe_base.correct}/{result.probe_base.total}, "
          f"personal {result.probe_personal.correct}/{result.probe_personal.total}; "
          f"the personal model keeps {result.kept.share:.0%} of the base model's right answers ({result.kept.correct}/{result.kept.total})")
    print(f"Replay prompts: the key points of the base model's answer kept in {result.replay_kept.correct}/{result.replay_kept.total}")
    print(f"Report: {result.report_path}")
    return EXIT_OK


def _eval_history(workspace, args) -> int:
    from kwdesk.core.store.evals import eval_history

    db = workspace.connect()
    try:
        history = eval_history(db)
    finally:
        db.close()
    if args.json:
        print_json(history)
        return EXIT_OK
    if not history:
        print("No evaluations yet: kwdesk eval MODEL", file=sys.stderr)
    pct = lambda v: "" if v is None else f"{v:.0%}"
    print(f"{'eval':>4}  {'model':<44} {'run':>4} {'from':>4} {'collection':<16} {'data':<8} {'base':>5} {'pers.':>5} {'+src':>5} {'gap':>5} {'kept':>5}")
    for h in history:
        print(f"{h['eval_id']:>4}  {h['model'][:44]:<44} {h['run_id'] or '':>4} {h['from_run'] or '':>4} "
              f"{(h['collection'] or '')[:16]:<16} {(h['dataset_sha256'] or '')[:8]:<8} {pct(h['base']):>5} "
              f"{pct(h['personal']):>5} {pct(h['personal+rag']):>5} {pct(h['gap_closed']):>5} {pct(h['kept']):>5}")
    return EXIT_OK


def _write_report(workspace, eval_id: int, path: Path) -> None:
    from kwdesk.core.evaluation.report import write_report
    from kwdesk.core.store.evals import load_eval
    from kwdesk.ui.report_image import save_png

    db = workspace.connect()
    try:
        report = load_eval(db, eval_id)
    finally:
        db.close()
    write_report(report, path, save_png)
    print(f"report written to {path}", file=sys.stderr)


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("eval", help="measure what a model learned and forgot: held-out questions, with and without sources")
    p.add_argument("model", nargs="?", metavar="MODEL", help="a model id from 'kwdesk models' or a GGUF file (default: the newest)")
    p.add_argument("--probe-limit", type=int, metavar="N", help="ask only N of the general questions and N of the replay prompts (default: all)")
    p.add_argument("--held-out-limit", type=int, metavar="N",
                   help="ask at most N held-out questions: all you chose, then kwdesk's own wordings spread evenly "
                   "(default 200; 0: all)")
    p.add_argument("--peft-run", type=int, metavar="RUN",
                   help="evaluate training run RUN's adapter under transformers, as PEFT loads it (its base too): "
                        "a method llama.cpp cannot run (prefix tuning), or the adapter format beside the model file")
    p.add_argument("--report", metavar="FILE", help="also write the report here: .html, .svg or .png")
    p.add_argument("--history", action="store_true",
                   help="list every evaluation so far (model, run, collection, data), to compare versions")
    p.add_argument("--json", action="store_true")
    return {"eval": cmd_eval}
