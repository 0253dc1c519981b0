"""Training runs and model files registered the way training and export register them,
with small files on disk: for tests of what the expert sees of their models."""

from kwdesk.core.store.models import register_model
from kwdesk.core.store.personal import knowledge_name
from kwdesk.core.store.runs import create_run, set_run_status
from kwdesk.core.store.workspace import write_transaction

EXPORTED = (("adapter", None, 13e6), ("merged", None, 540e6), ("gguf", True, 145e6), ("gguf-lora", True, 5e6))
TRAINED_ONLY = (("adapter", None, 13e6),)  # trained, no model file made yet


def add_document(db, name: str, collection_id=None) -> int:
    with write_transaction(db):
        return db["documents"].insert({"name": name, "source_path": f"/docs/{name}", "sha256": name, "status": "imported", "size_bytes": 1,
                                       "file_type": "pdf", "pages": 1, "chunks": 0,
                                       "collection_id": collection_id}).last_pk


def add_trained_run(workspace, db, collection_id=None, *, lora_verified=True, files=EXPORTED) -> tuple[int, dict]:
    """A finished training run with the files an export leaves: (run id, {kind: model id})."""
    config = {"collection_id": collection_id, "knowledge": knowledge_name(db, collection_id)}
    run_id, folder = create_run(db, "train", config, folder_for=lambda i: workspace.runs_dir / f"train-{i}")
    set_run_status(db, run_id, "done")
    folder.mkdir(parents=True)
    ids = {}
    with write_transaction(db):
        for kind, verified, size in files:
            verified = lora_verified if kind == "gguf-lora" else verified
            path = folder / f"{kind}.bin"
            path.write_bytes(b"x")
            ids[kind] = register_model(db, kind, f"SmolLM2-135M-Instruct-bundled-run{run_id} {kind}", path,
                                       run_id=run_id, verified=verified, size_bytes=int(size),
                                       quantization="Q8_0" if kind.startswith("gguf") else None,
                                       meta={"base_gguf": str(path)} if kind == "gguf-lora" else {})
    return run_id, ids
