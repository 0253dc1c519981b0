"""Jobs that tests/test_kill9.py runs in a child process and kills with SIGKILL.

Each prints one JSON line for everything it has saved, at the moment the app would show
it as saved (after the transaction commits), so the test knows what must survive.

    python tests/kill_targets.py edit WORKSPACE SEED
    python tests/kill_targets.py import WORKSPACE FILE...
    python tests/kill_targets.py train WORKSPACE [RUN_TO_RESUME]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path


def say(**what) -> None:
    print(json.dumps(what), flush=True)


def edit(workspace, seed: int) -> None:
    """The expert at work: edits, additions and deletions, as fast as they can be saved."""
    from kwdesk.core.store.pairs import add_pair, delete_pairs, update_pair

    rng = random.Random(seed)
    db = workspace.connect()
    chunk = db.execute("SELECT id FROM chunks ORDER BY id LIMIT 1").fetchone()[0]
    for n in range(100_000):
        # Only its own pairs: several editors (and the tests) can work on one workspace at once.
        ids = [row[0] for row in db.execute("SELECT id FROM pairs WHERE question LIKE ?", [f"Question {seed}-%"])]
        action = rng.choice(["edit", "edit", "add", "delete"]) if len(ids) > 5 else "add"
        mark = f"{seed}-{n}"
        if action == "edit":
            pair = rng.choice(ids)
            update_pair(db, pair, answer=f"edited {mark}")
            say(saved="edit", id=pair, mark=mark, seq=n)
        elif action == "add":
            pair = add_pair(db, f"Question {mark}?", f"added {mark}", chunk_id=chunk)
            say(saved="add", id=pair, mark=mark, seq=n)
        else:
            pair = rng.choice(ids)
            delete_pairs(db, [pair])
            say(saved="delete", id=pair, seq=n)


def import_files(workspace, files: list[str]) -> None:
    from kwdesk.core.ingest.importer import ImportJob, ImportOptions

    def progress(p) -> None:
        result = p.result
        if result is not None:
            say(saved="file", path=result.path, status=result.status, document_id=result.document_id)

    ImportJob(workspace, files, ImportOptions(ocr=False)).run(progress)


def train(workspace, resume: int | None) -> None:
    from kwdesk.core.train.job import TrainJob
    from kwdesk.core.train.presets import preset

    def progress(p) -> None:
        if p.loss is not None:
            say(step=p.done, loss=round(p.loss, 6), run=p.run_id)

    config = preset("quick-try", max_steps=8, checkpoint_every=2, micro_batch=1, max_seq_len=128)
    result = TrainJob(workspace, config, resume_run=resume).run(progress)
    say(done=True, run=result.run_id, steps=result.steps, losses=result.losses)


def main() -> None:
    from kwdesk.core.store.workspace import Workspace

    command, root, *rest = sys.argv[1:]
    workspace = Workspace.open(Path(root))
    if command == "edit":
        edit(workspace, int(rest[0]))
    elif command == "import":
        import_files(workspace, rest)
    elif command == "train":
        train(workspace, int(rest[0]) if rest else None)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
