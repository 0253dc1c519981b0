"""The training plan's time estimate against what runs took, and the speed of each form.

    .venv/bin/python bench/bench_time_estimate.py runs WORKSPACE [WORKSPACE ...]
    .venv/bin/python bench/bench_time_estimate.py forms WORKSPACE [--steps 40]

`runs`: for the newest finished training run of each workspace, the examples are built again
as the run built them (the dataset hash must match), the run's micro-batches walked, and
the plan's estimate (`estimate_run`) for its steps set beside the training loop's own time
(the real tokens it trained over the tokens a second it recorded: loading, replay answers
and export left out). Ratio = loop / estimate: above 1, the run took longer than planned.

`forms`: STEPS steps trained on a copy of WORKSPACE twice, once with every pair in its
with-sources form and once in its plain forms (packed, replay in both): the padded tokens
a second each computed, against those the prior assumes. The first ten steps are left
out (warm-up). Shows whether one form computes slower a token than the other, which the
estimate assumes not.

Both estimate at the prior (`train/speed.py`), as the first plan on a machine does, unless
--measured asks for the speeds this machine's runs left (then `runs` on a run that recorded
its own speed reads near 1 by construction).

Run nothing else beside it: two training jobs on two cores slow each other far more than
twice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kwdesk.core.models.ml import import_ml  # noqa: E402

WARM_UP_STEPS = 10


def _examples(ws, cfg):
    from transformers import AutoTokenizer

    from kwdesk.core.models.base_models import resolve_base
    from kwdesk.core.train.job import TrainJob

    job = TrainJob(ws, cfg, None)
    base = resolve_base(None)
    db = ws.connect()
    try:
        examples, n_replay, data_hash = job.build_examples(db, AutoTokenizer.from_pretrained(base.folder), base,
                                                           lambda m: None)
    finally:
        db.close()
    return job, base, examples, n_replay, data_hash


def _batches(cfg, examples, epoch):
    from kwdesk.core.train.job import sources_every
    from kwdesk.core.train.train_data import epoch_batches

    return epoch_batches(examples, epoch, seed=cfg.seed, max_seq_len=cfg.max_seq_len, micro_batch=cfg.micro_batch,
                         packing=cfg.packing, sources_every=sources_every(cfg))


def finished_runs(paths: list[Path]) -> None:
    from kwdesk.core.store.workspace import Workspace
    from kwdesk.core.train.job import estimate_run
    from kwdesk.core.train.presets import TrainConfig

    print(f"{'workspace':<28} {'steps':>5} {'every':>5} {'padded tokens':>13} {'tokens/s':>8} "
          f"{'loop s':>7} {'estimate s':>10} {'loop/estimate':>13}")
    for path in paths:
        ws = Workspace(path)
        db = ws.connect()
        try:
            run_id, metrics = db.execute("SELECT id, metrics FROM runs WHERE kind = 'train' AND status = 'done' "
                                         "ORDER BY id DESC").fetchone()
        finally:
            db.close()
        metrics = json.loads(metrics)
        saved = json.loads((ws.runs_dir / f"train-{run_id}" / "config.json").read_text())
        cfg = replace(TrainConfig.from_dict(saved["train"]), adapt=False)  # as the recipe left it
        _, base, examples, n_replay, data_hash = _examples(ws, cfg)
        if data_hash != saved["dataset_sha256"]:
            print(f"{path}: the pairs changed since run {run_id}; skipped")
            continue
        total, done, epoch, real, padded = saved["total_steps"], 0, 0, 0, 0
        while done < total:
            for micro in _batches(cfg, examples, epoch)[: total - done]:
                lengths = [len(p.input_ids) for p in micro]
                real, padded, done = real + sum(lengths), padded + len(micro) * max(lengths), done + 1
            epoch += 1
        loop_s = real / metrics["tokens_per_second"]
        estimate, _ = estimate_run(base, cfg, examples, n_replay, total, len(_batches(cfg, examples, 0)))
        print(f"{path.name:<28} {total:>5} {cfg.sources_every:>5} {padded:>13,} {metrics['tokens_per_second']:>8.1f} "
              f"{loop_s:>7.0f} {estimate:>10.0f} {loop_s / estimate:>13.2f}")


def form_speeds(path: Path, steps: int) -> None:
    from kwdesk.core.models.model_files import safetensors_parameters
    from kwdesk.core.store.workspace import Workspace
    from kwdesk.core.train.job import kl_factor
    from kwdesk.core.train.presets import PRESETS
    from kwdesk.core.train.speed import current_setup, prior_tokens_per_s

    tmp = Path(tempfile.mkdtemp(prefix="kwdesk-time-"))
    try:
        print(f"{'form':<14} {'padded a step':>13} {'s a step':>8} {'padded tokens/s':>15} {'assumed':>14} "
              f"{'measured/assumed':>17}")
        for form in ("with sources", "plain"):
            copy = tmp / "ws"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(path, copy, ignore=shutil.ignore_patterns("checkpoints", "*.gguf"))
            ws = Workspace.open(copy)
            sourced = form == "with sources"
            cfg = replace(PRESETS["learn-documents"], adapt=False, max_steps=steps, checkpoint_every=10 * steps,
                          train_with_sources=sourced, sources_every=1 if sourced else 0)
            job, base, examples, n_replay, _ = _examples(ws, cfg)
            batches = _batches(cfg, examples, 0)
            # The padded tokens a second the prior assumes (the replay KL's forward pass counted
            # as a third more tokens); not a speed the first form's run has just recorded.
            setup = current_setup(cfg, safetensors_parameters(base.folder))
            assumed = prior_tokens_per_s(setup) / kl_factor(cfg, n_replay)
            seen: list[float] = []
            job.run(lambda p: p.loss is not None and seen.append(time.monotonic()))
            # The run's micro-batches are these, in this order (grad_accum 1: one a step).
            padded = sum(len(m) * max(len(p.input_ids) for p in m) for m in batches[WARM_UP_STEPS:len(seen)])
            seconds = seen[-1] - seen[WARM_UP_STEPS - 1]
            measured = len(seen) - WARM_UP_STEPS
            print(f"{form:<14} {padded / measured:>13.0f} {seconds / measured:>8.2f} {padded / seconds:>15.1f} "
                  f"{assumed:>14.1f} {padded / seconds / assumed:>17.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["runs", "forms"])
    parser.add_argument("workspaces", nargs="+", type=Path)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--measured", action="store_true",
                        help="estimate at the speeds runs measured here (default: at the prior, as a first plan)")
    args = parser.parse_args()
    if not args.measured:  # an empty state folder: the prior, and nothing recorded by `forms`
        os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="kwdesk-time-state-")
    import_ml()
    print(f"machine: {platform.machine()}, {platform.system()}, python {platform.python_version()}")
    if args.what == "runs":
        finished_runs(args.workspaces)
    else:
        form_speeds(args.workspaces[0], args.steps)


if __name__ == "__main__":
    main()
