"""The workspace and the settings as a whole: settings, backup, restore, doctor."""

from __future__ import annotations

import sys
from pathlib import Path

from kwdesk.cli.output import EXIT_OK, EXIT_USAGE, Bar, print_json


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
        print_json(current)
    else:
        for key, value in current.items():
            print(f"{key:<22} {value}")
        print(f"({settings_file()})", file=sys.stderr)
    return EXIT_OK


def cmd_backup(workspace, args) -> int:
    from kwdesk.core.store.backup import BackupJob

    bar = Bar(not args.json, unit="file")
    try:
        result = BackupJob(workspace, args.archive, include_models=not args.no_models).run(bar)
    finally:
        bar.close()
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"{result.path}  ({result.files} files, {result.bytes / 1e6:.1f} MB before compression)")
    return EXIT_OK


def cmd_restore(args) -> int:
    from kwdesk.core.store.backup import RestoreJob

    bar = Bar(True, unit="file")
    try:
        workspace = RestoreJob(args.archive, args.folder).run(bar)
    finally:
        bar.close()
    print(f"Restored into {workspace.root}. Open it with: kwdesk --workspace {workspace.root}")
    return EXIT_OK


def cmd_doctor(args) -> int:
    from kwdesk.core.app.doctor import report
    from kwdesk.core.base.paths import default_workspace_dir

    root = Path(args.workspace).expanduser().resolve() if args.workspace else default_workspace_dir()
    found = report(root)
    if args.json:
        print_json(found)
        return EXIT_OK

    def show(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                show(f"{prefix}{key}." if prefix else f"{key}.", inner)
        else:
            print(f"{prefix.rstrip('.'):<32} {value}")

    show("", found)
    return EXIT_OK


def cmd_status(workspace, args) -> int:
    from kwdesk.core.app.overview import STEPS, workspace_overview

    db = workspace.connect()
    try:
        overview = workspace_overview(db)
    finally:
        db.close()
    if args.json:
        print_json(overview.to_dict())
        return EXIT_OK
    for step in STEPS:
        print(f"{step.capitalize():<11} {overview.state(step)}")
    print(f"\nNext: {overview.next_action().words}")
    return EXIT_OK


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("settings", help="show the settings, or set one: kwdesk settings KEY VALUE")
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("backup", help="write the whole workspace into one archive (.zip)")
    p.add_argument("archive", metavar="FILE")
    p.add_argument("--no-models", action="store_true", help="leave out the model files (GGUF), which are large")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("restore", help="unpack a backup archive into a new workspace folder")
    p.add_argument("archive", metavar="FILE")
    p.add_argument("folder", metavar="FOLDER", help="a new or empty folder")

    p = sub.add_parser("status", help="where you stand: each step's state and what to do next")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("doctor", help="versions, hardware and workspace health, for a bug report")
    p.add_argument("--json", action="store_true")
    return {"settings": cmd_settings, "backup": cmd_backup, "restore": cmd_restore, "doctor": cmd_doctor, "status": cmd_status}
