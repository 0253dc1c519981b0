"""Training: train (with --plan and --export), runs, bundle."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from kwdesk.cli.output import EXIT_OK, EXIT_USAGE, Bar, print_json


def add_train_options(p) -> None:
    p.add_argument("--base", metavar="MODEL", help="a GGUF file, an HF folder or a hub id (default: the bundled model)")
    p.add_argument("--preset", choices=["quick-try", "learn-documents", "learn-gently"], help="default: the preset in the settings")
    p.add_argument("--max-steps", type=int, metavar="N")
    p.add_argument("--epochs", type=float)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--rank", type=int)
    from kwdesk.core.train.methods import METHODS

    p.add_argument("--method", choices=list(METHODS),
                   help="the kind of adapter: lora (default), dora, ia3, prefix (runs under transformers only; see "
                        "`kwdesk compare`)")
    p.add_argument("--replay-ratio", type=float, metavar="R", help="replay examples per document example")
    p.add_argument("--replay-kl", type=float, metavar="W",
                   help="hold replay answers to the base model's whole distribution with this weight (0: off)")
    p.add_argument("--fact-replay", type=float, metavar="S",
                   help="add questions about well-known real things, shaped like the documents' questions, "
                        "answered by the base: this share of the replay examples (0: none)")
    p.add_argument("--context-distill", type=float, metavar="W",
                   help="also match the base model that reads each pair's passage, with this weight (0: off)")
    p.add_argument("--with-sources", action="store_true",
                   help="also train each pair with the passages the chat retrieves for it, citing its own")
    p.add_argument("--sources-passages", type=int, metavar="N",
                   help="with --with-sources (or a preset that has it): how many of the chat's passages each pair's "
                        "with-sources form holds (0: as many as the chat gives this base; default: the preset's)")
    p.add_argument("--early-stop", action=argparse.BooleanOptionalAction, default=None,
                   help="hold back some rewordings of trained questions, ask them after each pass, keep the best pass "
                        "and stop when they stop improving")
    p.add_argument("--time-limit", type=float, metavar="MIN",
                   help="about how long training may take here: the recipe trains the with-sources form less, "
                        "then fewer passes, to stay near it (default: the preset's)")
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


def train_config(args, workspace=None):
    """The TrainConfig that the options of `train` and `bundle export` ask for."""
    from kwdesk.core.train.presets import preset

    overrides = {
        key: value
        for key, value in {
            "max_steps": args.max_steps, "epochs": args.epochs, "learning_rate": args.learning_rate, "rank": args.rank,
            "replay_ratio": args.replay_ratio, "replay_kl": args.replay_kl,
            "fact_replay": getattr(args, "fact_replay", None), "context_distill": args.context_distill, "checkpoint_every": getattr(args, "checkpoint_every", None), "seed": args.seed,
            "micro_batch": args.micro_batch, "grad_accum": args.grad_accum, "qlora": args.qlora or None,
            "sources_passages": getattr(args, "sources_passages", None),
        }.items()
        if value is not None
    }
    if getattr(args, "time_limit", None) is not None:
        overrides["time_budget_s"] = int(args.time_limit * 60)
    if args.rank is not None:
        overrides["alpha"] = 2 * args.rank
    if any(getattr(args, name, None) is not None for name in ("epochs", "learning_rate", "micro_batch")):
        overrides["adapt"] = False  # the expert's numbers, as given
    if args.accepted_only:
        overrides["accepted_only"] = True
    if args.no_packing:
        overrides["packing"] = False
    if args.with_sources:
        overrides["train_with_sources"] = True
    if getattr(args, "early_stop", None) is not None:
        overrides["early_stop"] = args.early_stop
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
    config = preset(args.preset, **overrides)
    if getattr(args, "method", None):
        from kwdesk.core.train.methods import with_method

        # The method's own share of the preset's rate, unless the expert gave a rate.
        config = with_method(config, args.method)
        if args.learning_rate is not None:
            config = replace(config, learning_rate=args.learning_rate)
    return config


def cmd_train(workspace, args) -> int:
    from kwdesk.core.base.jobs import Cancelled
    from kwdesk.core.store.collections import CollectionError
    from kwdesk.core.train.job import PlanJob, TrainJob

    try:
        config = train_config(args, workspace)
    except CollectionError as exc:
        print(f"kwdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.export:
        from kwdesk.core.train.methods import METHODS

        chosen = METHODS[config.method]
        if not chosen.exportable:  # said before training, not after half an hour
            print(f"kwdesk: {chosen.label} cannot become a model file: {chosen.cannot_export}. Train without --export; "
                  "`kwdesk eval --peft-run RUN` evaluates it under transformers.", file=sys.stderr)
            return EXIT_USAGE
    if args.plan:
        from kwdesk.core.base.jobs import format_duration
        from kwdesk.core.models.gguf import QUANTIZATIONS, quantization_in_words

        bar = Bar(not args.json, unit="step")
        try:
            plan = PlanJob(workspace, config, args.base).run(bar)
        finally:
            bar.close()
        if args.json:
            print_json(plan.to_dict())
        else:
            print(plan.summary())
            print(plan.settings)
            print("Each preset on these pairs:")
            for name, seconds in plan.preset_seconds.items():
                print(f"  {name:<16} about {format_duration(seconds)}")
            print("Model files:")
            for quantization in QUANTIZATIONS:
                print(f"  {quantization:<7} {quantization_in_words(quantization, plan.file_mb(quantization))}")
        return EXIT_OK
    job = TrainJob(workspace, config, args.base, resume_run=args.resume)
    bar = Bar(not args.json, unit="step")

    def progress(p) -> None:
        if p.estimated_s is not None and not args.json:
            bar.say(p.message)  # the plan, before the first step
        bar(p)

    try:
        if args.export:
            from kwdesk.core.app.flows import TrainThenExportJob

            both = TrainThenExportJob(job, args.quant, args.strength).run(progress)
            result, exported = both.training, both.export
        else:
            result, exported = job.run(progress), None
    except Cancelled:
        print("kwdesk: training stopped; resume it with --resume", file=sys.stderr)
        return 130
    finally:
        bar.close()
    if args.json:
        print_json({**result.to_dict(), "export": exported.to_dict() if exported else None})
    else:
        print(
            f"Run {result.run_id}: {result.steps} steps, loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}, "
            f"{result.tokens_per_second:.0f} tokens/s, peak memory {result.peak_memory_mb:.0f} MB.\n"
            f"Adapter: {result.adapter_dir}"
        )
        if exported is not None:
            print(f"Model file (verified): {exported.path}")
    return EXIT_OK


def cmd_bundle(workspace, args) -> int:
    from kwdesk.core.train.bundle import export_bundle, import_bundle

    def status(message: str) -> None:
        print(message, file=sys.stderr)

    db = workspace.connect()
    try:
        if args.action == "export":
            summary = export_bundle(workspace, db, Path(args.folder), train_config(args, workspace), args.base, status)
        else:
            run_id = import_bundle(workspace, db, Path(args.folder), status)
            summary = {"run_id": run_id, "next": f"kwdesk export {run_id}"}
    finally:
        db.close()
    if args.json:
        print_json(summary)
    elif args.action == "export":
        print(f"{summary['records']} records written to {summary['path']}; train there with: {summary['command']}")
    else:
        print(f"The adapter is run {summary['run_id']}; make a model of it with: {summary['next']}")
    return EXIT_OK


def cmd_runs(workspace, args) -> int:
    """The training runs as the Train page lists them: state, steps, the last loss, and whether
    a model file was or can be made."""
    from dataclasses import asdict

    from kwdesk.core.train.job import training_runs

    db = workspace.connect()
    try:
        runs = training_runs(workspace, db)
    finally:
        db.close()
    if args.json:
        print_json([{**asdict(run), "state": run.state_in_words} for run in runs])
        return EXIT_OK
    if not runs:
        print("kwdesk: no training runs yet (kwdesk train)", file=sys.stderr)
        return EXIT_OK
    for run in runs:
        steps = f"{run.steps}" + (f"/{run.total_steps}" if run.total_steps else "")
        loss = f"loss {run.losses[-1]:.3f}" if run.losses else ""
        made = "model file made" if run.exported else (f"no model file: {run.cannot_export}" if run.cannot_export else "")
        print(f"{run.id:>4}  {run.state_in_words:<24} {run.preset:<16} steps {steps:<9} {loss:<11} {made}".rstrip())
        if run.error:
            print(f"      {run.error}")
    return EXIT_OK


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("train", help="train a LoRA adapter on the pairs (CPU works, slowly; a GPU is used when present)")
    add_train_options(p)
    p.add_argument("--checkpoint-every", type=int, metavar="N")
    p.add_argument("--resume", type=int, metavar="RUN", help="go on with an interrupted run")
    p.add_argument("--plan", action="store_true", help="only say what would be trained, and how long it may take")
    p.add_argument("--export", action="store_true", help="then make the verified model file, as `kwdesk export` does")
    p.add_argument("--quant", choices=["Q4_K_M", "Q5_K_M", "Q8_0", "F16"], help="with --export: default: the settings'")
    p.add_argument("--strength", type=float, metavar="S", help="with --export: the share of the change to merge")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("runs", help="the training runs: their state, steps, last loss and model file")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("bundle", help="a training bundle for another machine (accelerate launch), or its adapter brought back")
    p.add_argument("action", choices=["export", "import"])
    p.add_argument("folder", help="export: a new folder; import: a bundle folder trained elsewhere")
    add_train_options(p)
    p.add_argument("--json", action="store_true")
    return {"train": cmd_train, "runs": cmd_runs, "bundle": cmd_bundle}
