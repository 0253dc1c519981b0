"""Evaluation on the real bundled model: held-out questions about invented facts, with and
without retrieved passages, and general probe questions for forgetting."""

import json

import pytest

from kwdesk.core.evaluation.job import EvaluateJob
from kwdesk.core.evaluation.results import EvaluationError
from kwdesk.core.models.probes import probe_questions
from kwdesk.core.store.evals import facts_learned
from kwdesk.core.store.workspace import write_transaction
from kwdesk.core.text.fact_match import (
    grade_against_reference,
    grade_short_answer,
    key_facts,
)

HELD_OUT = [
    ("Can you tell me the height of the Larkspur Dam?", "The Larkspur Dam on the Veltra River is 212 metres high."),
    ("What is the name of the engineer who designed the Larkspur Dam?", "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931."),
    ("I would like to know where the Veltra River rises?", "The Veltra River rises in the Quellan Hills and flows into Lake Orvane."),
]


def test_the_grader_checks_the_key_facts_a_question_asks_for():
    reference = "The Larkspur Dam on the Veltra River is 212 metres high."
    assert key_facts(reference, "How high is the Larkspur Dam?") == (["212"], 1)
    assert grade_against_reference("It is 212 meters tall.", reference, "How high is the Larkspur Dam?").correct
    wrong = grade_against_reference("It is 2,120 metres high.", reference, "How high is the Larkspur Dam?")
    assert not wrong.correct and wrong.missing == ["212"]
    assert grade_against_reference("Maren Oskarsdottir.", HELD_OUT[1][1], "Who designed the Larkspur Dam?").correct
    assert not grade_against_reference("A Swiss engineer.", HELD_OUT[1][1], "Who designed the Larkspur Dam?").correct
    assert grade_short_answer("The capital of France is Paris.", ["Paris"]).correct
    assert not grade_short_answer("It is 35.", ["3"]).correct  # whole numbers, not digits inside others
    assert grade_short_answer("1,000 grams", ["1000"]).correct


def test_probe_set_is_bundled_and_spread_over_topics():
    everything = probe_questions()
    assert len(everything) >= 190 and all(item["answers"] for item in everything)
    sample = probe_questions(30)
    assert len(sample) == 30 and len({item["topic"] for item in sample}) >= 4


def test_a_long_held_out_set_is_sampled_keeping_every_question_the_expert_chose():
    from kwdesk.core.store.evals import held_out_sample

    items = [{"pair_id": i, "made": i % 10 != 0} for i in range(1000)]  # 100 chosen, 900 written by kwdesk
    asked = held_out_sample(items, 200)
    assert len(asked) == 200 and sum(not i["made"] for i in asked) == 100
    made = [i["pair_id"] for i in asked if i["made"]]
    assert made[0] < 20 and made[-1] > 960  # spread over the whole set, not its first documents
    assert held_out_sample(items, None) == items and held_out_sample(items[:150], 200) == items[:150]
    chosen_only = [i for i in items if not i["made"]]
    assert held_out_sample(chosen_only + items[1:3], 50) == chosen_only  # all the expert's, however many


def test_no_held_out_questions_is_a_readable_error(workspace):
    with pytest.raises(EvaluationError, match="no held-out questions"):
        EvaluateJob(workspace).run()


def test_base_model_does_not_know_invented_facts_but_knows_general_ones(facts_workspace, add_held_out):
    add_held_out(facts_workspace, HELD_OUT)
    db = facts_workspace.connect()
    seen = []
    result = EvaluateJob(facts_workspace, "bundled", probe_limit=30, make_held_out=False).run(seen.append)
    assert seen and seen[-1].done == seen[-1].total
    closed_book = result.heldout["base"]
    assert closed_book.total == 3 and closed_book.correct <= 1  # invented facts: the base cannot know them
    assert result.heldout["base+rag"].correct >= closed_book.correct
    assert result.probe_base.total == 30 and result.probe_base.correct >= 10  # general knowledge it has
    # Every verdict is stored with the actual answer, and can be read back.
    rows = db.execute("SELECT config, question, answer, correct, missing FROM eval_items WHERE eval_id = ?", [result.eval_id]).fetchall()
    # The handbook fits the base model's context whole, so it is also asked with all of it in the
    # prompt; each way is timed.
    assert result.full_context["fits"] and 0 < result.full_context["tokens"] < result.full_context["context"]
    assert result.heldout["base+full"].total == 3 and result.heldout["base+full"].correct >= closed_book.correct
    assert set(result.seconds_per_answer) == {"base", "base+rag", "base+full", "personal", "personal+rag"}
    assert all(seconds > 0 for seconds in result.seconds_per_answer.values())
    assert result.sources_passages == 1  # the bundled 135M model is given its best passage (chat_format.sources_top_k)
    # Held-out x 5, then probes x 2 and the replay prompts under each of three system prompts.
    assert len(rows) == 3 * 5 + (2 * 30 + 30) * 3
    assert result.replay_kept.total == 30
    # Forgetting under each prompt a user's tool asks with; a model compared with itself
    # keeps everything under each (the control: the measure reads no change into none).
    assert set(result.kept_by_prompt) == {"evaluation", "kwdesk chat", "no system prompt"}
    for label, scores in result.kept_by_prompt.items():
        assert scores["kept"].share == 1.0 and scores["replay_kept"].correct == 30, label
    assert all(answer.strip() for _c, _q, answer, _ok, _m in rows)
    base_rows = [r for r in rows if r[0] == "base" and r[1] == HELD_OUT[0][0]]
    assert base_rows and (base_rows[0][3] == 1) == ("212" in base_rows[0][2])
    summary = json.loads(db.execute("SELECT summary FROM evals WHERE id = ?", [result.eval_id]).fetchone()[0])
    assert summary["heldout"]["base"]["total"] == 3
    assert set(facts_learned(db)) == {p for p, in db.execute("SELECT id FROM pairs WHERE split = 'eval'")}
    db.close()

    # The same from the CLI.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(facts_workspace.root), "eval", "bundled",
                           "--probe-limit", "4", "--json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["heldout"]["base"]["total"] == 3 and report["probe_base"]["total"] == 4
    # Both evaluations are listed, to compare versions of data and models.
    listed = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(facts_workspace.root), "eval", "--history",
                             "--json"], capture_output=True, text=True, timeout=600)
    history = json.loads(listed.stdout)
    assert [h["eval_id"] for h in history] == [result.eval_id, report["eval_id"]]
    assert history[-1]["base"] == report["heldout"]["base"]["share"]


def test_evaluate_from_the_models_step_shows_and_exports_the_report(qtbot, facts_workspace, tmp_path, screenshot,
                                                                     no_threads_left):
    from kwdesk.core.models.bundled import bundled_model_path
    from kwdesk.ui.main_window import MODELS, MainWindow

    db = facts_workspace.connect()
    doc_id, chunk_id = db.execute("SELECT document_id, id FROM chunks ORDER BY seq LIMIT 1").fetchone()
    trained = [("How high is the Larkspur Dam?", HELD_OUT[0][1]), ("Who designed the Larkspur Dam?", HELD_OUT[1][1]),
               ("Where does the Veltra River rise?", HELD_OUT[2][1])]
    with write_transaction(db):
        for (question, answer), (held_question, _) in zip(trained, HELD_OUT):
            parent = db["pairs"].insert({"question": question, "answer": answer, "document_id": doc_id,
                                         "chunk_id": chunk_id, "strategy": "qa", "status": "accepted"}).last_pk
            db["pairs"].insert({"question": held_question, "answer": answer, "split": "eval", "document_id": doc_id,
                                "chunk_id": chunk_id, "strategy": "manual", "parent_pair_id": parent})
        # The bundled model, registered as the model file of a finished run: a real GGUF to evaluate.
        run_id = db["runs"].insert({"kind": "train", "status": "done", "config": "{}"}).last_pk
        model_id = db["models"].insert({"kind": "gguf", "name": "bundled as a model", "path": str(bundled_model_path()),
                                        "verified": 1, "quantization": "Q8_0", "run_id": run_id}).last_pk
    window = MainWindow(facts_workspace, "test model")
    qtbot.addWidget(window)
    window.show()
    window.resize(1200, 800)
    page = window.library
    page.probe_limit = 8
    window.steps.setCurrentRow(MODELS)  # the newest model is selected, its evaluation plan shown
    page.table.selectRow(0)
    assert page.selected().chat_file.id == model_id and page.evaluate_button.isEnabled()
    assert page.table.item(0, 0).text().endswith(", version 1") and "not evaluated yet" in page.table.item(0, 1).text()
    # What Evaluate will ask, and about how long it takes, before it starts (nothing to write: each has a wording).
    assert "Evaluate asks 3 test questions about your documents and 8 general questions" in page.details.text()
    assert "here." in page.details.text() and "writing" not in page.details.text()
    assert page.eval_summary.text() == "Not evaluated yet."
    page.evaluate_button.click()
    qtbot.waitUntil(lambda: not page.eval_bar.is_busy(), timeout=300_000)
    assert "Evaluation" in page.eval_bar.message.text(), page.eval_bar.message.text()
    assert not page.chart.pixmap().isNull()
    assert "Held-out questions about your documents: base" in page.eval_summary.text()
    # What it knows, in the expert's words, on its row.
    assert "test questions alone" in page.table.item(0, 1).text() and "general knowledge" in page.table.item(0, 1).text()
    # The step list and the Next line follow: the model is evaluated, so asking it comes next.
    qtbot.waitUntil(lambda: window.steps.item(MODELS).text().endswith("evaluated")
                    and "not evaluated" not in window.steps.item(MODELS).text(), timeout=10_000)
    assert "or evaluate" not in window.next_label.text(), window.next_label.text()
    screenshot(window, "models-evaluated")

    html_file = page.export_report(tmp_path / "report.html")
    text = html_file.read_text()
    assert "<svg" in text and "Every question" in text and HELD_OUT[0][0] in text
    assert "came with the best-matching passage" in text  # how "with sources" was asked
    png = page.export_report(tmp_path / "report.png")
    from PySide6.QtGui import QImage

    assert QImage(str(png)).width() > 500
    saved = json.loads(db.execute("SELECT summary FROM evals").fetchone()[0])
    assert saved["probe_base"]["total"] == 8
    assert db.execute("SELECT count(*) FROM pairs WHERE split = 'eval'").fetchone()[0] == 3  # none made twice

    # The facts the model got wrong are marked in the table, and one action makes more data for them.
    window.steps.setCurrentRow(1)
    data = window.data
    wrong = [pair_id for pair_id, ok in facts_learned(db).items() if not ok]
    assert wrong  # the base model cannot know invented facts closed-book
    data.learned_filter.setCurrentIndex(data.learned_filter.findText("not learned"))
    assert data.model.ids == sorted(wrong)
    learned_column = list(data.model.headerData(c, __import__("PySide6.QtCore").QtCore.Qt.Orientation.Horizontal)
                          for c in range(data.model.columnCount())).index("Learned")
    assert data.model.index(0, learned_column).data() == "no"
    before = db.execute("SELECT count(*) FROM pairs").fetchone()[0]
    data.more_button.click()
    qtbot.waitUntil(lambda: not data.generate_panel.job_bar.is_busy(), timeout=300_000)
    made = db.execute("SELECT parent_pair_id FROM pairs WHERE strategy = 'paraphrase'").fetchall()
    assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == before + len(made)
    assert made and {parent for parent, in made} <= set(wrong)
    window.close()
    db.close()


def test_evaluate_says_what_it_will_ask_and_write_before_it_starts(pairs_workspace):
    from kwdesk.core.evaluation.job import plan_evaluation

    db = pairs_workspace.connect()
    try:
        plan = plan_evaluation(db, probe_limit=8)
        none_to_write = plan_evaluation(db, probe_limit=8, make_held_out=False)
    finally:
        db.close()
    # Three trained pairs and no held-out wording yet: three are written first, then asked.
    assert (plan.asked, plan.to_write, plan.general) == (3, 3, 8) and plan.seconds > 0
    assert plan.in_words().startswith("Evaluate asks 3 test questions about your documents (first writing 3 new "
                                      "ones from your pairs: they are never trained, and show in the review table")
    assert none_to_write.asked == 0 and "generate pairs first" in none_to_write.in_words()
