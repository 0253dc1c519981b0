"""kwdesk from a terminal: the same core jobs as the app, with progress bars.

`kwdesk` with no command opens the desktop app. Output meant for scripts goes to stdout
(``--json``); progress and messages go to stderr. Exit codes: 0 done, 1 nothing could be
done, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_NOTHING_DONE = 1
EXIT_USAGE = 2


def _add_train_options(p) -> None:
    p.add_argument("--base", metavar="MODEL", help="a GGUF file, an HF folder or a hub id (default: the bundled model)")
    p.add_argument("--preset", choices=["quick-try", "learn-documents", "learn-gently"], help="default: the preset in the settings")
    p.add_argument("--max-steps", type=int, metavar="N")
    p.add_argument("--epochs", type=float)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--rank", type=int)
    p.add_argument("--replay-ratio", type=float, metavar="R", help="replay examples per document example")
    p.add_argument("--replay-kl", type=float, metavar="W",
                   help="hold replay answers to the base model's whole distribution with this weight (0: off)")
    p.add_argument("--accepted-only", action="store_true", help="train only on accepted or edited pairs")
    p.add_argument("--no-packing", action="store_true")
    p.add_argument("--micro-batch", type=int, metavar="N", help="packed sequences per forward pass (a GPU trains 4x faster at 8 than at 2)")
    p.add_argument("--grad-accum", type=int, metavar="N", help="forward passes per optimizer step")
    p.add_argument("--qlora", action="store_true", help="hold the base in 4 bits (NVIDIA GPU with bitsandbytes): less GPU memory")
    p.add_argument("--seed", type=int)
    p.add_argument("--collection", metavar="NAME", help="train only on this knowledge collection's pairs")
    p.add_argument("--from-run", type=int, metavar="RUN",
                   help="go on from a finished run's adapter (fewer steps; what it learned from removed passages can "
                   "linger) instead of training from scratch")
    p.add_argument("--allow-conflicts", action="store_true", help="train even when pairs contradict each other (kwdesk conflicts)")


def _train_config(args, workspace=None):
    """The TrainConfig that the options of `train` and `bundle export` ask for."""
    from kwdesk.core.train.presets import preset

    overrides = {
        key: value
        for key, value in {
            "max_steps": args.max_steps, "epochs": args.epochs, "learning_rate": args.learning_rate, "rank": args.rank,
            "replay_ratio": args.replay_ratio, "replay_kl": args.replay_kl, "checkpoint_every": getattr(args, "checkpoint_every", None), "seed": args.seed,
            "micro_batch": args.micro_batch, "grad_accum": args.grad_accum, "qlora": args.qlora or None,
        }.items()
        if value is not None
    }
    if args.rank is not None:
        overrides["alpha"] = 2 * args.rank
    if args.accepted_only:
        overrides["accepted_only"] = True
    if args.no_packing:
        overrides["packing"] = False
    if args.from_run is not None:
        overrides["init_adapter_run"] = args.from_run
    if args.allow_conflicts:
        overrides["allow_conflicts"] = True
    if args.collection:
        from kwdesk.core.store.collections import find_collection

        db = workspace.connect()
        try:
            overrides["collection_id"] = find_collection(db, args.collection).id
        finally:
            db.close()
    return preset(args.preset, **overrides)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kwdesk",
        description="Train the knowledge in your documents into a small local language model. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        help="workspace folder (default: $KWDESK_WORKSPACE, else a folder in your user data folder)",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import PDF, .txt and .md files, or folders of them")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print one JSON object per file, as a list")
    p.add_argument("--chunk-tokens", type=int, default=None, metavar="N", help="chunk size in tokens (default 300)")
    p.add_argument("--no-ocr", action="store_true", help="do not OCR pages without a text layer")
    p.add_argument("--collection", metavar="NAME", help="put the files into this knowledge collection (made if new)")

    p = sub.add_parser("collections", help="knowledge collections: list, create, rename, or move documents into one")
    p.add_argument("action", nargs="?", choices=["list", "create", "rename", "add"], default="list")
    p.add_argument("name", nargs="?", help="create/rename/add: the collection")
    p.add_argument("args", nargs="*", help="rename: the new name; add: document ids")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("changes", help="what changed documents changed: pairs to retire, passages to generate for")
    p.add_argument("document", nargs="?", type=int, metavar="ID", help="a document (default: every changed one)")
    p.add_argument("--apply", action="store_true",
                   help="move the pairs of unchanged passages to the new version and retire those of removed passages")
    p.add_argument("--generate", action="store_true", help="then write pairs for the new passages (the settings' teacher)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("conflicts", help="pairs whose questions mean the same but whose answers disagree")
    p.add_argument("--collection", metavar="NAME")
    p.add_argument("--keep", type=int, metavar="ID", help="settle: keep this pair and reject the other side(s) of its conflicts")
    p.add_argument("--both", type=int, nargs=2, metavar="ID", help="settle: both pairs are right")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("docs", help="list the documents in the workspace")
    p.add_argument("--collection", metavar="NAME", help="only this knowledge collection's documents ('none': in no collection)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all-versions", action="store_true", help="include older versions of changed files")

    p = sub.add_parser("generate", help="write Q&A pairs and rephrasings from the documents with a teacher model")
    p.add_argument("--teacher", metavar="MODEL", help="a GGUF file, or an OpenAI-compatible URL (default: the bundled model)")
    p.add_argument("--endpoint-model", metavar="NAME", help="the model name at a --teacher URL")
    p.add_argument("--strategy", help="comma-separated: qa,entities,rephrase,paraphrase (default: the settings); "
                   "heldout makes new wordings kept out of training, for kwdesk eval")
    p.add_argument("--per-chunk", type=int, metavar="N", help="questions per chunk (default: the settings, 4)")
    p.add_argument("--document", type=int, action="append", metavar="ID", help="only this document (repeatable)")
    p.add_argument("--again", action="store_true", help="also for chunks that already have data from this teacher")
    p.add_argument("--not-learned", action="store_true",
                   help="more wordings of the questions the newest evaluation found not learned")
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

    p = sub.add_parser("dataset", help="export or import the dataset as JSONL or a Hugging Face dataset folder")
    p.add_argument("action", choices=["export", "import"])
    p.add_argument("path", help="a JSONL file, or a folder for --format hf (import reads either)")
    p.add_argument("--format", choices=["openai", "sharegpt", "alpaca", "hf"], default="openai",
                   help="hf: a folder with a dataset card and data/train.jsonl, data/test.jsonl")
    p.add_argument("--include-rejected", action="store_true")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("train", help="train a LoRA adapter on the pairs (CPU works, slowly; a GPU is used when present)")
    _add_train_options(p)
    p.add_argument("--checkpoint-every", type=int, metavar="N")
    p.add_argument("--resume", type=int, metavar="RUN", help="go on with an interrupted run")
    p.add_argument("--plan", action="store_true", help="only say what would be trained, and how long it may take")
    p.add_argument("--export", action="store_true", help="then make the verified model file, as `kwdesk export` does")
    p.add_argument("--quant", choices=["Q4_K_M", "Q5_K_M", "Q8_0", "F16"], help="with --export: default: the settings'")
    p.add_argument("--strength", type=float, metavar="S", help="with --export: the share of the change to merge")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("bundle", help="a training bundle for another machine (accelerate launch), or its adapter brought back")
    p.add_argument("action", choices=["export", "import"])
    p.add_argument("folder", help="export: a new folder; import: a bundle folder trained elsewhere")
    _add_train_options(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="merge a run's adapter, write a GGUF, quantize it and verify it")
    p.add_argument("run", nargs="?", type=int, metavar="RUN", help="a training run (default: the newest finished one)")
    p.add_argument("--quant", choices=["Q4_K_M", "Q5_K_M", "Q8_0", "F16"], help="default: the quantization in the settings")
    p.add_argument("--strength", type=float, metavar="S",
                   help="merge this share of what training changed (0 < S <= 1; default: the run's preset's): "
                   "lower keeps more general skills and fewer facts")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("chat", help="chat with a model (default: your newest personal model)")
    p.add_argument("--model", metavar="MODEL", help="a model id from 'kwdesk models', a GGUF file, an HF folder or a hub id")
    p.add_argument("--sources", action="store_true", help="add the best-matching passages of your documents, cited by page")
    p.add_argument("--once", metavar="QUESTION", help="ask one question, print the answer, and exit")
    p.add_argument("--system", metavar="PROMPT", help="the system prompt")
    p.add_argument("--max-tokens", type=int, default=512)
    p.add_argument("--json", action="store_true", help="with --once: the answer and its sources as JSON")

    p = sub.add_parser("eval", help="measure what a model learned and forgot: held-out questions, with and without sources")
    p.add_argument("model", nargs="?", metavar="MODEL", help="a model id from 'kwdesk models' or a GGUF file (default: the newest)")
    p.add_argument("--probe-limit", type=int, metavar="N", help="ask only N of the general questions and N of the replay prompts (default: all)")
    p.add_argument("--report", metavar="FILE", help="also write the report here: .html, .svg or .png")
    p.add_argument("--history", action="store_true",
                   help="list every evaluation so far (model, run, collection, data), to compare versions")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("doctor", help="versions, hardware and workspace health, for a bug report")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("backup", help="write the whole workspace into one archive (.zip)")
    p.add_argument("archive", metavar="FILE")
    p.add_argument("--no-models", action="store_true", help="leave out the model files (GGUF), which are large")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("restore", help="unpack a backup archive into a new workspace folder")
    p.add_argument("archive", metavar="FILE")
    p.add_argument("folder", metavar="FOLDER", help="a new or empty folder")

    p = sub.add_parser("publish", help="hand a personal model to LM Studio, or its LoRA adapter to a server (vLLM, SGLang)")
    p.add_argument("target", choices=["lmstudio", "adapter"])
    p.add_argument("--model", type=int, metavar="ID", help="lmstudio: a GGUF model id (default: the newest verified export)")
    p.add_argument("--run", type=int, metavar="RUN", help="adapter: a training run (default: the newest finished one)")
    p.add_argument("--dir", metavar="DIR", help="lmstudio: LM Studio's models folder (default: ~/.lmstudio/models); "
                   "adapter: a new folder for the adapter (required)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("models", help="list the models of the workspace, or delete one")
    p.add_argument("action", nargs="?", choices=["list", "delete"], default="list")
    p.add_argument("ids", nargs="*", type=int, metavar="ID")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("settings", help="show the settings, or set one: kwdesk settings KEY VALUE")
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", help="full-text search over the chunks of the documents")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from kwdesk import __version__

        print(f"kwdesk {__version__}")
        return EXIT_OK
    from kwdesk.core.base.errors import human_error, is_user_facing

    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("kwdesk: stopped", file=sys.stderr)
        return 130
    except Exception as exc:
        # A mistake a person can mend (a wrong model id, a missing file, a busy workspace, a
        # full disk) is one line; anything else is a bug and keeps its traceback.
        if not is_user_facing(exc):
            raise
        print(f"kwdesk: {human_error(exc)}", file=sys.stderr)
        return EXIT_NOTHING_DONE


def _dispatch(args) -> int:
    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.base.network import apply_network_policy

    settings = load_settings()
    apply_network_policy(settings.allow_downloads)
    _apply_settings(args, settings)
    if args.command is None:
        from kwdesk.ui.app import run_app

        return run_app(args.workspace)
    if args.command == "settings":
        return cmd_settings(args)
    if args.command == "restore":
        return cmd_restore(args)
    if args.command == "doctor":  # before opening: doctor must work on a workspace that will not open
        return cmd_doctor(args)

    from kwdesk.core.store.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    handler = {
        "import": cmd_import,
        "docs": cmd_docs,
        "collections": cmd_collections,
        "changes": cmd_changes,
        "conflicts": cmd_conflicts,
        "search": cmd_search,
        "generate": cmd_generate,
        "pairs": cmd_pairs,
        "dataset": cmd_dataset,
        "train": cmd_train,
        "export": cmd_export,
        "chat": cmd_chat,
        "models": cmd_models,
        "publish": cmd_publish,
        "bundle": cmd_bundle,
        "eval": cmd_eval,
        "backup": cmd_backup,
    }[args.command]
    return handler(workspace, args)


def _apply_settings(args, settings) -> None:
    """Options not given on the command line come from the settings (shared with the app)."""
    # An environment variable (a script's choice) outranks the saved setting.
    if args.workspace is None and not os.environ.get("KWDESK_WORKSPACE"):
        args.workspace = settings.workspace or None
    per_command = {
        "generate": {"teacher": settings.teacher or None, "endpoint_model": settings.endpoint_model or None,
                     "per_chunk": settings.per_chunk, "strategy": settings.strategies},
        "train": {"base": settings.base_model or None, "preset": settings.preset, "quant": settings.quantization},
        "bundle": {"base": settings.base_model or None, "preset": settings.preset},
        "export": {"quant": settings.quantization},
    }
    for name, value in per_command.get(args.command, {}).items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def cmd_settings(args) -> int:
    from kwdesk.core.app.settings import load_settings, settings_file, update_setting

    if args.key is not None:
        if args.value is None:
            value = load_settings().to_dict().get(args.key)
            if value is None and args.key not in load_settings().to_dict():
                print(f"kwdesk: unknown setting {args.key!r}", file=sys.stderr)
                return EXIT_USAGE
            print(value)
            return EXIT_OK
        try:
            update_setting(args.key, args.value)
        except ValueError as exc:
            print(f"kwdesk: {exc}", file=sys.stderr)
            return EXIT_USAGE
    current = load_settings().to_dict()
    if args.json:
        _print_json(current)
    else:
        for key, value in current.items():
            print(f"{key:<22} {value}")
        print(f"({settings_file()})", file=sys.stderr)
    return EXIT_OK


def _print_json(value) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    print()


class _Bar:
    """A tqdm progress bar on stderr, shown only to a person at a terminal."""

    def __init__(self, enabled: bool, unit: str) -> None:
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def __call__(self, progress) -> None:
        if self.bar is None:
            return
        self.bar.total = progress.total
        self.bar.n = progress.done
        self.bar.set_description_str(progress.message[:60], refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_import(workspace, args) -> int:
    from kwdesk.core.ingest.importer import (
        DUPLICATE,
        IMPORTED,
        ImportJob,
        ImportOptions,
    )

    options = ImportOptions(ocr=not args.no_ocr)
    if args.collection:
        from kwdesk.core.store.collections import (
            CollectionError,
            create_collection,
            find_collection,
        )

        db = workspace.connect()
        try:
            try:
                options.collection_id = find_collection(db, args.collection).id
            except CollectionError:
                options.collection_id = create_collection(db, args.collection).id
        except CollectionError as exc:
            print(f"kwdesk: {exc}", file=sys.stderr)
            return EXIT_USAGE
        finally:
            db.close()
    if args.chunk_tokens is not None:
        if args.chunk_tokens < 16:
            print("kwdesk: --chunk-tokens must be at least 16", file=sys.stderr)
            return EXIT_USAGE
        options.chunk_tokens = args.chunk_tokens
    job = ImportJob(workspace, args.paths, options)
    bar = _Bar(not args.json, unit="file")
    try:
        results = job.run(bar)
    finally:
        bar.close()
    if args.json:
        _print_json([r.to_dict() for r in results])
    else:
        for r in results:
            figures = f"{r.pages} page{'s' * (r.pages != 1)}, {r.chunks} chunk{'s' * (r.chunks != 1)}" if r.status in (IMPORTED, DUPLICATE) else ""
            version = f" (version {r.version})" if r.status == IMPORTED and (r.version or 1) > 1 else ""
            detail = "; ".join(x for x in (figures, r.reason) if x)
            print(f"{r.status:<9} {r.path}{version}" + (f"  [{detail}]" if detail else ""))
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no files found"
        print(f"{summary}. Workspace: {workspace.root}", file=sys.stderr)
    if not any(r.status in (IMPORTED, DUPLICATE) for r in results):
        return EXIT_NOTHING_DONE
    return EXIT_OK


def cmd_collections(workspace, args) -> int:
    from kwdesk.core.store.collections import (
        create_collection,
        find_collection,
        list_collections,
        move_documents,
        rename_collection,
    )

    db = workspace.connect()
    try:
        if args.action != "list" and not args.name:
            print(f"kwdesk: collections {args.action} needs a collection name", file=sys.stderr)
            return EXIT_USAGE
        if args.action == "create":
            made = create_collection(db, args.name)
            print(f"Made collection {made.name} ({made.id}). Import into it: kwdesk import FILES --collection \"{made.name}\"")
            return EXIT_OK
        if args.action == "rename":
            if len(args.args) != 1:
                print("kwdesk: collections rename NAME NEW_NAME", file=sys.stderr)
                return EXIT_USAGE
            renamed = rename_collection(db, find_collection(db, args.name), args.args[0])
            print(f"Renamed to {renamed.name}.")
            return EXIT_OK
        if args.action == "add":
            ids = [int(x) for x in args.args if x.isdigit()]
            if not ids or len(ids) != len(args.args):
                print("kwdesk: collections add NAME DOCUMENT_ID...", file=sys.stderr)
                return EXIT_USAGE
            moved = move_documents(db, find_collection(db, args.name), ids)
            print(f"{moved} document version(s) now in {args.name}.")
            return EXIT_OK
        collections = list_collections(db)
    finally:
        db.close()
    if args.json:
        _print_json([c.to_dict() for c in collections])
    elif not collections:
        print("No collections yet: kwdesk collections create NAME", file=sys.stderr)
    for c in [] if args.json else collections:
        print(f"{c.id:>4}  {c.name:<30} {c.documents:>4} documents {c.pairs:>6} pairs {c.adapters:>3} adapters")
    return EXIT_OK


def cmd_changes(workspace, args) -> int:
    from kwdesk.core.data.versions import (
        TRAINING_CHOICE,
        apply_changes,
        changed_documents,
        document_changes,
    )

    db = workspace.connect()
    try:
        found = [document_changes(db, args.document)] if args.document is not None else changed_documents(db)
        applied = [apply_changes(db, c) for c in found] if args.apply else []
    finally:
        db.close()
    if args.json:
        _print_json([{**c.to_dict(), **({"applied": a} if applied else {})} for c, a in zip(found, applied or [None] * len(found))])
    else:
        if not found:
            print("No changed documents wait for sorting.")
        for c in found:
            print(f"{c.name} version {c.version} (document {c.document_id}, was {c.previous_id}): "
                  f"{len(c.unchanged)} passages unchanged, {len(c.removed)} removed, {len(c.added)} new")
            print(f"  pairs to retire (their passage is gone): {len(c.pairs_to_retire)} {c.pairs_to_retire[:20]}")
            print(f"  pairs that still hold, to move to the new version: {len(c.pairs_to_carry)}")
            print(f"  new passages without pairs, to generate for: {len(c.chunks_to_generate)} {c.chunks_to_generate[:20]}")
        for c, a in zip(found, applied):
            print(f"{c.name}: {a['carried']} pairs moved to version {c.version}, {a['retired']} retired.")
        if found:
            print("Then train the next adapter:\n  " + "\n  ".join(
                f"{flag}: {text}" for flag, text in (("--from-run RUN", TRAINING_CHOICE["previous"]),
                                                       ("(no flag)", TRAINING_CHOICE["scratch"]))))
    if args.generate and found:
        chunks = [cid for c in found for cid in c.chunks_to_generate]
        if chunks:
            return _generate_for_chunks(workspace, args, chunks)
    return EXIT_OK


def _generate_for_chunks(workspace, args, chunks: list[int]) -> int:
    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.data.generate import GenerateOptions

    settings = load_settings()
    result = _run_generation(workspace, args, GenerateOptions(strategies=("qa",), chunk_ids=chunks),
                             settings.teacher or None, settings.endpoint_model or None)
    if isinstance(result, int):
        return result
    print(f"{result.pairs_added} new pairs for {len(chunks)} new passages.", file=sys.stderr)
    return EXIT_OK


def _run_generation(workspace, args, options, teacher_spec, endpoint_model):
    """Generate with a progress bar; the job opens the teacher (the settings' unless the
    command line names one) and closes it. A teacher that cannot open is one line from main."""
    from kwdesk.core.data.generate import GenerateJob
    from kwdesk.core.data.teacher import TeacherChoice

    bar = _Bar(not args.json, unit="item")
    try:
        return GenerateJob(workspace, TeacherChoice(teacher_spec, endpoint_model), options).run(bar)
    finally:
        bar.close()


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
    if args.json:
        _print_json([c.to_dict() for c in conflicts])
        return EXIT_OK
    if not conflicts:
        print("No pairs contradict each other.")
    for c in conflicts:
        for side in (c.a, c.b):
            where = f"{side.document} v{side.version}, p. {side.page}" if side.document else "added by hand"
            print(f"{side.pair_id:>6}  {side.question}\n        -> {side.answer[:160]}\n        [{where}; key facts: {', '.join(side.facts)}]")
        print()
    if conflicts:
        print("Settle each: kwdesk conflicts --keep ID (rejects the other side), or --both ID ID.", file=sys.stderr)
    return EXIT_OK


def cmd_docs(workspace, args) -> int:
    from kwdesk.core.store.collections import find_collection
    from kwdesk.core.store.documents import NO_COLLECTION, list_documents

    db = workspace.connect()
    try:
        collection = None
        if args.collection:
            collection = NO_COLLECTION if args.collection == "none" else find_collection(db, args.collection).id
        docs = list_documents(db, include_old_versions=args.all_versions, collection_id=collection)
    finally:
        db.close()
    if args.json:
        _print_json([d.to_dict() for d in docs])
        return EXIT_OK
    if not docs:
        print(f"No documents yet. Import some: kwdesk import FILE_OR_FOLDER  (workspace {workspace.root})", file=sys.stderr)
        return EXIT_OK
    for d in docs:
        if d.status == "rejected":
            print(f"{d.id:>5}  rejected  {d.name}  [{d.reason}]")
        else:
            version = f" v{d.version}" if d.version > 1 else ""
            collection = f"  [{d.collection}]" if d.collection else ""
            print(f"{d.id:>5}  {d.pages:>4} p  {d.chunks:>5} chunks  {d.name}{version}  {d.title[:60]}{collection}")
    return EXIT_OK


def cmd_generate(workspace, args) -> int:
    from kwdesk.core.data.generate import HELD_OUT, STRATEGIES, GenerateOptions

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
    result = _run_generation(workspace, args, options, args.teacher, args.endpoint_model)
    if isinstance(result, int):
        return result
    if args.json:
        _print_json(result.to_dict())
    else:
        for strategy, report in result.reports.items():
            if not report.attempts and not report.usable:
                print(f"{strategy:<10}     - nothing new to do")
                continue
            reasons = ", ".join(f"{n} {reason}" for reason, n in report.rejected.most_common())
            print(f"{strategy:<10} {report.usable:>5} usable of {report.attempts} attempts" + (f"  (dropped: {reasons})" if reasons else ""))
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
        _print_json(pairs)
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


def cmd_dataset(workspace, args) -> int:
    from kwdesk.core.data.dataset_formats import DatasetJob

    bar = _Bar(not args.json, unit="file")
    try:
        done = DatasetJob(workspace, args.action, Path(args.path), args.format, include_rejected=args.include_rejected).run(bar)
    finally:
        bar.close()
    summary = {"path": str(Path(args.path).resolve()), "format": args.format, "records": done["records"]} \
        if args.action == "export" else {k: v for k, v in done.items() if k not in ("action", "path")}
    if args.json:
        _print_json(summary)
    else:
        print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    return EXIT_OK


def cmd_train(workspace, args) -> int:
    from kwdesk.core.base.jobs import Cancelled
    from kwdesk.core.store.collections import CollectionError
    from kwdesk.core.train.job import PlanJob, TrainJob

    try:
        config = _train_config(args, workspace)
    except CollectionError as exc:
        print(f"kwdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.plan:
        bar = _Bar(not args.json, unit="step")
        try:
            plan = PlanJob(workspace, config, args.base).run(bar)
        finally:
            bar.close()
        if args.json:
            _print_json(plan.to_dict())
        else:
            print(
                f"{plan.examples} examples from your documents + {plan.replay_examples} replay, "
                f"{plan.tokens_per_epoch} tokens an epoch, {plan.steps} steps; about "
                f"{plan.estimated_seconds / 60:.0f} min and {plan.estimated_memory_mb / 1000:.1f} GB on this machine (estimate)."
            )
        return EXIT_OK
    job = TrainJob(workspace, config, args.base, resume_run=args.resume)
    bar = _Bar(not args.json, unit="step")
    try:
        if args.export:
            from kwdesk.core.app.flows import TrainThenExportJob

            both = TrainThenExportJob(job, args.quant, args.strength).run(bar)
            result, exported = both.training, both.export
        else:
            result, exported = job.run(bar), None
    except Cancelled:
        print("kwdesk: training stopped; resume it with --resume", file=sys.stderr)
        return 130
    finally:
        bar.close()
    if args.json:
        _print_json({**result.to_dict(), "export": exported.to_dict() if exported else None})
    else:
        print(
            f"Run {result.run_id}: {result.steps} steps, loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}, "
            f"{result.tokens_per_second:.0f} tokens/s, peak memory {result.peak_memory_mb:.0f} MB.\n"
            f"Adapter: {result.adapter_dir}"
        )
        if exported is not None:
            print(f"Model file (verified): {exported.path}")
    return EXIT_OK


def cmd_export(workspace, args) -> int:
    from kwdesk.core.export.job import ExportJob

    bar = _Bar(not args.json, unit="stage")
    try:
        result = ExportJob(workspace, args.run, args.quant, args.strength).run(bar)
    finally:
        bar.close()
    if args.json:
        _print_json(result.to_dict())
    else:
        v = result.verification
        print(
            f"verified: {v.agreement:.0%} next-token agreement with the trained model (needed {v.tolerance:.0%}), "
            f"{v.stopped}/{v.prompts} answers ended by the model; {result.size_bytes / 1e6:.0f} MB",
            file=sys.stderr,
        )
        print(result.path)
    return EXIT_OK


def cmd_chat(workspace, args) -> int:
    from kwdesk.core.chat.engine import ChatEngine
    from kwdesk.core.models.targets import chat_target

    db = workspace.connect()
    try:
        target = chat_target(db, args.model)  # a wrong id or file: one line from main
    finally:
        db.close()
    engine = ChatEngine.for_target(workspace, target)
    name = target.name
    try:
        conversation = engine.new_conversation(args.system)
        stream = None if args.json else (lambda t: (sys.stdout.write(t), sys.stdout.flush()))

        def answer(question: str) -> None:
            reply = engine.ask(conversation, question, with_sources=args.sources, on_token=stream, max_tokens=args.max_tokens)
            if args.json:
                _print_json({"answer": reply.text, "stopped": reply.stopped, "sources": reply.sources, "model": name,
                             "conversation_id": reply.conversation_id})
                return
            print()
            for source in reply.sources:
                pages = f"p. {source['page_start']}" + (f"-{source['page_end']}" if source["page_end"] != source["page_start"] else "")
                print(f"  [{source['n']}] {source['document']}, {pages}")

        if args.once is not None:
            answer(args.once)
            return EXIT_OK
        print(f"Chatting with {name}. An empty line or Ctrl-D ends.", file=sys.stderr)
        while True:
            try:
                question = input("> ").strip()
            except EOFError:
                break
            if not question:
                break
            answer(question)
        return EXIT_OK
    finally:
        engine.close()


def cmd_backup(workspace, args) -> int:
    from kwdesk.core.store.backup import BackupJob

    bar = _Bar(not args.json, unit="file")
    try:
        result = BackupJob(workspace, args.archive, include_models=not args.no_models).run(bar)
    finally:
        bar.close()
    if args.json:
        _print_json(result.to_dict())
    else:
        print(f"{result.path}  ({result.files} files, {result.bytes / 1e6:.1f} MB before compression)")
    return EXIT_OK


def cmd_doctor(args) -> int:
    from kwdesk.core.app.doctor import report
    from kwdesk.core.base.paths import default_workspace_dir

    root = Path(args.workspace).expanduser().resolve() if args.workspace else default_workspace_dir()
    found = report(root)
    if args.json:
        _print_json(found)
        return EXIT_OK

    def show(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                show(f"{prefix}{key}." if prefix else f"{key}.", inner)
        else:
            print(f"{prefix.rstrip('.'):<32} {value}")

    show("", found)
    return EXIT_OK


def cmd_restore(args) -> int:
    from kwdesk.core.store.backup import RestoreJob

    bar = _Bar(True, unit="file")
    try:
        workspace = RestoreJob(args.archive, args.folder).run(bar)
    finally:
        bar.close()
    print(f"Restored into {workspace.root}. Open it with: kwdesk --workspace {workspace.root}")
    return EXIT_OK


def cmd_eval(workspace, args) -> int:
    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.app.teacher import teacher_choice
    from kwdesk.core.evaluation.job import EvaluateJob
    from kwdesk.core.evaluation.results import CONFIGS

    if args.history:
        return _eval_history(workspace, args)
    bar = _Bar(not args.json, unit="answer")
    try:
        job = EvaluateJob(workspace, args.model, probe_limit=args.probe_limit, teacher=teacher_choice(load_settings()))
        result = job.run(bar)
    finally:
        bar.close()
    if args.report:
        _write_report(workspace, result.eval_id, Path(args.report))
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    print(f"Evaluation {result.eval_id}: {result.model_name} (base: {result.base_name})")
    print("Held-out questions about your documents (new wordings of trained facts):")
    for config in CONFIGS:
        score = result.heldout[config]
        print(f"  {config:<14} {score.correct:>4}/{score.total:<4} {score.share:6.1%}")
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
        _print_json(history)
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


def cmd_bundle(workspace, args) -> int:
    from kwdesk.core.train.bundle import export_bundle, import_bundle

    def status(message: str) -> None:
        print(message, file=sys.stderr)

    db = workspace.connect()
    try:
        if args.action == "export":
            summary = export_bundle(workspace, db, Path(args.folder), _train_config(args, workspace), args.base, status)
        else:
            run_id = import_bundle(workspace, db, Path(args.folder), status)
            summary = {"run_id": run_id, "next": f"kwdesk export {run_id}"}
    finally:
        db.close()
    if args.json:
        _print_json(summary)
    elif args.action == "export":
        print(f"{summary['records']} records written to {summary['path']}; train there with: {summary['command']}")
    else:
        print(f"The adapter is run {summary['run_id']}; make a model of it with: {summary['next']}")
    return EXIT_OK


def cmd_publish(workspace, args) -> int:
    from kwdesk.core.export.publish import (
        export_peft_adapter,
        publish_lmstudio,
    )
    from kwdesk.core.store.models import newest_gguf

    db = workspace.connect()
    try:
        if args.target == "lmstudio":
            model_id = args.model
            if model_id is None:
                newest = newest_gguf(db)
                if newest is None:
                    print("kwdesk: there is no exported model yet: kwdesk export makes one.", file=sys.stderr)
                    return EXIT_NOTHING_DONE
                model_id = newest.id
            path = publish_lmstudio(db, model_id, Path(args.dir) if args.dir else None)
            summary = {"target": "lmstudio", "model_id": model_id, "path": str(path)}
        else:
            if not args.dir:
                print("kwdesk: name a new folder for the adapter with --dir", file=sys.stderr)
                return EXIT_USAGE
            run_id = args.run
            if run_id is None:
                from kwdesk.core.store.runs import newest_finished_training

                newest = newest_finished_training(db)
                run_id = newest.id if newest else None
                if run_id is None:
                    print("kwdesk: there is no finished training run yet: kwdesk train makes one.", file=sys.stderr)
                    return EXIT_NOTHING_DONE
            path = export_peft_adapter(db, run_id, Path(args.dir))
            summary = {"target": "adapter", "run_id": run_id, "path": str(path.resolve())}
    finally:
        db.close()
    if args.json:
        _print_json(summary)
    else:
        print(f"{summary['path']}")
    return EXIT_OK


def cmd_models(workspace, args) -> int:
    from kwdesk.core.store.models import (
        adapter_savings,
        delete_model,
        list_models,
    )

    db = workspace.connect()
    try:
        savings = adapter_savings(db)
        if args.action == "delete":
            if not args.ids:
                print("kwdesk: name the model ids to delete", file=sys.stderr)
                return EXIT_USAGE
            for model_id in args.ids:
                entry = delete_model(workspace, db, model_id)
                print(f"deleted {entry.id}: {entry.name}", file=sys.stderr)
            return EXIT_OK
        models = list_models(db)
    finally:
        db.close()
    if args.json:
        _print_json([m.to_dict() for m in models])
        return EXIT_OK
    if not models:
        print("No models yet: train one (kwdesk train), then export it (kwdesk export).", file=sys.stderr)
    for m in models:
        size = f"{m.size_bytes / 1e6:.0f} MB" if m.size_bytes else ""
        check = {True: "verified", False: "FAILED", None: ""}[m.verified]
        print(f"{m.id:>4}  {m.kind:<9} {m.name:<48} {m.quantization or '':<7} {size:>7}  {check}  run {m.run_id}")
    for group in savings:
        print(group.describe())
    return EXIT_OK


def cmd_search(workspace, args) -> int:
    from kwdesk.core.store.documents import search_chunks

    db = workspace.connect()
    try:
        hits = search_chunks(db, args.query, args.limit)
    finally:
        db.close()
    if args.json:
        _print_json(hits)
    else:
        for hit in hits:
            pages = f"p. {hit['page_start']}" + (f"-{hit['page_end']}" if hit["page_end"] != hit["page_start"] else "")
            print(f"{hit['document']} {pages}  {hit['heading_path']}\n    {hit['text'][:200]!s}\n")
    return EXIT_OK if hits else EXIT_NOTHING_DONE


if __name__ == "__main__":
    sys.exit(main())
