"""Generation with the real bundled teacher on a document of invented facts."""

import json

import pytest

from kwdesk.core.base.jobs import Cancelled
from kwdesk.core.data.checks import support_problem
from kwdesk.core.data.generate import GenerateJob, GenerateOptions
from kwdesk.core.data.prompts import PROMPT_VERSION
from kwdesk.core.data.teacher import LlamaCppTeacher
from kwdesk.core.store.pairs import list_pairs, set_status
from kwdesk.core.store.workspace import write_transaction
from kwdesk.core.text.words import content_words


def generate(workspace, teacher, *strategies, **options):
    return GenerateJob(workspace, teacher, GenerateOptions(strategies=strategies, **options)).run()


def test_every_strategy_makes_grounded_pairs_with_provenance(facts_workspace, teacher, db):
    result = generate(facts_workspace, teacher, "qa", "entities", "rephrase")
    pairs = list_pairs(db)
    by_strategy = {s: [p for p in pairs if p["strategy"] == s] for s in ("qa", "entities", "rephrase")}
    assert len(by_strategy["qa"]) >= 4
    assert len(by_strategy["entities"]) >= 4
    assert len(by_strategy["rephrase"]) >= 2
    assert result.pairs_added == len(pairs)
    chunks = {row[0]: row[1] for row in db.execute("SELECT id, text FROM chunks")}
    # The small bundled teacher writes summaries and lecture notes, no dialogues (none of its
    # dialogues held a sentence its passage supports).
    assert teacher.small and result.reports["rephrase"].attempts == 2 * len(chunks)
    for pair in pairs:
        assert pair["document_id"] is not None and pair["chunk_id"] in chunks
        assert pair["prompt_version"] == PROMPT_VERSION
        assert pair["made_by"] in (teacher.name, "kwdesk-rules")
        assert pair["meta"]["pages"][0] >= 1
        source = chunks[pair["chunk_id"]]
        # Every answer says only what its source chunk says: Q&A answers are its sentences,
        # rephrasings may use other words but no name or number the chunk lacks.
        if pair["strategy"] == "rephrase":
            assert support_problem(pair["answer"], source, min_overlap=0.7) is None, pair
        else:
            assert content_words(pair["answer"]) <= content_words(source) | {"dam's"}, pair
        if pair["strategy"] == "rephrase":
            assert pair["question"] == "" and pair["kind"] == "rephrase" and pair["meta"]["style"]
        else:
            assert pair["question"].endswith("?")
            assert pair["source_span"] and pair["source_span"] in source
    kinds = {p["kind"] for p in by_strategy["qa"]}
    assert {"number", "date"} <= kinds
    assert any(p["kind"] == "relation" for p in by_strategy["entities"])
    assert any(p["made_by"] == teacher.name for p in by_strategy["rephrase"] + by_strategy["entities"])
    # The qa questions ask about the invented facts.
    questions = " ".join(p["question"] for p in by_strategy["qa"])
    for name in ("Larkspur Dam", "KX-9"):
        assert name in questions


def test_paraphrases_of_accepted_questions_keep_their_answers(facts_workspace, teacher, db):
    generate(facts_workspace, teacher, "qa")
    originals = list_pairs(db, strategy="qa")
    set_status(db, [p["id"] for p in originals[:3]], "accepted")
    # Reviewed questions only (no top-up of new ones): two wordings each of the three.
    result = generate(facts_workspace, teacher, "paraphrase", reword_per_fact=0)
    paraphrases = list_pairs(db, strategy="paraphrase")
    assert result.reports["paraphrase"].attempts == 6
    assert len(paraphrases) >= 2
    by_id = {p["id"]: p for p in originals}
    for p in paraphrases:
        parent = by_id[p["parent_pair_id"]]
        assert p["answer"] == parent["answer"]
        assert p["question"] != parent["question"] and p["question"].endswith("?")


def test_the_default_run_asks_every_planted_fact_three_ways_and_no_month_pair(facts_workspace, teacher, db):
    from docgen import INVENTED_FACTS

    from kwdesk.core.data.coverage import CoverageJob, coverage

    result = GenerateJob(facts_workspace, teacher).run()  # what `kwdesk generate` does
    report = coverage(db)
    # The same count as a job (the app's Coverage dialog): progress per passage, and cancel.
    reports = []
    assert CoverageJob(facts_workspace).run(reports.append).to_dict() == report.to_dict()
    assert reports and reports[-1].done == reports[-1].total
    stopped = CoverageJob(facts_workspace)
    stopped.cancel()
    with pytest.raises(Cancelled):
        stopped.run()
    for fact in INVENTED_FACTS:
        (item,) = [f for f in report.facts if fact in f.fact or f.fact in fact]
        assert item.wordings >= 3, (fact, item.questions)
    # Rule-built questions are counted apart from the teacher's, and most facts have them.
    assert result.reports["qa"].by_rule >= len(INVENTED_FACTS)
    assert "built by rule" in result.reports["qa"].summary()
    rules = [p for p in list_pairs(db, strategy="qa") if p["made_by"] == "kwdesk-rules"]
    assert {"When was the Larkspur Dam designed?", "How high is the Larkspur Dam on the Veltra River?",
            "How often must valve assembly KX-9 be inspected?"} <= {p["question"] for p in rules}
    # New questions were reworded on this run, without waiting for a review.
    assert result.reports["paraphrase"].usable > 0
    # A relation joins what a sentence is about to a name it gives, never two names it only mentions.
    relations = {p["question"] for p in list_pairs(db, strategy="entities") if p["kind"] == "relation"}
    assert "How are Veltra River and Lake Orvane related?" in relations
    assert "How are Quellan Hills and Lake Orvane related?" not in relations
    months = "January February March April May June July August September October November December".split()
    for pair in list_pairs(db):
        related = pair["question"].removeprefix("How are ").removesuffix(" related?")
        assert not any(related.startswith(m) or related.endswith(m) for m in months), pair["question"]


def test_a_cancelled_job_resumes_without_duplicates(facts_workspace, teacher, db):
    job = GenerateJob(facts_workspace, teacher, GenerateOptions(strategies=("qa", "rephrase")))

    def cancel_after_two(p):
        if p.total and p.done >= 2:
            job.cancel()

    with pytest.raises(Cancelled):
        job.run(cancel_after_two)
    first_items = {r[0] for r in db.execute("SELECT strategy || item FROM generation_items")}
    assert len(first_items) == 2
    assert db.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0] == "cancelled"

    generate(facts_workspace, teacher, "qa", "rephrase")
    rows = db.execute("SELECT strategy, item, run_id FROM generation_items").fetchall()
    chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert len(rows) == 2 * chunks  # every item done exactly once
    # Items finished before the cancel were not made again.
    assert {f"{s}{i}" for s, i, run in rows if run == 1} == first_items
    pairs = [(p["question"], p["answer"]) for p in list_pairs(db)]
    assert len(pairs) == len(set(pairs))


def test_planted_duplicates_are_filtered_and_counted(facts_workspace, teacher, db):
    doc_id, chunk_id = db.execute("SELECT document_id, id FROM chunks ORDER BY seq LIMIT 1").fetchone()
    answer = "The Larkspur Dam on the Veltra River is 212 metres high."
    with write_transaction(db):
        db["pairs"].insert(
            {"question": "How high is the Larkspur Dam on the Veltra River?", "answer": answer, "document_id": doc_id, "chunk_id": chunk_id}
        )
    result = generate(facts_workspace, teacher, "qa")
    rejected = result.reports["qa"].rejected
    assert rejected["exact duplicate"] + rejected["near duplicate"] >= 1
    same_answer = [p for p in list_pairs(db) if p["answer"] == answer]
    questions = [p["question"].lower() for p in same_answer]
    assert questions.count("how high is the larkspur dam on the veltra river?") == 1


class BadlyPromptedTeacher(LlamaCppTeacher):
    """The real bundled model, asked the wrong thing: what a weak teacher gives."""

    def chat(self, messages, **kwargs):
        return super().chat([{"role": "user", "content": "Say the word banana."}], **kwargs)


def test_a_teacher_that_makes_nothing_usable_is_reported_not_silent(facts_workspace, db):
    from kwdesk.core.models.bundled import bundled_model_path

    weak = BadlyPromptedTeacher(bundled_model_path(), name="weak")
    try:
        result = generate(facts_workspace, weak, "qa", per_chunk=2)
    finally:
        weak.close()
    report = result.reports["qa"]
    # What kwdesk built by rule stands; the teacher's own attempts all failed, and it says so.
    assert report.usable == report.by_rule and report.attempts > report.by_rule
    assert sum(report.rejected.values()) + report.usable == report.attempts
    assert result.warnings and all(w.startswith("0 usable of ") and "by the teacher on chunk" in w for w in result.warnings)
    made_by = {r[0] for r in db.execute("SELECT made_by FROM pairs")}
    assert made_by <= {"kwdesk-rules"}
    metrics = json.loads(db.execute("SELECT metrics FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert metrics["warnings"] == result.warnings


def test_the_coverage_report_lists_each_fact_with_its_questions_and_those_not_asked(facts_workspace, teacher, db):
    import subprocess
    import sys

    from docgen import INVENTED_FACTS

    generate(facts_workspace, teacher, "qa", per_chunk=1)
    # The expert rejects every question of one fact: it has none left.
    exports = [p["id"] for p in list_pairs(db) if p["source_span"] == INVENTED_FACTS[4]]
    set_status(db, exports, "rejected")
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(facts_workspace.root), "generate",
                           "--report", "--json"], capture_output=True, text=True, timeout=120)
    report = json.loads(proc.stdout)
    facts = {item["fact"]: item for item in report["items"]}
    # Every invented fact of the handbook is a fact of the report.
    for fact in INVENTED_FACTS:
        assert any(fact in known or known in fact for known in facts), fact
    pairs = [p for p in list_pairs(db) if p["status"] != "rejected"]
    for item in report["items"]:
        made = [p["question"] for p in pairs if p["answer"] == item["fact"] or p["source_span"] == item["fact"]]
        assert (item["wordings"] == 0) == (not made), item
    # Rejected questions do not count: that fact is listed as not asked yet.
    assert [f["fact"] for f in report["items"] if f["wordings"] == 0] == [INVENTED_FACTS[4]]
    text = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(facts_workspace.root), "generate",
                           "--report"], capture_output=True, text=True, timeout=120).stdout
    assert f"{report['facts']} facts in the passages" in text and "not asked  handbook.pdf p." in text
