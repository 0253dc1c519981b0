"""Model files: export, models, publish."""

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


def cmd_export(workspace, args) -> int:
    from kwdesk.core.export.job import ExportJob

    bar = Bar(not args.json, unit="stage")
    try:
        result = ExportJob(workspace, args.run, args.quant, args.strength).run(bar)
    finally:
        bar.close()
    if args.json:
        print_json(result.to_dict())
    else:
        v = result.verification
        print(
            f"verified: {v.agreement:.0%} next-token agreement with the trained model (needed {v.tolerance:.0%}), "
            f"{v.stopped}/{v.prompts} answers ended by the model; {result.size_bytes / 1e6:.0f} MB",
            file=sys.stderr,
        )
        print(result.path)
    return EXIT_OK


def cmd_models(workspace, args) -> int:
    from kwdesk.core.store.models import adapter_savings, delete_model, list_models
    from kwdesk.core.store.personal import (
        FILE_KINDS,
        PersonalModelError,
        personal_models,
        rename_personal_model,
    )

    db = workspace.connect()
    try:
        if args.action == "delete":
            ids = _ids(args.ids)
            if not ids:
                print("kwdesk: name the model ids to delete (kwdesk models lists them)", file=sys.stderr)
                return EXIT_USAGE
            for model_id in ids:
                entry = delete_model(workspace, db, model_id)
                print(f"deleted {entry.id}: {entry.name}", file=sys.stderr)
            return EXIT_OK
        if args.action == "rename":
            if not args.ids or not args.ids[0].isdigit():
                print('kwdesk: kwdesk models rename ID "New name" (ID: any id of the model\'s files; '
                      'no name: the name kwdesk gives it)', file=sys.stderr)
                return EXIT_USAGE
            entry = next((m for m in list_models(db) if m.id == int(args.ids[0])), None)
            if entry is None or entry.run_id is None:
                print(f"kwdesk: {args.ids[0]} is not a file of a trained model (kwdesk models lists them)", file=sys.stderr)
                return EXIT_USAGE
            try:
                model = rename_personal_model(db, entry.run_id, " ".join(args.ids[1:]))
            except PersonalModelError as exc:
                print(f"kwdesk: {exc}", file=sys.stderr)
                return EXIT_USAGE
            print(model.name)
            return EXIT_OK
        savings = adapter_savings(db)
        models, personal = list_models(db), list(reversed(personal_models(db)))
    finally:
        db.close()
    if args.json:  # every file, with the name of the model it belongs to
        names = {f.id: m.name for m in personal for f in m.files}
        print_json([{**m.to_dict(), "model": names.get(m.id, m.name)} for m in models])
        return EXIT_OK
    if listed(args, models, "No models yet: train one (kwdesk train), then export it (kwdesk export)."):
        return EXIT_OK
    # One block a personal model, newest first: its name, what it knows, then its files by id.
    in_models = set()
    for model in personal:
        print(f"{model.name}  ({model.trained_on}; {model.quality_in_words})")
        for m in model.files:
            in_models.add(m.id)
            _print_file(m, FILE_KINDS)
    others = [m for m in models if m.id not in in_models]
    if others:
        print("Base models and other files")
        for m in others:
            _print_file(m, FILE_KINDS)
    for group in savings:
        print(group.describe())
    return EXIT_OK


def _ids(values: list[str]) -> list[int] | None:
    return [int(v) for v in values] if values and all(v.isdigit() for v in values) else None


def _print_file(m, kinds: dict) -> None:
    size = f"{m.size_bytes / 1e6:.0f} MB" if m.size_bytes else ""
    check = {True: "verified", False: "FAILED", None: ""}[m.verified]
    print(f"  {m.id:>4}  {kinds.get(m.kind, m.kind):<45} {m.quantization or '':<7} {size:>7}  {check}")


def cmd_publish(workspace, args) -> int:
    from kwdesk.core.export.publish import PublishJob
    from kwdesk.core.store.models import newest_gguf
    from kwdesk.core.store.runs import newest_finished_training

    db = workspace.connect()
    try:
        if args.target == "lmstudio":
            newest = newest_gguf(db) if args.model is None else None
            if args.model is None and newest is None:
                print("kwdesk: there is no exported model yet: kwdesk export makes one.", file=sys.stderr)
                return EXIT_NOTHING_DONE
            job = PublishJob(workspace, "lmstudio", args.model if args.model is not None else newest.id,
                             Path(args.dir) if args.dir else None)
        else:
            if not args.dir:
                print("kwdesk: name a new folder for the adapter with --dir", file=sys.stderr)
                return EXIT_USAGE
            newest = newest_finished_training(db) if args.run is None else None
            if args.run is None and newest is None:
                print("kwdesk: there is no finished training run yet: kwdesk train makes one.", file=sys.stderr)
                return EXIT_NOTHING_DONE
            job = PublishJob(workspace, "adapter", folder=Path(args.dir), run_id=args.run if args.run is not None else newest.id)
    finally:
        db.close()
    bar = Bar(not args.json, unit="file")
    try:
        summary = job.run(bar)
    finally:
        bar.close()
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['path']}")
    return EXIT_OK


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("export", help="merge a run's adapter, write a GGUF, quantize it and verify it")
    p.add_argument("run", nargs="?", type=int, metavar="RUN", help="a training run (default: the newest finished one)")
    p.add_argument("--quant", choices=["Q4_K_M", "Q5_K_M", "Q8_0", "F16"], help="default: the quantization in the settings")
    p.add_argument("--strength", type=float, metavar="S",
                   help="merge this share of what training changed (0 < S <= 1; default: the run's preset's): "
                   "lower keeps more general skills and fewer facts")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("models", help="list your models and their files, rename one, or delete files")
    p.add_argument("action", nargs="?", choices=["list", "rename", "delete"], default="list")
    p.add_argument("ids", nargs="*", metavar="ID", help="delete: file ids; rename: a file id of the model, then its new name")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("publish", help="hand a personal model to LM Studio, or its LoRA adapter to a server (vLLM, SGLang)")
    p.add_argument("target", choices=["lmstudio", "adapter"])
    p.add_argument("--model", type=int, metavar="ID", help="lmstudio: a GGUF model id (default: the newest verified export)")
    p.add_argument("--run", type=int, metavar="RUN", help="adapter: a training run (default: the newest finished one)")
    p.add_argument("--dir", metavar="DIR", help="lmstudio: LM Studio's models folder (default: ~/.lmstudio/models); "
                   "adapter: a new folder for the adapter (required)")
    p.add_argument("--json", action="store_true")
    return {"export": cmd_export, "models": cmd_models, "publish": cmd_publish}
