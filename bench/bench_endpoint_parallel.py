"""A teacher behind a URL: requests one at a time (what kwdesk did) against several at once
(--parallel, default 8), side by side in one run, against a loopback llama.cpp endpoint with
parallel slots (tests/loopback_teacher.py: one llama.cpp context a slot, its share of the
cores), on the same documents with the same strategies.

    .venv/bin/python bench/bench_endpoint_parallel.py [--slots 2] [--pages 4] [--parallel 8]

The figures of a GPU server (vLLM, llama-server with continuous batching) differ: there
the slots share one batched decode and the gain grows with them; here each slot is a CPU
context, so the gain is what overlapping requests buys on these cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def run(parallel: int, server, docs: list[Path], folder: Path) -> tuple[float, int, int]:
    from kwdesk.core.data.generate import GenerateJob, GenerateOptions
    from kwdesk.core.data.teacher import OpenAICompatibleTeacher
    from kwdesk.core.ingest.importer import ImportJob
    from kwdesk.core.store.workspace import Workspace

    ws = Workspace.open(folder)
    ImportJob(ws, docs).run()
    teacher = OpenAICompatibleTeacher(server.url, "bundled", parallel=parallel)
    requests = server.requests
    started = time.monotonic()
    result = GenerateJob(ws, teacher, GenerateOptions(strategies=("qa", "entities", "paraphrase"))).run()
    return time.monotonic() - started, result.pairs_added, server.requests - requests


def main() -> None:
    from docgen import facts_pdf, handbook_pdf
    from loopback_teacher import LoopbackTeacherServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kwdesk-bench-endpoint-"))
    docs = [handbook_pdf(tmp / "handbook.pdf", args.pages)[0], facts_pdf(tmp / "facts.pdf")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"loopback llama.cpp endpoint, {args.slots} slots; documents: {args.pages}-page handbook + facts page")
    with LoopbackTeacherServer(slots=args.slots) as server:
        one = run(1, server, docs, tmp / "ws-one")
        many = run(args.parallel, server, docs, tmp / "ws-many")
        print(f"{'requests at once':<18} {'seconds':>8} {'pairs':>6} {'requests':>9} {'pairs/min':>10}")
        for label, (seconds, pairs, requests) in (("1", one), (str(args.parallel), many)):
            print(f"{label:<18} {seconds:>8.1f} {pairs:>6} {requests:>9} {pairs / seconds * 60:>10.1f}")
        print(f"speed-up: {one[0] / many[0]:.2f}x (most requests served at once: {server.most_at_once})")


if __name__ == "__main__":
    main()
