"""Serve the personal models to other programs: kwdesk serve (an OpenAI-compatible API)."""

from __future__ import annotations

import json
import sys

from kwdesk.cli.output import EXIT_OK


def cmd_serve(workspace, args) -> int:
    from kwdesk.core.serve.openai_api import ServeLimits
    from kwdesk.core.serve.server import LocalServer, ServeSettings, is_loopback

    limits = ServeLimits(max_waiting=args.max_waiting, max_tokens=args.max_tokens_limit)
    server = LocalServer(workspace, ServeSettings(args.host, args.port, args.api_key, limits))
    models = server.api.models()
    key = server.settings.api_key
    ready = {"url": server.url, "models": [m.id for m in models], "api_key_required": bool(key),
             "api_key": key if key and not args.api_key else None}
    if args.json:
        # One line a script (or a test) reads before it sends requests.
        print(json.dumps(ready), flush=True)
    else:
        print(f"kwdesk serves {len(models)} model(s) at {server.url}", file=sys.stderr)
        for model in models:
            print(f"  {model.id}  ({model.kind}: {model.name})", file=sys.stderr)
        if key and not args.api_key:
            print(f"API key (send as 'Authorization: Bearer KEY'): {key}", file=sys.stderr)
        elif not key and is_loopback(args.host):
            print("Only programs on this computer can reach it (--host to open it to others, with a key).",
                  file=sys.stderr)
        print("Ctrl+C stops it.", file=sys.stderr, flush=True)
    server.serve_forever()
    return EXIT_OK


def register(sub) -> dict:
    """Add this stage's commands to SUB; their handlers by name."""
    from kwdesk.core.serve import DEFAULT_HOST, DEFAULT_PORT

    p = sub.add_parser("serve", help="serve your personal models to other programs (an OpenAI-compatible API)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}: this computer only; any other needs a key)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    p.add_argument("--api-key", metavar="KEY", help="require this key (default: none on 127.0.0.1, a new one elsewhere)")
    p.add_argument("--max-waiting", type=int, default=16, metavar="N",
                   help="requests that may wait behind the running one before others get 503 (default 16)")
    p.add_argument("--max-tokens-limit", type=int, default=2048, metavar="N",
                   help="the most tokens one answer may ask for (default 2048)")
    p.add_argument("--json", action="store_true", help="print the address and models as one JSON line")
    return {"serve": cmd_serve}
