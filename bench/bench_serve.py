"""`kwdesk serve` against llama-cpp-python's own server, side by side in one run.

    .venv/bin/python -m pip install fastapi pydantic-settings sse-starlette starlette-context  # its server's needs
    .venv/bin/python bench/bench_serve.py [--workspace DIR] [--rounds 5] [--clients 8] [--requests 100]

Builds (or reuses) the workspace of bench_adapters.py: two knowledge collections, each
trained and exported as a merged model file and as an adapter file on one shared base.

  speed      the same GGUF (the shared base) and prompt, streamed, temperature 0: time to the
             first token and tokens a second through kwdesk serve and through
             `python -m llama_cpp.server`, requests alternating between the two servers
  two        two bodies of knowledge: the memory (RSS) of one kwdesk server holding both
             adapters on one base, against two llama_cpp.server processes with one merged
             file each; and the time to first token of requests alternating between them
  load       CLIENTS clients at once, REQUESTS short requests each (30 s bound each) on
             kwdesk serve: failures other than the bounded queue's 503s, p50/p99 latency
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

QUESTION = "When does the Quillfeather supply contract end? Answer in one sentence."
THREADS = str(os.cpu_count() or 2)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server ended with {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/models", timeout=2)
            return
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"{url} does not answer")


def start_kwdesk(ws: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "kwdesk", "--workspace", str(ws), "serve", "--port", "0", "--json"],
                            stdout=subprocess.PIPE, text=True, cwd=REPO,
                            stderr=tempfile.NamedTemporaryFile("w+", prefix="kwdesk-serve-", suffix=".log", delete=False))
    url = json.loads(proc.stdout.readline())["url"]
    _wait(url, proc)
    return proc, url


def start_llama_server(model: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # Its log goes to a file: a pipe nobody reads fills up and stalls the server.
    log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "4096", "--n_threads", THREADS, "--n_threads_batch", THREADS],
                            stdout=subprocess.DEVNULL, stderr=log, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    _wait(url, proc)
    return proc, url


def rss_mb(proc: subprocess.Popen) -> float:
    import psutil

    process = psutil.Process(proc.pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20


def streamed(url: str, model: str, max_tokens: int = 64) -> tuple[float, float, int]:
    """(seconds to the first token, tokens a second after it, tokens) of one streamed answer."""
    import openai

    client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0, timeout=120)
    started = time.perf_counter()
    first, tokens = None, 0
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "system", "content": "You are a helpful assistant. Answer briefly and correctly."},
                               {"role": "user", "content": QUESTION}],
        max_tokens=max_tokens, temperature=0, stream=True)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            tokens += 1
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    first = first or end
    return first - started, (tokens - 1) / (end - first) if tokens > 1 and end > first else 0.0, tokens


def model_ids(url: str) -> list[dict]:
    return json.loads(urllib.request.urlopen(url + "/models", timeout=10).read())["data"]


def speed(ws: Path, base: Path, rounds: int) -> dict:
    kw, kw_url = start_kwdesk(ws)
    ll, ll_url = start_llama_server(base)
    try:
        (kw_base,) = [m["id"] for m in model_ids(kw_url) if m["kwdesk"]["kind"] == "base"]
        ll_model = model_ids(ll_url)[0]["id"]
        streamed(kw_url, kw_base)  # warm both
        streamed(ll_url, ll_model)
        rows = {"kwdesk": [], "llama_cpp.server": []}
        for _ in range(rounds):
            rows["kwdesk"].append(streamed(kw_url, kw_base))
            rows["llama_cpp.server"].append(streamed(ll_url, ll_model))
    finally:
        for proc in (kw, ll):
            proc.terminate()
            proc.wait(timeout=30)
    return {name: {"ttft_s": statistics.median(r[0] for r in runs), "tokens_per_s": statistics.median(r[1] for r in runs),
                   "tokens": statistics.median(r[2] for r in runs)} for name, runs in rows.items()}


def two_bodies(ws: Path, merged: list[Path], rounds: int) -> dict:
    kw, kw_url = start_kwdesk(ws)
    try:
        adapters = [m["id"] for m in model_ids(kw_url) if m["kwdesk"]["kind"] == "adapter"][:2]
        times = []
        for model in adapters:
            streamed(kw_url, model, 8)
        for _ in range(rounds):
            for model in adapters:
                times.append(streamed(kw_url, model, 8)[0])
        kw_rss = rss_mb(kw)
    finally:
        kw.terminate()
        kw.wait(timeout=30)
    servers = [start_llama_server(path) for path in merged]
    try:
        ll_times = []
        for _, url in servers:
            streamed(url, model_ids(url)[0]["id"], 8)
        for _ in range(rounds):
            for _, url in servers:
                ll_times.append(streamed(url, model_ids(url)[0]["id"], 8)[0])
        ll_rss = sum(rss_mb(proc) for proc, _ in servers)
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=30)
    return {"kwdesk_rss_mb": kw_rss, "two_servers_rss_mb": ll_rss, "kwdesk_ttft_s": statistics.median(times),
            "two_servers_ttft_s": statistics.median(ll_times)}


def load(ws: Path, clients: int, requests: int) -> dict:
    import openai

    kw, url = start_kwdesk(ws)
    latencies, busy, failures = [], [0], []
    per_client: list[list[float]] = [[] for _ in range(clients)]
    lock = threading.Lock()
    try:
        model = [m["id"] for m in model_ids(url) if m["kwdesk"]["kind"] == "adapter"][0]

        def client_loop(n: int) -> None:
            client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0, timeout=30)
            for i in range(requests):
                started = time.perf_counter()
                try:
                    client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"Say {i}."}],
                                                   max_tokens=4, temperature=0, user=f"client{n}")
                    with lock:
                        latencies.append(time.perf_counter() - started)
                        per_client[n].append(time.perf_counter() - started)
                except openai.InternalServerError as exc:
                    with lock:
                        if exc.status_code == 503:
                            busy[0] += 1
                        else:
                            failures.append(str(exc))
                except Exception as exc:  # noqa: BLE001 - every other failure is counted
                    with lock:
                        failures.append(repr(exc))

        started = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        kw.terminate()
        kw.wait(timeout=30)
    latencies.sort()
    return {"requests": clients * requests, "answered": len(latencies), "busy_503": busy[0], "failures": failures[:5],
            "failed": len(failures), "p50_s": latencies[len(latencies) // 2] if latencies else None,
            "p99_s": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
            "wall_s": wall,
            # Fairness: each client's median latency, the slowest against the fastest.
            "client_p50_spread": (max(statistics.median(c) for c in per_client if c)
                                  / min(statistics.median(c) for c in per_client if c)) if latencies else None}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--phases", default="speed,two,load", help="which of speed, two, load to run")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"llama-cpp-python's server needs its extras ({exc}): pip install fastapi pydantic-settings "
                         "sse-starlette starlette-context")
    from bench_adapters import build

    from kwdesk.core.store.models import get_model, list_models
    from kwdesk.core.store.workspace import Workspace

    root = args.workspace or Path(tempfile.mkdtemp(prefix="kwdesk-bench-serve-")) / "ws"
    ws = Workspace.open(root)
    db = ws.connect()
    if len(list_models(db, "gguf-lora")) < 2:
        db.close()
        build(root, "Q8_0")
        db = ws.connect()
    adapters = list_models(db, "gguf-lora")[-2:]
    merged = [Path(get_model(db, a.parent_model_id).path) for a in adapters]
    base = Path(adapters[0].meta["base_gguf"])
    db.close()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"base {base.name}, adapters and merged files Q8_0")
    if "speed" in phases:
        s = speed(root, base, args.rounds)
        kw, ll = s["kwdesk"], s["llama_cpp.server"]
        print(f"speed (median of {args.rounds}, {kw['tokens']:.0f} tokens): kwdesk serve first token {kw['ttft_s'] * 1000:.0f} ms, "
              f"{kw['tokens_per_s']:.1f} tok/s; llama_cpp.server {ll['ttft_s'] * 1000:.0f} ms, {ll['tokens_per_s']:.1f} tok/s; "
              f"ratio first token {kw['ttft_s'] / ll['ttft_s']:.2f}x, tokens/s {kw['tokens_per_s'] / ll['tokens_per_s']:.2f}x")
    if "two" in phases:
        t = two_bodies(root, merged, args.rounds)
        print(f"two bodies of knowledge: memory one kwdesk server {t['kwdesk_rss_mb']:.0f} MB, two servers with a merged file "
              f"each {t['two_servers_rss_mb']:.0f} MB (ratio {t['two_servers_rss_mb'] / t['kwdesk_rss_mb']:.2f}x); first token "
              f"alternating kwdesk {t['kwdesk_ttft_s'] * 1000:.0f} ms, two servers {t['two_servers_ttft_s'] * 1000:.0f} ms")
    if "load" in phases:
        result = load(root, args.clients, args.requests)
        print(f"load: {args.clients} clients x {args.requests} requests: {result['answered']} answered, "
              f"{result['busy_503']} refused busy (503), {result['failed']} failed {result['failures']}; "
              f"p50 {result['p50_s']:.2f} s, p99 {result['p99_s']:.2f} s, {result['wall_s']:.0f} s in all; "
              f"slowest client's median latency / fastest's {result['client_p50_spread']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
