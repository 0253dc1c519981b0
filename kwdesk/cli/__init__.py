"""kwdesk from a terminal: the same core jobs as the app, with progress bars.

`kwdesk` with no command opens the desktop app. Output meant for scripts goes to stdout
(``--json``); progress and messages go to stderr. Exit codes: 0 done, 1 nothing could be
done, 2 usage error.

One module per stage registers its commands (register(sub) -> handlers); output.py is how
every command prints.
"""

from __future__ import annotations

import argparse
import os
import sys

from kwdesk.cli import (
    chat,
    compare,
    data,
    documents,
    evaluation,
    export,
    serve,
    teach,
    train,
    workspace,
)
from kwdesk.cli.output import EXIT_NOTHING_DONE, EXIT_OK

# Run before a workspace is opened (doctor must work on one that will not open).
WITHOUT_WORKSPACE = ("settings", "restore", "doctor")
_STAGES = (documents, data, train, export, chat, evaluation, compare, teach, serve, workspace)


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
    handlers = {}
    for stage in _STAGES:
        handlers.update(stage.register(sub))
    parser.set_defaults(_handlers=handlers)
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
    except BrokenPipeError:
        # The reader went away (`kwdesk pairs list | head`): what it read was what it wanted.
        # Python would print a second error flushing stdout at exit; point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
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
    handler = args._handlers[args.command]
    if args.command in WITHOUT_WORKSPACE:
        return handler(args)

    from kwdesk.core.store.workspace import Workspace

    return handler(Workspace.open(args.workspace), args)



def _apply_settings(args, settings) -> None:
    """Options not given on the command line come from the settings (shared with the app)."""
    # An environment variable (a script's choice) outranks the saved setting.
    if args.workspace is None and not os.environ.get("KWDESK_WORKSPACE"):
        args.workspace = settings.workspace or None
    per_command = {
        "generate": {"teacher": settings.teacher or None, "endpoint_model": settings.endpoint_model or None,
                     "parallel": settings.teacher_parallel,
                     "per_chunk": settings.per_chunk, "strategy": settings.strategies},
        "train": {"base": settings.base_model or None, "preset": settings.preset, "quant": settings.quantization},
        "bundle": {"base": settings.base_model or None, "preset": settings.preset},
        "compare": {"base": settings.base_model or None, "preset": settings.preset, "quant": settings.quantization},
        "export": {"quant": settings.quantization},
    }
    for name, value in per_command.get(args.command, {}).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
