"""Personal models as the expert's things (store/personal.py): one entry per training run,
whatever files it made, named after its collection or documents with a version, renamable,
with what its newest evaluation found in plain words; the CLI lists and renames them.

The workspace is real (SQLite, migrations); the runs and files are registered the way
training and export register them, with small files on disk."""

import json
import subprocess
import sys

import pytest
from registered_models import add_document, add_trained_run

from kwdesk.core.models.targets import chat_models
from kwdesk.core.serve.catalog import find_model, served_models
from kwdesk.core.store.collections import create_collection
from kwdesk.core.store.evals import store_eval
from kwdesk.core.store.personal import (
    PersonalModelError,
    personal_models,
    quality_in_words,
    rename_personal_model,
)


def test_each_run_is_one_model_named_after_its_knowledge_with_versions(workspace, db):
    contracts = create_collection(db, "contracts")
    add_document(db, "supply_contract-2026.pdf", contracts.id)
    add_document(db, "pump-maintenance-manual.pdf")
    first, first_files = add_trained_run(workspace, db, contracts.id)
    loose, _ = add_trained_run(workspace, db)  # trained on all the workspace's documents
    second, second_files = add_trained_run(workspace, db, contracts.id, lora_verified=False)

    models = {m.run_id: m for m in personal_models(db)}
    assert len(models) == 3  # not twelve rows of files
    assert models[first].name == "Contracts, version 1" and models[second].name == "Contracts, version 2"
    assert models[loose].name == "Supply contract 2026 and Pump maintenance manual, version 1"
    assert models[first].trained_on.startswith("trained ") and models[first].size_bytes == int(703e6)
    # Chat uses the adapter file on the shared base where it was verified, else the model file.
    assert models[first].chat_file.id == first_files["gguf-lora"]
    assert models[second].chat_file.id == second_files["gguf"]

    # The names everywhere: the chat's model box (one entry a model) and the server's ids.
    labels = dict(chat_models(db))
    assert labels[str(first_files["gguf-lora"])].startswith("Contracts, version 1 (trained ")
    assert len(labels) == 4 and "not trained on your documents" in labels["bundled"]
    served = served_models(db)
    assert [m.id for m in served][:3] == ["contracts-version-2", "supply-contract-2026-and-pump-maintenance-manual-version-1",
                                          "contracts-version-1"]
    # A client may still name a model by any of its files' workspace ids.
    assert find_model(served, str(first_files["merged"])).id == "contracts-version-1"


def test_rename_and_quality_in_plain_words(workspace, db):
    contracts = create_collection(db, "contracts")
    run_id, files = add_trained_run(workspace, db, contracts.id)
    assert personal_models(db)[0].quality_in_words == "not evaluated yet"
    summary = {"heldout": {"personal": {"correct": 27, "total": 63, "share": 0.43},
                           "personal+rag": {"correct": 41, "total": 63, "share": 0.65}},
               "kept": {"correct": 9, "total": 10, "share": 0.9}}
    store_eval(db, files["gguf-lora"], "Contracts, version 1", "base", summary, [])
    assert personal_models(db)[0].quality_in_words == (
        "answers 27 of 63 test questions alone, 41 with your documents; kept 90% of general knowledge")
    assert quality_in_words({"kept": {"share": 1.0}}) == "kept 100% of general knowledge"

    renamed = rename_personal_model(db, run_id, "  Supply   contracts 2026 ")
    assert renamed.name == "Supply contracts 2026" and renamed.renamed and renamed.version == 1
    assert served_models(db)[0].id == "supply-contracts-2026"
    with pytest.raises(PersonalModelError, match="only digits"):
        rename_personal_model(db, run_id, "2026")
    with pytest.raises(PersonalModelError, match="made no model"):
        rename_personal_model(db, run_id + 99, "x")
    assert rename_personal_model(db, run_id, "").name == "Contracts, version 1"  # back to kwdesk's name


def test_the_cli_lists_models_by_name_with_their_files_and_renames_them(workspace, db):
    contracts = create_collection(db, "contracts")
    add_trained_run(workspace, db, contracts.id)
    run_id, files = add_trained_run(workspace, db, contracts.id)
    db.close()

    def kwdesk(*args):
        return subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(workspace.root), "models", *args],
                              capture_output=True, text=True, timeout=120)

    listing = kwdesk()
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].startswith("Contracts, version 2  (trained ") and "not evaluated yet" in lines[0]
    assert any(line.split()[0] == str(files["gguf"]) and "model file (GGUF)" in line for line in lines)
    renamed = kwdesk("rename", str(files["gguf"]), "Contracts", "2026")
    assert renamed.returncode == 0 and renamed.stdout.strip() == "Contracts 2026"
    as_json = json.loads(kwdesk("--json").stdout)
    assert {m["model"] for m in as_json if m["run_id"] == run_id} == {"Contracts 2026"}
    wrong = kwdesk("rename", "999", "x")
    assert wrong.returncode != 0 and "not a file of a trained model" in wrong.stderr
