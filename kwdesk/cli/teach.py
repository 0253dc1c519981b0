"""Teach my documents in one command: generate, train, make the model file, test it."""

from __future__ import annotations

import sys

from kwdesk.cli.output import EXIT_OK, Bar, print_json


def cmd_teach(workspace, args) -> int:
    from kwdesk.core.app.flows import teach_from_settings
    from kwdesk.core.base.jobs import Cancelled

    job = teach_from_settings(workspace, preset_name=args.preset, accepted_only=args.accepted_only,
                              teacher=args.teacher, base=args.base, quantization=args.quant, max_steps=args.max_steps,
                              generate=not args.no_generate, evaluate=not args.no_eval)
    bar = Bar(not args.json, unit="‰")
    last = [""]

    def progress(p) -> None:
        stage = p.message.split(":")[0]
        if stage != last[0] and not args.json:
            bar.say(stage)  # each stage once, above the bar
            last[0] = stage
        bar(p)

    try:
        taught = job.run(progress)
    except Cancelled:
        print("kwdesk: stopped; the pairs written and a finished training are kept", file=sys.stderr)
        return 130
    finally:
        bar.close()
    if args.json:
        print_json({"model": taught.model_name, "in_words": taught.in_words(),
                    "generated": taught.generated.to_dict() if taught.generated else None,
                    "training": taught.training.to_dict(), "export": taught.export.to_dict(),
                    "evaluation": taught.evaluation.to_dict() if taught.evaluation else None,
                    "evaluation_problem": taught.evaluation_problem, "stage_seconds": taught.stage_seconds})
    else:
        print(taught.in_words())
        print(f"Chat with it: kwdesk chat --model {taught.export.model_id}")
    return EXIT_OK


def register(sub) -> dict:
    p = sub.add_parser("teach", help="teach my documents: write pairs, train, make the model file and test it, "
                                     "in one go (review stays possible before and after)")
    p.add_argument("--preset", choices=["quick-try", "learn-documents", "learn-gently"],
                   help="default: the preset in the settings")
    p.add_argument("--accepted-only", action="store_true", help="train only the pairs you approved")
    p.add_argument("--teacher", metavar="MODEL", help="a GGUF file or an OpenAI-compatible URL (default: the settings')")
    p.add_argument("--base", metavar="MODEL", help="the base model to train (default: the bundled model)")
    p.add_argument("--quant", choices=["Q4_K_M", "Q5_K_M", "Q8_0", "F16"], help="default: the settings' quantization")
    p.add_argument("--max-steps", type=int, metavar="N", help="train at most N steps")
    p.add_argument("--no-generate", action="store_true", help="train the pairs there are, write no new ones")
    p.add_argument("--no-eval", action="store_true", help="skip the short test at the end")
    p.add_argument("--json", action="store_true")
    return {"teach": cmd_teach}
