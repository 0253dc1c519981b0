"""Documents into the workspace and what they hold: import, docs, collections, changes, search."""

from __future__ import annotations

import sys

from kwdesk.cli.data import run_generation
from kwdesk.cli.output import (
    EXIT_NOTHING_DONE,
    EXIT_OK,
    EXIT_USAGE,
    Bar,
    listed,
    print_json,
)


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
    paths = list(args.paths)
    if args.sample:
        from kwdesk.core.ingest.sample import sample_document

        paths.append(str(sample_document()))
    if not paths:
        print("kwdesk: name the files or folders to import (or --sample)", file=sys.stderr)
        return EXIT_USAGE
    job = ImportJob(workspace, paths, options)
    bar = Bar(not args.json, unit="file")
    try:
        results = job.run(bar)
    finally:
        bar.close()
    if args.json:
        print_json([r.to_dict() for r in results])
    else:
        for r in results:
            figures = r.figures if r.status in (IMPORTED, DUPLICATE) else ""
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


def cmd_remove(workspace, args) -> int:
    from kwdesk.core.store.documents import DocumentNotFound, remove_document

    db = workspace.connect()
    try:
        for document_id in args.ids:
            try:
                removed = remove_document(db, document_id)
            except DocumentNotFound as exc:
                print(f"kwdesk: {exc}", file=sys.stderr)
                return EXIT_USAGE
            print(removed.in_words(), file=sys.stderr)
    finally:
        db.close()
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
    if listed(args, docs, f"No documents yet. Import some: kwdesk import FILE_OR_FOLDER  (workspace {workspace.root})"):
        return EXIT_OK
    for d in docs:
        if d.status == "rejected":
            print(f"{d.id:>5}  rejected  {d.name}  [{d.reason}]")
        else:
            version = f" v{d.version}" if d.version > 1 else ""
            collection = f"  [{d.collection}]" if d.collection else ""
            unit = "p" if d.page_unit == "page" else "s"  # pages or sections
            hidden = f"  [{d.hidden_chars} hidden characters left out]" if d.hidden_chars else ""
            print(f"{d.id:>5}  {d.pages:>4} {unit}  {d.chunks:>5} chunks  {d.name}{version}  {d.title[:60]}{collection}{hidden}")
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
        print_json([c.to_dict() for c in collections])
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
        print_json([{**c.to_dict(), **({"applied": a} if applied else {})} for c, a in zip(found, applied or [None] * len(found))])
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


def cmd_search(workspace, args) -> int:
    from kwdesk.core.store.documents import cite_pages, search_chunks

    db = workspace.connect()
    try:
        hits = search_chunks(db, args.query, args.limit)
    finally:
        db.close()
    if args.json:
        print_json(hits)
    else:
        for hit in hits:
            pages = cite_pages(hit["page_start"], hit["page_end"], hit["page_unit"])
            print(f"{hit['document']} {pages}  {hit['heading_path']}\n    {hit['text'][:200]!s}\n")
    return EXIT_OK if hits else EXIT_NOTHING_DONE


def _generate_for_chunks(workspace, args, chunks: list[int]) -> int:
    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.data.generate import GenerateOptions

    settings = load_settings()
    result = run_generation(workspace, args, GenerateOptions(strategies=("qa",), chunk_ids=chunks),
                             settings.teacher or None, settings.endpoint_model or None)
    if isinstance(result, int):
        return result
    print(f"{result.pairs_added} new pairs for {len(chunks)} new passages.", file=sys.stderr)
    return EXIT_OK


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("import", help="import PDF, Word (.docx), OpenDocument (.odt), HTML, EPUB, .txt and .md files, or folders of them")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--sample", action="store_true", help="also import the sample document that ships with kwdesk "
                   "(a handbook of invented facts), to try the whole way on it")
    p.add_argument("--json", action="store_true", help="print one JSON object per file, as a list")
    p.add_argument("--chunk-tokens", type=int, default=None, metavar="N", help="chunk size in tokens (default 300)")
    p.add_argument("--no-ocr", action="store_true", help="do not OCR pages without a text layer")
    p.add_argument("--collection", metavar="NAME", help="put the files into this knowledge collection (made if new)")

    p = sub.add_parser("docs", help="list the documents in the workspace")
    p.add_argument("--collection", metavar="NAME", help="only this knowledge collection's documents ('none': in no collection)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all-versions", action="store_true", help="include older versions of changed files")

    p = sub.add_parser("remove", help="take documents out of the workspace, with the pairs made from them "
                       "(your files are not touched; trained models keep what they learned)")
    p.add_argument("ids", nargs="+", type=int, metavar="ID", help="document ids (kwdesk docs lists them)")

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

    p = sub.add_parser("search", help="full-text search over the chunks of the documents")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--json", action="store_true")
    return {"import": cmd_import, "docs": cmd_docs, "remove": cmd_remove, "collections": cmd_collections, "changes": cmd_changes, "search": cmd_search}
