"""Chat with a model from a terminal."""

from __future__ import annotations

import argparse
import sys

from kwdesk.cli.output import EXIT_OK, print_json


def cmd_chat(workspace, args) -> int:
    from kwdesk.core.chat.claims import claims_summary, marked_answer
    from kwdesk.core.chat.engine import ChatEngine
    from kwdesk.core.chat.mode import chosen_mode, measured_mode, what_it_knows
    from kwdesk.core.models.targets import chat_target
    from kwdesk.core.store.documents import cite_pages

    db = workspace.connect()
    try:
        target = chat_target(db, args.model)  # a wrong id or file: one line from main
        # The mode the model's own evaluation measured better, unless the expert chose one.
        mode = measured_mode(db, target.model_id) if args.sources is None else chosen_mode(args.sources)
        knows = what_it_knows(db, target.model_id)
    finally:
        db.close()
    engine = ChatEngine.for_target(workspace, target)
    name = target.name
    try:
        conversation = engine.new_conversation(args.system)
        stream = None if args.json else (lambda t: (sys.stdout.write(t), sys.stdout.flush()))

        def answer(question: str) -> None:
            reply = engine.ask(conversation, question, with_sources=mode.with_sources, on_token=stream,
                               max_tokens=args.max_tokens)
            if args.json:
                print_json({"answer": reply.text, "stopped": reply.stopped, "sources": reply.sources, "model": name,
                             "mode": mode.name, "conversation_id": reply.conversation_id,
                             "claims": [c.to_dict() for c in reply.claims],
                             "marked": marked_answer(reply.segments) if reply.segments else None,
                             "on_its_own": reply.on_its_own})
                return
            print()
            if reply.claims:
                print(f"  {marked_answer(reply.segments)}")
                print(f"  ({claims_summary(reply.claims)})")
            for source in reply.sources:
                pages = cite_pages(source["page_start"], source["page_end"], source.get("page_unit", "page"))
                print(f"  [{source['n']}] {source['document']}, {pages}")

        if not args.json:
            print(knows, file=sys.stderr)
            print(mode.why, file=sys.stderr)
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


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    p = sub.add_parser("chat", help="chat with a model (default: your newest personal model)")
    p.add_argument("--model", metavar="MODEL", help="a model id from 'kwdesk models', a GGUF file, an HF folder or a hub id")
    p.add_argument("--sources", action=argparse.BooleanOptionalAction, default=None,
                   help="with (or without) the best-matching passages of your documents, cited by page (default: the way "
                        "the model's newest evaluation found better)")
    p.add_argument("--once", metavar="QUESTION", help="ask one question, print the answer, and exit")
    p.add_argument("--system", metavar="PROMPT", help="the system prompt")
    p.add_argument("--max-tokens", type=int, default=512)
    p.add_argument("--json", action="store_true", help="with --once: the answer and its sources as JSON")
    return {"chat": cmd_chat}
