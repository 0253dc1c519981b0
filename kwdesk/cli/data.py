"""Training data: generate, pairs (review, edit, filters), conflicts, dataset."""

from __future__ import annotations

import sys
from pathlib import Path

from kwdesk.cli.output import (
    EXIT_NOTHING_DONE,
    EXIT_OK,
    EXIT_USAGE,
    Bar,
    listed,
    print_json,
)


def print_coverage(workspace, args) -> int:
    from kwdesk.core.data.coverage import coverage

    db = workspace.connect()
    try:
        report = coverage(db, args.document)
    finally:
        db.close()
    if args.json:
        print_json(report.to_dict())
        return EXIT_OK
    total = len(report.facts)
    print(f"{total} facts in the passages; {len(report.covered)} asked in {report.wanted} wordings or more, "
          f"{total - len(report.covered) - len(report.not_asked)} in fewer, {len(report.not_asked)} not asked yet.")
    for fact in report.not_asked:
        print(f"  not asked  {fact.document} p. {fact.page}: {fact.fact[:140]}")
    return EXIT_OK


def cmd_generate(workspace, args) -> int:
    from kwdesk.core.data.generate import HELD_OUT, STRATEGIES, GenerateOptions

    if args.report:
        return print_coverage(workspace, args)

    strategies = tuple(s.strip() for s in args.strategy.split(",") if s.strip())
    unknown = [s for s in strategies if s not in STRATEGIES and s != HELD_OUT]
    if unknown or not strategies:
        print(f"kwdesk: unknown strategy {', '.join(unknown)}; choose from {','.join(STRATEGIES)}", file=sys.stderr)
        return EXIT_USAGE
    if args.per_chunk < 1:
        print("kwdesk: --per-chunk must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    options = GenerateOptions(strategies=strategies, per_chunk=args.per_chunk, document_ids=args.document, again=args.again)
    if args.not_learned:
        from kwdesk.core.data.generate import more_for_not_learned

        db = workspace.connect()
        try:
            options = more_for_not_learned(db)
        finally:
            db.close()
        if options is None:
            print("kwdesk: no fact is marked as not learned (run kwdesk eval first)", file=sys.stderr)
            return EXIT_NOTHING_DONE
    result = run_generation(workspace, args, options, args.teacher, args.endpoint_model, args.parallel)
    if isinstance(result, int):
        return result
    if args.json:
        print_json(result.to_dict())
    else:
        for strategy, report in result.reports.items():
            if not report.attempts and not report.usable:
                print(f"{strategy:<10}     - nothing new to do")
                continue
            print(f"{strategy:<10} {report.summary()}")
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(
            f"{result.pairs_added} pairs and texts added in {result.seconds:.0f} s "
            f"({result.tokens_per_second:.0f} tokens/s, teacher {result.teacher}).",
            file=sys.stderr,
        )
        if result.pairs_added == 0 and not any(r.attempts for r in result.reports.values()):
            print("Nothing to do: no documents, or every chunk already has data (use --again for more).", file=sys.stderr)
    return EXIT_OK if result.pairs_added or not any(r.attempts for r in result.reports.values()) else EXIT_NOTHING_DONE


def run_generation(workspace, args, options, teacher_spec, endpoint_model, parallel=None):
    """Generate with a progress bar; the job opens the teacher (the settings' unless the
    command line names one) and closes it. A teacher that cannot open is one line from main."""
    from kwdesk.core.data.generate import GenerateJob
    from kwdesk.core.data.teacher import TeacherChoice

    bar = Bar(not args.json, unit="item")
    try:
        choice = TeacherChoice(teacher_spec, endpoint_model, parallel or TeacherChoice.parallel)
        return GenerateJob(workspace, choice, options).run(bar)
    finally:
        bar.close()


def cmd_pairs(workspace, args) -> int:
    from kwdesk.core.store.pairs import edit_pair, list_pairs, set_status

    db = workspace.connect()
    try:
        if args.action == "edit":
            if len(args.ids) != 1 or (args.question is None and args.answer is None):
                print("kwdesk: pairs edit takes one pair ID and --question and/or --answer", file=sys.stderr)
                return EXIT_USAGE
            # The same rule as the review table's: trimmed, never an empty answer.
            saved = edit_pair(db, args.ids[0], question=args.question, answer=args.answer)
            print(f"Pair {args.ids[0]} {'saved (edited)' if saved else 'unchanged'}", file=sys.stderr)
            return EXIT_OK
        if args.action == "add":
            if not args.answer:
                print("kwdesk: pairs add needs --answer (and usually --question)", file=sys.stderr)
                return EXIT_USAGE
            from kwdesk.core.store.pairs import add_pair

            pair_id = add_pair(db, args.question or "", args.answer, chunk_id=args.chunk)
            print(pair_id)
            return EXIT_OK
        if args.action in ("holdout", "train"):
            from kwdesk.core.store.pairs import set_split

            if not args.ids:
                print("kwdesk: name the pair IDs", file=sys.stderr)
                return EXIT_USAGE
            changed = set_split(db, args.ids, "eval" if args.action == "holdout" else "train")
            print(f"{changed} pairs {'held out for evaluation' if args.action == 'holdout' else 'back to training'}", file=sys.stderr)
            return EXIT_OK
        if args.action != "list":
            if not args.ids and not args.all:
                print("kwdesk: name the pair IDs, or --all", file=sys.stderr)
                return EXIT_USAGE
            status = {"accept": "accepted", "reject": "rejected", "reset": "new"}[args.action]
            changed = set_status(db, None if args.all else args.ids, status)
            print(f"{changed} pairs set to {status}", file=sys.stderr)
            return EXIT_OK
        pairs = list_pairs(db, _pair_filter(db, args), limit=args.limit)
    finally:
        db.close()
    if args.json:
        print_json(pairs)
        return EXIT_OK
    for pair in pairs:
        if pair["question"]:
            print(f"{pair['id']:>6} {pair['status']:<8} {pair['strategy']:<10} Q: {pair['question']}\n{'':>16}A: {pair['answer']}")
        else:
            print(f"{pair['id']:>6} {pair['status']:<8} {pair['strategy']:<10} text: {pair['answer'][:300]}")
    if not pairs:
        print("No pairs yet. Make some: kwdesk generate", file=sys.stderr)
    return EXIT_OK


def _pair_filter(db, args):
    """The review table's filters from `kwdesk pairs list`'s options."""
    from kwdesk.core.store.collections import find_collection
    from kwdesk.core.store.documents import find_document
    from kwdesk.core.store.pairs import PairFilter

    return PairFilter(
        status=args.status, strategy=args.strategy, text=args.text, learned=args.learned,
        document_id=find_document(db, args.document).id if args.document else None,
        collection_id=find_collection(db, args.collection).id if args.collection else None,
    )


def cmd_conflicts(workspace, args) -> int:
    from kwdesk.core.data.conflicts import find_conflicts, keep_both, keep_one
    from kwdesk.core.store.collections import CollectionError, find_collection

    db = workspace.connect()
    try:
        try:
            collection = find_collection(db, args.collection).id if args.collection else None
        except CollectionError as exc:
            print(f"kwdesk: {exc}", file=sys.stderr)
            return EXIT_USAGE
        conflicts = find_conflicts(db, collection)
        if args.both:
            keep_both(db, *args.both)
            print(f"Pairs {args.both[0]} and {args.both[1]} both stay.")
            return EXIT_OK
        if args.keep is not None:
            others = {c.b.pair_id if c.a.pair_id == args.keep else c.a.pair_id
                      for c in conflicts if args.keep in (c.a.pair_id, c.b.pair_id)}
            if not others:
                print(f"kwdesk: pair {args.keep} is in no conflict", file=sys.stderr)
                return EXIT_NOTHING_DONE
            for other in sorted(others):
                keep_one(db, args.keep, other)
            print(f"Kept pair {args.keep}; rejected {', '.join(map(str, sorted(others)))}.")
            return EXIT_OK
    finally:
        db.close()
    if listed(args, conflicts, "No pairs contradict each other."):
        return EXIT_OK
    for c in conflicts:
        for side in (c.a, c.b):
            where = f"{side.document} v{side.version}, p. {side.page}" if side.document else "added by hand"
            print(f"{side.pair_id:>6}  {side.question}\n        -> {side.answer[:160]}\n        [{where}; key facts: {', '.join(side.facts)}]")
        print()
    if conflicts:
        print("Settle each: kwdesk conflicts --keep ID (rejects the other side), or --both ID ID.", file=sys.stderr)
    return EXIT_OK


def cmd_dataset(workspace, args) -> int:
    from kwdesk.core.data.dataset_formats import DatasetJob

    bar = Bar(not args.json, unit="file")
    try:
        done = DatasetJob(workspace, args.action, Path(args.path), args.format, include_rejected=args.include_rejected).run(bar)
    finally:
        bar.close()
    summary = {"path": str(Path(args.path).resolve()), "format": args.format, "records": done["records"]} \
        if args.action == "export" else {k: v for k, v in done.items() if k not in ("action", "path")}
    if args.json:
        print_json(summary)
    else:
        print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    return EXIT_OK


def cmd_flagged(workspace, args) -> int:
    from kwdesk.core.store.documents import cite_pages
    from kwdesk.core.store.flagged import KEEP, OUT, decide_flagged, list_flagged

    db = workspace.connect()
    try:
        for decision, ids in ((KEEP, args.keep or []), (OUT, args.out or [])):
            for flagged_id in ids:
                decide_flagged(db, flagged_id, decision)
        flagged = list_flagged(db)
    finally:
        db.close()
    if listed(args, flagged, "No sentence of the documents is addressed to a model."):
        return EXIT_OK
    for f in flagged:
        where = f"{f.document}, {cite_pages(f.page, f.page)}" if f.page else f.document
        state = {KEEP: "kept", OUT: "out"}.get(f.decision or "", "held out until you decide")
        print(f"{f.id:>5}  [{state}] {where}: {f.reason}\n       {f.text}")
    return EXIT_OK


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("generate", help="write Q&A pairs and rephrasings from the documents with a teacher model")
    p.add_argument("--teacher", metavar="MODEL", help="a GGUF file, or an OpenAI-compatible URL (default: the bundled model)")
    p.add_argument("--endpoint-model", metavar="NAME", help="the model name at a --teacher URL")
    p.add_argument("--parallel", type=int, metavar="N",
                   help="requests sent at once to a --teacher URL (default: the settings, 8); a model file takes one")
    p.add_argument("--strategy", help="comma-separated: qa,entities,rephrase,paraphrase (default: the settings); "
                   "heldout makes new wordings kept out of training, for kwdesk eval")
    p.add_argument("--per-chunk", type=int, metavar="N", help="questions per chunk (default: the settings, 4)")
    p.add_argument("--document", type=int, action="append", metavar="ID", help="only this document (repeatable)")
    p.add_argument("--again", action="store_true", help="also for chunks that already have data from this teacher")
    p.add_argument("--not-learned", action="store_true",
                   help="more wordings of the questions the newest evaluation found not learned")
    p.add_argument("--report", action="store_true",
                   help="make nothing: list the facts of the passages, how many ways each is asked, and those not asked")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("pairs", help="list Q&A pairs, or accept / reject / reset / edit them")
    p.add_argument("action", nargs="?", choices=["list", "accept", "reject", "reset", "add", "edit", "holdout", "train"],
                   default="list", help="holdout: keep pairs out of training, for kwdesk eval; train: back to training")
    p.add_argument("ids", nargs="*", type=int, metavar="ID")
    p.add_argument("--question", help="with add: the question (empty: a training text); with edit: the new question")
    p.add_argument("--answer", help="with add: the answer; with edit: the new answer (never empty)")
    p.add_argument("--chunk", type=int, metavar="ID", help="with add: the passage the pair comes from")
    p.add_argument("--all", action="store_true", help="with accept/reject/reset: every pair")
    p.add_argument("--status", choices=["new", "accepted", "edited", "rejected"])
    p.add_argument("--strategy")
    p.add_argument("--document", metavar="ID_OR_NAME", help="with list: only this document's pairs")
    p.add_argument("--collection", metavar="NAME", help="with list: only this knowledge collection's pairs")
    p.add_argument("--text", metavar="WORDS", help="with list: pairs whose question or answer has these words")
    learned = p.add_mutually_exclusive_group()
    learned.add_argument("--learned", dest="learned", action="store_const", const=True,
                         help="with list: facts the newest evaluation found learned")
    learned.add_argument("--not-learned", dest="learned", action="store_const", const=False,
                         help="with list: facts the newest evaluation found not learned")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("conflicts", help="pairs whose questions mean the same but whose answers disagree")
    p.add_argument("--collection", metavar="NAME")
    p.add_argument("--keep", type=int, metavar="ID", help="settle: keep this pair and reject the other side(s) of its conflicts")
    p.add_argument("--both", type=int, nargs=2, metavar="ID", help="settle: both pairs are right")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("dataset", help="export or import the dataset as JSONL or a Hugging Face dataset folder")
    p.add_argument("action", choices=["export", "import"])
    p.add_argument("path", help="a JSONL file, or a folder for --format hf (import reads either)")
    p.add_argument("--format", choices=["openai", "sharegpt", "alpaca", "hf"], default="openai",
                   help="hf: a folder with a dataset card and data/train.jsonl, data/test.jsonl")
    p.add_argument("--include-rejected", action="store_true")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("flagged", help="sentences addressed to a model (\"ignore previous instructions\"), kept out of "
                                       "generated data until you decide")
    p.add_argument("--keep", type=int, nargs="+", metavar="ID", help="ordinary text after all: generation may use it")
    p.add_argument("--out", type=int, nargs="+", metavar="ID", help="keep it out of generated data for good")
    p.add_argument("--json", action="store_true")
    return {"generate": cmd_generate, "pairs": cmd_pairs, "conflicts": cmd_conflicts, "dataset": cmd_dataset,
            "flagged": cmd_flagged}
