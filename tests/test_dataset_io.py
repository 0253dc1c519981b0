"""Dataset export and import: JSONL in three formats and a Hugging Face folder, round trip without loss."""

import json

import pytest
from docgen import facts_pdf

from kwdesk.core.data.dataset_formats import (
    FORMATS,
    DatasetError,
    export_hf_folder,
    export_jsonl,
    import_jsonl,
)
from kwdesk.core.ingest.importer import ImportJob, ImportOptions
from kwdesk.core.store.pairs import list_pairs
from kwdesk.core.store.workspace import Workspace, write_transaction

COMPARED = ("question", "answer", "kind", "strategy", "status", "split", "source_span", "made_by", "prompt_version", "meta", "created_at")


@pytest.fixture
def filled(tmp_path):
    """A workspace with a document and pairs of each shape: Q&A, text, paraphrase child."""
    ws = Workspace.open(tmp_path / "a")
    pdf = facts_pdf(tmp_path / "handbook.pdf")
    ImportJob(ws, [pdf], ImportOptions(chunk_tokens=60)).run()
    db = ws.connect()
    doc, chunk = db.execute("SELECT document_id, id FROM chunks ORDER BY seq LIMIT 1").fetchone()
    with write_transaction(db):
        parent = db["pairs"].insert(
            {"question": "How high is the Larkspur Dam?", "answer": "The Larkspur Dam is 212 metres high.", "kind": "number",
             "strategy": "qa", "status": "accepted", "document_id": doc, "chunk_id": chunk, "source_span": "The Larkspur Dam is 212 metres high.",
             "made_by": "teacher-x", "prompt_version": "v1", "meta": json.dumps({"pages": [1, 1]})}
        ).last_pk
        db["pairs"].insert(
            {"question": "Can you tell me the height of the Larkspur Dam?", "answer": "The Larkspur Dam is 212 metres high.",
             "kind": "number", "strategy": "paraphrase", "status": "edited", "split": "eval", "parent_pair_id": parent,
             "document_id": doc, "chunk_id": chunk, "made_by": "teacher-x"}
        )
        db["pairs"].insert({"question": "", "answer": "- The dam is high.\n- It is on the river.", "kind": "rephrase",
                            "strategy": "rephrase", "document_id": doc, "chunk_id": chunk, "meta": json.dumps({"style": "facts"})})
        db["pairs"].insert({"question": "Junk?", "answer": "Junk.", "status": "rejected"})
    db.close()
    return ws, pdf


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_into_a_fresh_workspace_loses_nothing(filled, tmp_path, fmt):
    ws, pdf = filled
    db = ws.connect()
    path = tmp_path / f"data.{fmt}.jsonl"
    assert export_jsonl(db, path, fmt) == 3  # the rejected pair stays behind
    original = [p for p in list_pairs(db) if p["status"] != "rejected"]

    other = Workspace.open(tmp_path / f"b-{fmt}")
    ImportJob(other, [pdf], ImportOptions(chunk_tokens=60)).run()
    odb = other.connect()
    report = import_jsonl(odb, path)
    assert (report.added, report.duplicates, report.linked) == (3, 0, 3)
    copied = list_pairs(odb)
    for before, after in zip(original, copied):
        assert {k: before[k] for k in COMPARED} == {k: after[k] for k in COMPARED}
        assert after["document_id"] is not None and after["chunk_id"] is not None
    assert copied[1]["parent_pair_id"] == copied[0]["id"]
    # Importing again adds nothing.
    assert import_jsonl(odb, path).duplicates == 3


def test_format_shapes(filled, tmp_path):
    ws, _ = filled
    db = ws.connect()
    lines = {}
    for fmt in FORMATS:
        export_jsonl(db, tmp_path / f"{fmt}.jsonl", fmt)
        lines[fmt] = [json.loads(l) for l in (tmp_path / f"{fmt}.jsonl").read_text().splitlines()]
    assert lines["openai"][0]["messages"][0] == {"role": "user", "content": "How high is the Larkspur Dam?"}
    assert lines["sharegpt"][0]["conversations"][1]["from"] == "gpt"
    assert lines["alpaca"][0]["instruction"] == "How high is the Larkspur Dam?"
    assert all(rows[2]["text"].startswith("- The dam") for rows in lines.values())


def test_foreign_jsonl_imports_as_new_pairs(workspace, db, tmp_path):
    path = tmp_path / "other-tool.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1?"},
                                 {"role": "assistant", "content": "A1."}, {"role": "user", "content": "Q2?"},
                                 {"role": "assistant", "content": "A2."}]}) + "\n"
        + json.dumps({"instruction": "Sum", "input": "2 and 3", "output": "5"}) + "\n\n"
    )
    report = import_jsonl(db, path)
    assert report.added == 3
    pairs = list_pairs(db)
    assert [p["question"] for p in pairs] == ["Q1?", "Q2?", "Sum\n\n2 and 3"]
    assert all(p["status"] == "new" and p["made_by"] == "import:other-tool.jsonl" for p in pairs)


def test_a_broken_line_names_its_line_and_imports_nothing(db, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n{"messages": [\n')
    with pytest.raises(DatasetError, match="line 2"):
        import_jsonl(db, path)
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 0


def test_hugging_face_folder_loads_in_datasets_and_round_trips(filled, tmp_path):
    import datasets

    ws, pdf = filled
    db = ws.connect()
    folder = tmp_path / "kwdesk-data"
    assert export_hf_folder(db, folder) == 3
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["test.jsonl", "train.jsonl"]
    card = (folder / "README.md").read_text()
    assert "path: data/train.jsonl" in card and "handbook.pdf" in card

    # The library reads the folder as the Hub would: splits from the card, one schema.
    loaded = datasets.load_dataset(str(folder))
    assert loaded["train"].num_rows == 2 and loaded["test"].num_rows == 1
    assert loaded["train"][0]["messages"][1] == {"role": "assistant", "content": "The Larkspur Dam is 212 metres high."}
    assert loaded["train"][1]["messages"] is None and loaded["train"][1]["text"].startswith("- The dam")
    assert loaded["test"][0]["messages"][0]["content"] == "Can you tell me the height of the Larkspur Dam?"

    other = Workspace.open(tmp_path / "b")
    ImportJob(other, [pdf], ImportOptions(chunk_tokens=60)).run()
    odb = other.connect()
    report = import_jsonl(odb, folder)
    assert (report.added, report.linked) == (3, 3)
    original = {p["question"] + p["answer"]: p for p in list_pairs(db) if p["status"] != "rejected"}
    for after in list_pairs(odb):
        before = original[after["question"] + after["answer"]]
        assert {k: before[k] for k in COMPARED} == {k: after[k] for k in COMPARED}


def test_a_dataset_saved_by_the_datasets_library_imports_with_its_split(db, tmp_path):
    """A folder from another tool: `to_json` per split, no kwdesk provenance."""
    import datasets

    folder = tmp_path / "theirs"
    (folder / "data").mkdir(parents=True)
    rows = [{"messages": [{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}]} for i in range(3)]
    datasets.Dataset.from_list(rows[:2]).to_json(folder / "data" / "train-00000.jsonl")
    datasets.Dataset.from_list(rows[2:]).to_json(folder / "data" / "validation-00000.jsonl")
    assert import_jsonl(db, folder).added == 3
    assert {p["question"]: p["split"] for p in list_pairs(db)} == {"Q0?": "train", "Q1?": "train", "Q2?": "eval"}


def test_a_folder_without_jsonl_is_refused_with_a_reason(db, tmp_path):
    (tmp_path / "arrow").mkdir()
    (tmp_path / "arrow" / "data-00000-of-00001.arrow").write_bytes(b"\0" * 8)
    with pytest.raises(DatasetError, match="Arrow files are not read"):
        import_jsonl(db, tmp_path / "arrow")
