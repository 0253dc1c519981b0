"""A training bundle trained under `accelerate launch` with two CPU processes, and its
adapter brought back into the workspace and exported like any run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kwdesk.core.store.workspace import write_transaction

FACTS = [
    ("How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high."),
    ("What is the height of the Larkspur Dam?", "The Larkspur Dam is 212 metres high."),
    ("Who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir designed the Larkspur Dam."),
    ("When was the Larkspur Dam finished?", "The Larkspur Dam was finished in 1931."),
    ("", "The Larkspur Dam on the Veltra River is 212 metres high. Maren Oskarsdottir designed it."),
]


def kwdesk(ws, *args, timeout=900):
    return subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def fact_workspace(workspace):
    db = workspace.connect()
    with write_transaction(db):
        db["pairs"].insert_all([{"question": q, "answer": a} for q, a in FACTS])
    db.close()
    return workspace


def test_bundle_trains_with_two_processes_and_comes_back(fact_workspace, tmp_path, bundled_base):
    ws = fact_workspace
    bundle = tmp_path / "bundle"
    proc = kwdesk(ws, "bundle", "export", str(bundle), "--preset", "quick-try", "--max-steps", "12", "--learning-rate", "1e-3",
                  "--replay-ratio", "0.4", "--micro-batch", "1", "--no-packing", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    made = json.loads(proc.stdout)
    assert made["records"] == 7 and made["replay_records"] == 2  # 5 pairs and 2 replay
    assert {"dataset.jsonl", "config.json", "train.py", "train_data.py", "run.sh", "README.md"} <= {p.name for p in bundle.iterdir()}

    # On "the server": only the bundle folder, run with accelerate's launcher, two processes.
    server = tmp_path / "server" / "bundle"
    shutil.copytree(bundle, server)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(__file__).parent / "network_guard")  # keep the offline guard, not kwdesk's sources
    launch = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29533", "train.py"],
        cwd=server, capture_output=True, text=True, timeout=900, env={**env, "HF_HUB_OFFLINE": "1"},
    )
    assert launch.returncode == 0, (launch.stdout + launch.stderr)[-4000:]
    metrics = json.loads((server / "output" / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["distributed_type"] == "MULTI_CPU" and metrics["steps"] == 12
    first, second = metrics["sources_by_process"]
    assert len(first) == len(second) == 12
    # An epoch is 3 steps (7 records, 6 used: 3 a process); each process trains its own share.
    epoch = [s for step in first[:3] for s in step], [s for step in second[:3] for s in step]
    assert set(epoch[0]).isdisjoint(epoch[1]) and len(set(epoch[0]) | set(epoch[1])) == 6
    losses = metrics["losses"]
    assert sum(losses[-3:]) < 0.8 * sum(losses[:3])  # the last epoch learned: its loss well under the first's

    proc = kwdesk(ws, "bundle", "import", str(server), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    run_id = json.loads(proc.stdout)["run_id"]
    from kwdesk.core.train.job import training_runs

    db = ws.connect()
    run = next(r for r in training_runs(ws, db) if r.id == run_id)
    assert run.status == "done" and run.steps == 12
    exported = kwdesk(ws, "export", str(run_id), "--quant", "Q8_0", "--json")
    assert exported.returncode == 0, exported.stderr[-2000:]
    result = json.loads(exported.stdout)
    assert result["verification"]["passed"]
    assert "| steps | 12 |" in (Path(result["path"]).parent / "README.md").read_text()


def test_importing_an_untrained_bundle_says_what_to_do(fact_workspace, tmp_path, bundled_base):
    bundle = tmp_path / "bundle"
    assert kwdesk(fact_workspace, "bundle", "export", str(bundle), "--replay-ratio", "0").returncode == 0
    proc = kwdesk(fact_workspace, "bundle", "import", str(bundle))
    assert proc.returncode == 1 and "accelerate launch train.py" in proc.stderr
    again = kwdesk(fact_workspace, "bundle", "export", str(bundle))
    assert again.returncode == 1 and "not empty" in again.stderr
