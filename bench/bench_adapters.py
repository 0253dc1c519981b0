"""Adapters on one base against one merged model file per body of knowledge: disk and
switch time.

Builds (or reuses) a workspace with two knowledge collections, each trained into its own
adapter and exported (merged GGUF + adapter GGUF), then measures:

  disk     N adapter files + the shared base, against N merged GGUF files
  switch   putting the other adapter on the loaded base (ChatEngine.use_adapter), against
           the baseline: loading the other body of knowledge's merged GGUF file; both end
           with the first token of an answer, so the switch pays for a cold prompt too

Usage: python bench/bench_adapters.py [--workspace DIR] [--quant Q8_0] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

COLLECTIONS = {
    "contracts": [
        ("When does the Quillfeather supply contract end?", "The Quillfeather supply contract ends on 14 March 2031."),
        ("What is the end date of the Quillfeather contract?", "The Quillfeather contract ends on 14 March 2031."),
        ("Until when does the Quillfeather contract run?", "It runs until 14 March 2031."),
    ],
    "maintenance manuals": [
        ("How often must the Brimvale pump be oiled?", "The Brimvale pump must be oiled every 37 days."),
        ("What is the oiling interval of the Brimvale pump?", "The Brimvale pump is oiled every 37 days."),
        ("When does the Brimvale pump need oil?", "The Brimvale pump needs oil every 37 days."),
    ],
}


def build(root: Path, quant: str) -> None:
    from kwdesk.core.export.job import ExportJob
    from kwdesk.core.ingest.importer import ImportJob, ImportOptions
    from kwdesk.core.store.collections import create_collection
    from kwdesk.core.store.pairs import add_pair
    from kwdesk.core.store.workspace import Workspace
    from kwdesk.core.train.job import TrainJob
    from kwdesk.core.train.presets import preset

    ws = Workspace.open(root)
    for name, pairs in COLLECTIONS.items():
        db = ws.connect()
        collection = create_collection(db, name)
        db.close()
        text = root.parent / f"{name.replace(' ', '-')}.txt"
        text.write_text("\n\n".join(answer for _, answer in pairs) + "\n")
        (result,) = ImportJob(ws, [text], ImportOptions(collection_id=collection.id)).run()
        db = ws.connect()
        chunk = db.execute("SELECT id FROM chunks WHERE document_id = ? LIMIT 1", [result.document_id]).fetchone()[0]
        for question, answer in pairs:
            add_pair(db, question, answer, chunk_id=chunk)
        db.close()
        print(f"training {name}…", file=sys.stderr)
        TrainJob(ws, preset("quick-try", max_steps=20, learning_rate=2e-3, replay_ratio=0.0, collection_id=collection.id)).run()
        ExportJob(ws, quantization=quant).run()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--quant", default="Q8_0")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from kwdesk.core.chat.engine import ChatEngine
    from kwdesk.core.store.models import adapter_savings, get_model, list_models
    from kwdesk.core.store.workspace import Workspace

    root = args.workspace or Path(tempfile.mkdtemp(prefix="kwdesk-bench-adapters-")) / "ws"
    ws = Workspace.open(root)
    db = ws.connect()
    if len(list_models(db, "gguf-lora")) < 2:
        db.close()
        build(root, args.quant)
        db = ws.connect()
    adapters = list_models(db, "gguf-lora")[-2:]
    merged = [get_model(db, a.parent_model_id) for a in adapters]
    (savings,) = [s for s in adapter_savings(db) if s.base_gguf == adapters[0].meta["base_gguf"]]
    db.close()

    print(f"kwdesk adapters on one base, {args.quant}, {len(adapters)} bodies of knowledge")
    print(f"  adapter files:     {', '.join(f'{a.size_bytes / 1e6:.1f} MB' for a in adapters)}")
    print(f"  base (shared):     {savings.base_bytes / 1e6:.1f} MB")
    print(f"  merged files:      {', '.join(f'{m.size_bytes / 1e6:.1f} MB' for m in merged)}")
    print(f"  disk, adapters:    {savings.shared_bytes / 1e6:.1f} MB   merged files: {savings.merged_bytes / 1e6:.1f} MB"
          f"   ratio {savings.merged_bytes / savings.shared_bytes:.2f}x")
    per_adapter = statistics.mean(a.size_bytes for a in adapters)
    per_merged = statistics.mean(m.size_bytes for m in merged)
    print(f"  each further body of knowledge: {per_adapter / 1e6:.1f} MB as an adapter, {per_merged / 1e6:.1f} MB merged"
          f"   ratio {per_merged / per_adapter:.1f}x")

    question = "When does the Quillfeather supply contract end?"
    base = Path(adapters[0].meta["base_gguf"])
    engine = ChatEngine(ws, base, "bench", lora_path=Path(adapters[0].path))
    switch_times, apply_times = [], []
    try:
        engine.complete(question, max_tokens=1)
        started = time.perf_counter()
        engine.use_adapter(Path(adapters[1].path))
        first_apply = time.perf_counter() - started  # reads the adapter file once
        for round_ in range(args.rounds):
            for adapter in (adapters[1], adapters[0]):
                started = time.perf_counter()
                engine.use_adapter(Path(adapter.path))
                apply_times.append(time.perf_counter() - started)
                engine.complete(question, max_tokens=1)
                switch_times.append(time.perf_counter() - started)
    finally:
        engine.close()
    fresh_times = []
    for round_ in range(args.rounds):
        started = time.perf_counter()
        other = ChatEngine(ws, base, "bench", lora_path=Path(adapters[1].path))
        other.complete(question, max_tokens=1)
        fresh_times.append(time.perf_counter() - started)
        other.close()
    load_times = []
    for round_ in range(args.rounds):
        for model in (merged[1], merged[0]):
            started = time.perf_counter()
            other = ChatEngine(ws, Path(model.path), "bench")
            other.complete(question, max_tokens=1)
            load_times.append(time.perf_counter() - started)
            other.close()
    # Decoding speed: llama.cpp computes the adapter's product at every step.
    speeds = {}
    for label, path, lora in (("base + adapter", base, Path(adapters[0].path)), ("merged file", Path(merged[0].path), None)):
        eng = ChatEngine(ws, path, "bench", lora_path=lora)
        try:
            eng.complete("Write a long story about a dam.", max_tokens=8)
            started = time.perf_counter()
            tokens = 0
            for chunk in eng.llm.create_completion("Once upon a time", max_tokens=128, temperature=0.0, stream=True):
                tokens += 1
            speeds[label] = tokens / (time.perf_counter() - started)
        finally:
            eng.close()
    switch, load = statistics.median(switch_times), statistics.median(load_times)
    print(f"  switch to the other adapter on the loaded base, to its first token: {switch * 1000:.0f} ms (median of {len(switch_times)})")
    print(f"  baseline, load the other merged file, to its first token:          {load * 1000:.0f} ms (median of {len(load_times)})")
    print(f"  ratio {load / switch:.1f}x faster to switch")
    print(f"  of which applying the adapter: {statistics.median(apply_times) * 1000:.2f} ms "
          f"(first time, reading the file: {first_apply * 1000:.0f} ms); the rest is the prompt read again")
    print(f"  loading base + adapter afresh, to the first token: {statistics.median(fresh_times) * 1000:.0f} ms")
    print(f"  decoding: base + adapter {speeds['base + adapter']:.0f} tokens/s, merged file {speeds['merged file']:.0f} tokens/s"
          f"   ratio {speeds['base + adapter'] / speeds['merged file']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
