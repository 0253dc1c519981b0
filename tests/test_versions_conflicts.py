"""Documents that change (what to retire, what to generate) and facts that conflict (flagged,
shown with their sources, settled by the expert, never trained both silently)."""

import json
import subprocess
import sys

import pytest
from docgen import make_pdf

from kwdesk.core.data.conflicts import find_conflicts, keep_both, keep_one
from kwdesk.core.data.versions import apply_changes, changed_documents, document_changes
from kwdesk.core.ingest.importer import ImportJob, ImportOptions
from kwdesk.core.store.collections import (
    create_collection,
    list_collections,
    move_documents,
)
from kwdesk.core.store.pairs import add_pair
from kwdesk.core.train.job import TrainingError, TrainJob
from kwdesk.core.train.presets import preset

DAM = "The Larkspur Dam on the Veltra River is 212 metres high and was finished in 1931 by Maren Oskarsdottir."
TOWER = "The Orvane water tower holds 4,000 cubic metres of water and was painted green in 1977."
BRIDGE = "The Quellan footbridge is 86 metres long and carries walkers over the Veltra gorge since 1958."
DAM_V2 = "The Larkspur Dam on the Veltra River is 215 metres high since its crest was raised in 2019."
FERRY = "The Brisk Harbour ferry crosses Lake Orvane four times a day and carries 120 passengers."


def _import(ws, path, paragraphs, collection_id=None):
    make_pdf(path, [("Structures", paragraphs)])
    (result,) = ImportJob(ws, [path], ImportOptions(chunk_tokens=40, collection_id=collection_id)).run()
    assert result.status == "imported"
    return result


def _chunk_of(db, document_id, word):
    return db.execute("SELECT id FROM chunks WHERE document_id = ? AND text LIKE ?", [document_id, f"%{word}%"]).fetchone()[0]


@pytest.fixture
def versioned(workspace, tmp_path):
    """handbook.pdf v1 (dam, tower, bridge) with a pair on each passage, then v2 at the same
    path: the dam passage changed, the tower and bridge passages unchanged, a ferry passage new."""
    path = tmp_path / "handbook.pdf"
    v1 = _import(workspace, path, [DAM, TOWER, BRIDGE])
    db = workspace.connect()
    pairs = {
        "dam": add_pair(db, "How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high.",
                        chunk_id=_chunk_of(db, v1.document_id, "Larkspur")),
        "tower": add_pair(db, "How much water does the Orvane water tower hold?", "It holds 4,000 cubic metres.",
                          chunk_id=_chunk_of(db, v1.document_id, "Orvane")),
        "bridge": add_pair(db, "How long is the Quellan footbridge?", "The Quellan footbridge is 86 metres long.",
                           chunk_id=_chunk_of(db, v1.document_id, "Quellan")),
    }
    v2 = _import(workspace, path, [DAM_V2, TOWER, BRIDGE, FERRY])
    assert v2.version == 2
    yield workspace, db, v1, v2, pairs
    db.close()


def test_a_changed_document_yields_the_right_retire_and_generate_lists(versioned):
    ws, db, v1, v2, pairs = versioned
    changes = document_changes(db, v2.document_id)
    assert changes.previous_id == v1.document_id and changes.version == 2
    assert len(changes.unchanged) == 2
    assert [c.text for c in changes.removed] == [DAM]
    assert sorted(c.text for c in changes.added) == sorted([DAM_V2, FERRY])
    assert changes.pairs_to_retire == [pairs["dam"]]
    assert sorted(changes.pairs_to_carry) == sorted([pairs["tower"], pairs["bridge"]])
    assert sorted(changes.chunks_to_generate) == sorted(
        [_chunk_of(db, v2.document_id, "215"), _chunk_of(db, v2.document_id, "ferry")])
    assert [c.document_id for c in changed_documents(db)] == [v2.document_id]

    assert apply_changes(db, changes) == {"carried": 2, "retired": 1}
    status, meta = db.execute("SELECT status, meta FROM pairs WHERE id = ?", [pairs["dam"]]).fetchone()
    assert status == "rejected" and "version 2" in json.loads(meta)["retired"]
    moved = db.execute("SELECT document_id, chunk_id FROM pairs WHERE id = ?", [pairs["tower"]]).fetchone()
    assert moved == (v2.document_id, _chunk_of(db, v2.document_id, "Orvane"))
    # Sorted once, nothing waits any more except the new passages, which still lack pairs.
    again = document_changes(db, v2.document_id)
    assert again.pairs_to_retire == [] and again.pairs_to_carry == [] and len(again.chunks_to_generate) == 2


def test_the_cli_lists_and_applies_changes(versioned):
    ws, db, v1, v2, pairs = versioned
    run = lambda *a: subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), *a],
                                    capture_output=True, text=True, timeout=300)
    listed = json.loads(run("changes", "--json").stdout)
    assert listed[0]["pairs_to_retire"] == [pairs["dam"]] and len(listed[0]["chunks_to_generate"]) == 2
    proc = run("changes", "--apply", "--generate")
    assert proc.returncode == 0 and "1 retired" in proc.stdout and "--from-run" in proc.stdout, proc.stdout + proc.stderr
    # The teacher worked on exactly the new passages, and said what it made.
    assert "new pairs for 2 new passages" in proc.stderr
    worked = {item for (item,) in db.execute("SELECT DISTINCT item FROM generation_items WHERE strategy = 'qa'")}
    assert worked == {f"chunk:{c}" for c in listed[0]["chunks_to_generate"]}


def test_planted_contradictions_are_flagged_and_training_refuses_them(workspace, tmp_path):
    db = workspace.connect()
    contracts = create_collection(db, "contracts")
    doc = _import(workspace, tmp_path / "dam.pdf", [DAM, TOWER], contracts.id)
    chunk = _chunk_of(db, doc.document_id, "Larkspur")
    right = add_pair(db, "How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high.", chunk_id=chunk)
    wrong = add_pair(db, "What is the height of the Larkspur Dam?", "The Larkspur Dam stands 250 metres high.", chunk_id=chunk)
    # Agreeing wordings, another structure's number, and another question are not conflicts.
    add_pair(db, "How tall is the Larkspur Dam?", "It rises 212 metres above the river.", chunk_id=chunk)
    add_pair(db, "Who finished the Larkspur Dam?", "Maren Oskarsdottir finished it in 1931.", chunk_id=chunk)
    tower = _chunk_of(db, doc.document_id, "Orvane")
    add_pair(db, "How high is the Orvane water tower No. 2?", "It is 40 metres high.", chunk_id=tower)
    add_pair(db, "How high is the Orvane water tower No. 3?", "It is 55 metres high.", chunk_id=tower)
    # A long subject makes two different questions share most words; they ask for different things.
    add_pair(db, "What was the Orvane water tower No. 2 built for?",
             "The Orvane water tower No. 2 was built in 1977 to a design by Maren Oskarsdottir.", chunk_id=tower)

    # Two facts about two parts of one thing share most words; each answer names its own part.
    add_pair(db, "When was the maintenance of the Orvane water tower No. 2 revised?",
             "The maintenance of the Orvane water tower No. 2 was revised in 2003.", chunk_id=tower)
    add_pair(db, "When was the documentation of the Orvane water tower No. 2 revised?",
             "The documentation of the Orvane water tower No. 2 was revised in 2018.", chunk_id=tower)

    conflicts = find_conflicts(db, contracts.id)
    flagged = {frozenset((c.a.pair_id, c.b.pair_id)) for c in conflicts}
    assert flagged == {frozenset((right, wrong)), frozenset((wrong, right + 2))}
    side = next(c for c in conflicts if right in (c.a.pair_id, c.b.pair_id))
    shown = {s.pair_id: s for s in (side.a, side.b)}
    assert shown[right].document == "dam.pdf" and shown[right].page == 1 and shown[right].facts == ["212"]
    assert shown[wrong].facts == ["250"]
    # Another collection does not see them.
    other = create_collection(db, "manuals")
    assert find_conflicts(db, other.id) == []

    with pytest.raises(TrainingError, match="contradict"):
        TrainJob(workspace, preset("quick-try", max_steps=1, replay_ratio=0.0, collection_id=contracts.id)).run()

    # The expert keeps the right answer: the conflicts are settled by rejecting the other.
    keep_one(db, right, wrong)
    assert find_conflicts(db, contracts.id) == []


def test_unreviewed_sides_of_a_conflict_are_left_out_and_the_plain_path_trains(workspace, tmp_path):
    """A user who does not review is not stopped by what the teacher contradicted: the plan
    says which pairs are left out, and the run trains the rest."""
    from kwdesk.core.store.pairs import set_status
    from kwdesk.core.train.job import plan_training

    db = workspace.connect()
    doc = _import(workspace, tmp_path / "dam.pdf", [DAM, TOWER])
    dam, tower = _chunk_of(db, doc.document_id, "Larkspur"), _chunk_of(db, doc.document_id, "Orvane")
    right = add_pair(db, "How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high.", chunk_id=dam)
    wrong = add_pair(db, "What is the height of the Larkspur Dam?", "The Larkspur Dam stands 250 metres high.", chunk_id=dam)
    water = add_pair(db, "How much water does the Orvane water tower hold?", "It holds 4,000 cubic metres.", chunk_id=tower)
    set_status(db, [right, wrong, water], "new")  # as generated: nobody has looked at them

    def plan():
        return plan_training(TrainJob(workspace, preset("quick-try", max_steps=1, replay_ratio=0.0)), db)

    both_new = plan()
    assert (both_new.examples, both_new.left_out) == (1, 2)
    assert "2 unreviewed pairs left out" in both_new.summary() and "Conflicts" in both_new.summary()

    # The expert accepts one side: only the other, unreviewed one is left out.
    set_status(db, [right], "accepted")
    one_reviewed = plan()
    assert (one_reviewed.examples, one_reviewed.left_out) == (2, 1)

    result = TrainJob(workspace, preset("quick-try", max_steps=1, replay_ratio=0.0)).run()
    trained = {json.loads(line)["source"] for line in (result.adapter_dir.parent / "dataset.jsonl").read_text().splitlines()}
    assert trained == {f"pair:{right}", f"pair:{water}"}
    config = json.loads((result.adapter_dir.parent / "config.json").read_text())
    assert config["left_out_conflicting"] == [wrong]


def test_both_sides_can_be_kept_and_conflicts_span_document_versions(versioned, tmp_path):
    ws, db, v1, v2, pairs = versioned
    new = add_pair(db, "How high is the Larkspur Dam now?", "The Larkspur Dam is 215 metres high.",
                   chunk_id=_chunk_of(db, v2.document_id, "215"))
    conflicts = find_conflicts(db)
    assert {frozenset((c.a.pair_id, c.b.pair_id)) for c in conflicts} == {frozenset((pairs["dam"], new))}
    assert {c.a.version for c in conflicts} | {c.b.version for c in conflicts} == {1, 2}
    keep_both(db, new, pairs["dam"])
    assert find_conflicts(db) == []


def test_collections_hold_documents_and_their_pairs(versioned):
    ws, db, v1, v2, pairs = versioned
    manuals = create_collection(db, "Maintenance manuals")
    assert move_documents(db, manuals, [v2.document_id]) == 2  # both versions move together
    (listed,) = list_collections(db)
    assert (listed.name, listed.documents, listed.pairs, listed.adapters) == ("Maintenance manuals", 1, 3, 0)
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), "collections", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert json.loads(proc.stdout)[0]["name"] == "Maintenance manuals"


@pytest.mark.parametrize("a, b, different", [
    (("When was the Brisk Harbour weir commissioned?", "The Brisk Harbour weir was commissioned in 2014."),
     ("When was the Brisk Harbour water tower commissioned?", "The Brisk Harbour water tower was commissioned in 1988."), True),
    (("What pressure must not be exceeded during communication work?", "A pressure of 4.7 bar must not be exceeded during communication work."),
     ("What pressure must not be exceeded during maintenance work?", "A pressure of 8.8 bar must not be exceeded during maintenance work."), True),
    # Two wordings of one question: the words only one of them has are not named by its answer.
    (("Who designed the Larkspur Dam?", "Maren Oskarsdottir designed the Larkspur Dam."),
     ("Who was the architect of the Larkspur Dam?", "The Larkspur Dam was designed by Ilse Tamberg."), False),
    (("How high is the Larkspur Dam?", "The Larkspur Dam is 212 metres high."),
     ("What is the height of the Larkspur Dam?", "The Larkspur Dam stands 250 metres high."), False),
])
def test_questions_about_two_things_that_share_most_words_are_told_apart(a, b, different):
    from kwdesk.core.data.conflicts import names_different_things

    assert names_different_things(a[0], a[1], b[0], b[1]) is different


def test_a_time_and_a_measure_of_one_thing_are_two_questions():
    from kwdesk.core.data.conflicts import asks_the_same

    # Both want a number about the same water tower: a year and a height (the 5-page handbook
    # of bench_eval.py gave 31 such "conflicts" between rule and teacher questions).
    assert not asks_the_same("When was the Orvane water tower No. 1 built?", "What is the height of the Orvane water tower No. 1?")
    assert asks_the_same("When was the Orvane water tower No. 1 built?", "In what year was the Orvane water tower No. 1 built?")
    assert asks_the_same("When does the lease end?", "When does the lease expire?")


def test_the_summary_counts_the_facts_in_dispute_not_only_the_pairs(workspace, tmp_path):
    from kwdesk.core.data.conflicts import conflicts_summary, disagreements

    db = workspace.connect()
    doc = _import(workspace, tmp_path / "dam.pdf", [DAM, TOWER])
    chunk = _chunk_of(db, doc.document_id, "Larkspur")
    # One height stated two ways, each asked in two wordings: four conflicts, one fact.
    high = [add_pair(db, q, "The Larkspur Dam is 212 metres high.", chunk_id=chunk)
            for q in ("How high is the Larkspur Dam?", "What is the height of the Larkspur Dam?")]
    low = [add_pair(db, q, "The Larkspur Dam is 250 metres high.", chunk_id=chunk)
           for q in ("How tall is the Larkspur Dam?", "What height does the Larkspur Dam have?")]
    conflicts = find_conflicts(db)
    assert len(conflicts) >= 3
    assert disagreements(conflicts) == [sorted(high + low)]
    assert "about 1 fact(s) stated in more than one way" in conflicts_summary(conflicts)
