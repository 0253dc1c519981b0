"""Compare training methods on the same pairs: compare, compare --show, compare --choose."""

from __future__ import annotations

import sys
from pathlib import Path

from kwdesk.cli.output import EXIT_OK, EXIT_USAGE, Bar, print_json
from kwdesk.cli.train import add_train_options, train_config


def cmd_compare(workspace, args) -> int:
    from kwdesk.core.app.compare import CompareJob, choose_method, load_comparison

    if args.choose:
        db = workspace.connect()
        try:
            comparison = choose_method(workspace, db, args.id or load_comparison(db).compare_id, args.choose)
        finally:
            db.close()
        kept = comparison.result(args.choose)
        removed = [r.label for r in comparison.results if r.model_removed]
        print(f"Kept {kept.label} (model {kept.model_id}); removed the model files of {', '.join(removed) or 'none'} "
              f"(their runs stay: kwdesk export RUN makes them again).", file=sys.stderr)
        return _show(comparison, args)
    if args.show:
        db = workspace.connect()
        try:
            comparison = load_comparison(db, args.id)
        finally:
            db.close()
        return _show(comparison, args)
    if args.method:
        print("kwdesk: compare trains the methods of --methods; --method is for `kwdesk train`", file=sys.stderr)
        return EXIT_USAGE
    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.app.teacher import teacher_choice

    settings = load_settings()
    config = train_config(args, workspace)
    bar = Bar(not args.json, unit="step")
    try:
        job = CompareJob(workspace, [m.strip() for m in args.methods.split(",") if m.strip()], config,
                         base=args.base, quantization=args.quant,
                         probe_limit=args.probe_limit, teacher=teacher_choice(settings))
        comparison = job.run(bar)
    finally:
        bar.close()
    return _show(comparison, args)


def _show(comparison, args) -> int:
    from kwdesk.core.app.compare import comparison_svg, why_recommended

    if args.chart:
        _write_chart(comparison_svg(comparison), Path(args.chart))
    if args.json:
        print_json(comparison.to_dict())
        return EXIT_OK
    print(f"Comparison {comparison.compare_id}: base model {comparison.base_closed_book:.0%} of the test questions "
          f"alone, {comparison.base_with_sources:.0%} with your documents")
    print(f"  {'method':<14} {'run':>4} {'model':>5} {'alone':>6} {'+docs':>6} {'kept':>5} {'replay':>6} "
          f"{'params':>10} {'steps':>5} {'time':>7}  llama.cpp adapter file")
    for r in comparison.results:
        mark = " *" if r.method == (comparison.chosen or comparison.recommended) else "  "
        model = r.model_id if r.model_id is not None and not r.model_removed else "-"
        print(f"{mark}{r.label:<14} {r.run_id:>4} {model:>5} {r.closed_book:>6.0%} "
              f"{r.with_sources:>6.0%} {r.kept_worst:>5.0%} {r.replay_kept:>6.0%} {r.trained_parameters:>10,} "
              f"{r.steps:>5} {r.train_seconds:>6.0f}s  "
              f"{'yes' if r.adapter_file else 'no model file (cannot be exported)' if r.cannot_export else 'no (merged file only)'}")
    print("  (kept: the lowest share of the base's right general answers under the prompts a tool asks with)")
    for name, why in comparison.not_offered.items():
        print(f"  not offered: {name}: {why}")
    for r in comparison.results:
        if r.cannot_export:
            print(f"  {r.label} cannot be exported: {r.cannot_export} (evaluated under transformers, its base too)")
    if comparison.chosen:
        print(f"Chosen: {comparison.result(comparison.chosen).label}.")
    elif comparison.recommended:
        print(f"Recommended: {why_recommended(comparison)}")
        print(f"Keep it with: kwdesk compare --choose {comparison.recommended}")
    return EXIT_OK


def _write_chart(svg: str, path: Path) -> None:
    if path.suffix.lower() == ".png":
        from kwdesk.ui.report_image import save_png

        save_png(svg, path)
    else:
        path.write_text(svg, encoding="utf-8")
    print(f"chart written to {path}", file=sys.stderr)


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("compare", help="train several methods (LoRA, DoRA, (IA)3, prefix tuning) on the same pairs and compare what "
                       "each learns and keeps")
    p.add_argument("--methods", default="lora,dora", metavar="M,M",
                   help="two to four of lora, dora, ia3, prefix (default: lora,dora)")
    add_train_options(p)
    p.add_argument("--quant", choices=["Q4_K_M", "Q5_K_M", "Q8_0", "F16"], help="the model files (default: the settings')")
    p.add_argument("--probe-limit", type=int, metavar="N", help="ask only N general questions and N replay prompts")
    p.add_argument("--show", action="store_true", help="show a comparison again (default: the newest)")
    p.add_argument("--choose", metavar="METHOD", help="keep this method's model file and remove the others'")
    p.add_argument("--id", type=int, metavar="N", help="with --show or --choose: which comparison")
    p.add_argument("--chart", metavar="FILE", help="write the learned-against-kept chart: .svg or .png")
    p.add_argument("--json", action="store_true")
    return {"compare": cmd_compare}
