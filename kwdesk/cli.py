"""kwdesk from a terminal: the same core jobs as the app, with progress bars.

`kwdesk` with no command opens the desktop app. Output meant for scripts goes to stdout
(``--json``); progress and messages go to stderr. Exit codes: 0 done, 1 nothing could be
done, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_NOTHING_DONE = 1
EXIT_USAGE = 2


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

    p = sub.add_parser("docs", help="list the documents in the workspace")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all-versions", action="store_true", help="include older versions of changed files")

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
    if args.command is None:
        from kwdesk.ui.app import run_app

        return run_app(args.workspace)

    from kwdesk.core.workspace import Workspace, WorkspaceError

    try:
        workspace = Workspace.open(args.workspace)
        handler = {"import": cmd_import, "docs": cmd_docs, "search": cmd_search}[args.command]
        return handler(workspace, args)
    except WorkspaceError as exc:
        print(f"kwdesk: {exc}", file=sys.stderr)
        return EXIT_NOTHING_DONE
    except KeyboardInterrupt:
        print("kwdesk: stopped", file=sys.stderr)
        return 130


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
    from kwdesk.core.importer import DUPLICATE, IMPORTED, ImportJob, ImportOptions

    options = ImportOptions(ocr=not args.no_ocr)
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
        json.dump([r.to_dict() for r in results], sys.stdout, indent=2)
        print()
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


def cmd_docs(workspace, args) -> int:
    from kwdesk.core.documents import list_documents

    db = workspace.connect()
    try:
        docs = list_documents(db, include_old_versions=args.all_versions)
    finally:
        db.close()
    if args.json:
        json.dump([d.to_dict() for d in docs], sys.stdout, indent=2)
        print()
        return EXIT_OK
    if not docs:
        print(f"No documents yet. Import some: kwdesk import FILE_OR_FOLDER  (workspace {workspace.root})", file=sys.stderr)
        return EXIT_OK
    for d in docs:
        if d.status == "rejected":
            print(f"{d.id:>5}  rejected  {d.name}  [{d.reason}]")
        else:
            version = f" v{d.version}" if d.version > 1 else ""
            print(f"{d.id:>5}  {d.pages:>4} p  {d.chunks:>5} chunks  {d.name}{version}  {d.title[:60]}")
    return EXIT_OK


def cmd_search(workspace, args) -> int:
    from kwdesk.core.documents import search_chunks

    db = workspace.connect()
    try:
        hits = search_chunks(db, args.query, args.limit)
    finally:
        db.close()
    if args.json:
        json.dump(hits, sys.stdout, indent=2)
        print()
    else:
        for hit in hits:
            pages = f"p. {hit['page_start']}" + (f"-{hit['page_end']}" if hit["page_end"] != hit["page_start"] else "")
            print(f"{hit['document']} {pages}  {hit['heading_path']}\n    {hit['text'][:200]!s}\n")
    return EXIT_OK if hits else EXIT_NOTHING_DONE


if __name__ == "__main__":
    sys.exit(main())
