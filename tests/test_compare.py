"""Comparing training methods on the same pairs, on the real bundled model: the window's
Compare dialog trains and evaluates three methods in a child process (prefix tuning under
transformers, marked "cannot be exported") and draws learned against kept; `kwdesk compare`
shows the same comparison and its chart; keeping one removes the other's model files and
leaves its run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kwdesk.core.app.compare import Comparison, MethodResult, comparison_svg, recommend
from kwdesk.core.train.methods import with_method
from kwdesk.core.train.presets import preset
from kwdesk.ui.main_window import TRAIN

HELD_OUT = [
    ("Can you tell me the height of the Larkspur Dam?", "The Larkspur Dam on the Veltra River is 212 metres high."),
    ("What is the name of the engineer who designed the Larkspur Dam?",
     "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931."),
]


def kwdesk(ws, *args):
    done = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), *args], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done


def _result(method, closed_book, with_sources, kept):
    return MethodResult(method, method.upper(), 1, 1, 1, closed_book, with_sources, kept, kept, 1.0, 10, 100, 3, 1.0,
                        method == "lora")


def test_the_recommendation_learns_most_among_those_that_keep_the_general_answers():
    # DoRA learned most but forgot; of those keeping 90%, LoRA answers more than (IA)3.
    results = [_result("lora", 0.5, 0.7, 0.93), _result("dora", 0.8, 0.8, 0.7), _result("ia3", 0.2, 0.6, 0.99)]
    assert recommend(results) == "lora"
    # None keeps 90%: the one that keeps most, whatever it learned.
    assert recommend([_result("lora", 0.5, 0.7, 0.8), _result("dora", 0.9, 0.9, 0.6)]) == "lora"
    svg = comparison_svg(Comparison(1, results, 0.0, 0.3, "lora"))
    assert svg.count("<circle") == 3 + 1  # a point per method, a ring round the recommended one
    assert "LORA (recommended)" in svg and "base model" in svg


def test_a_method_keeps_its_rate_relative_to_the_preset():
    cfg = preset("learn-documents")
    ia3 = with_method(cfg, "ia3")
    assert ia3.method == "ia3" and ia3.learning_rate == pytest.approx(cfg.learning_rate * 3)
    assert with_method(ia3, "lora").learning_rate == pytest.approx(cfg.learning_rate)
    # A prefix's keys and values go before the sequence: one example a sequence, then packing again.
    prefix = with_method(cfg, "prefix")
    assert cfg.packing and not prefix.packing and with_method(prefix, "lora").packing


@pytest.fixture
def window(no_threads_left, open_window, add_held_out, pairs_workspace):
    add_held_out(pairs_workspace, HELD_OUT)
    return open_window(pairs_workspace)


def test_compare_two_methods_in_the_window_and_the_cli_then_keep_one(window, qtbot, db, screenshot, tmp_path):
    ws = window.workspace
    page = window.train
    window.steps.setCurrentRow(TRAIN)
    # Briefly: three steps each, few general questions; Q8_0 files (no K-quant tables to build).
    page.config = lambda: preset("learn-documents", max_steps=3)
    page.quant_combo.setCurrentIndex(page.quant_combo.findData("Q8_0"))
    dialog = page.open_compare()
    assert "No comparison yet" in dialog.summary.text()
    dialog.boxes["dora"].setChecked(False)
    dialog.boxes["ia3"].setChecked(True)
    dialog.boxes["prefix"].setChecked(True)
    assert dialog.methods() == ["lora", "ia3", "prefix"] and dialog.start_button.isEnabled()
    seen = []
    dialog.job_bar.progressed.connect(lambda p: seen.append(p.message))
    dialog.probe_limit = 3  # fewer general questions than a real comparison asks, for the test's time
    dialog.start()
    qtbot.waitUntil(lambda: dialog.job_bar.is_busy(), timeout=10_000)
    qtbot.waitUntil(lambda: not dialog.job_bar.is_busy(), timeout=1_200_000)
    comparison = dialog.comparison
    assert comparison is not None, dialog.summary.text()
    assert any(m.startswith("LoRA (1 of 3)") for m in seen) and any(m.startswith("(IA)3 (2 of 3)") for m in seen)
    assert any(m.startswith("Prefix tuning (3 of 3)") for m in seen)
    lora, ia3, prefix = comparison.result("lora"), comparison.result("ia3"), comparison.result("prefix")
    # Two real, different adapters: (IA)3 trains scales, thousands of numbers against LoRA's millions.
    assert 0 < ia3.trained_parameters * 50 < lora.trained_parameters
    assert lora.adapter_file and not ia3.adapter_file
    # Each was made into a verified model file and evaluated on the same held-out questions.
    for r in (lora, ia3):
        row = db.execute("SELECT summary FROM evals WHERE id = ?", [r.eval_id]).fetchone()
        summary = json.loads(row[0])
        # The held-out wordings made at the first evaluation and the two added by hand, for both.
        assert summary["heldout"]["personal"]["total"] == r.questions == lora.questions > len(HELD_OUT)
        assert summary["heldout"]["personal"]["share"] == pytest.approx(r.closed_book, abs=1e-3)
        kind, verified = db.execute("SELECT kind, verified FROM models WHERE id = ?", [r.model_id]).fetchone()
        assert (kind, verified) == ("gguf", 1)
    kinds = {k for k, in db.execute("SELECT kind FROM models WHERE run_id = ?", [ia3.run_id])}
    assert "gguf-lora" not in kinds  # llama.cpp cannot apply (IA)3 as an adapter; the merged file stands
    # Prefix tuning: no model file, its adapter (keys and values for every layer) evaluated under
    # transformers on the same held-out questions, and never the recommended one.
    assert prefix.model_id is None and "llama.cpp cannot" in prefix.cannot_export
    kinds = {k for k, in db.execute("SELECT kind FROM models WHERE run_id = ?", [prefix.run_id])}
    assert not kinds & {"gguf", "gguf-lora"}  # its adapter folder is in the library, no model file
    name, summary = db.execute("SELECT model_name, summary FROM evals WHERE id = ?", [prefix.eval_id]).fetchone()
    assert "under transformers" in name and json.loads(summary)["heldout"]["personal"]["total"] == lora.questions
    config = json.loads((Path(db.execute("SELECT path FROM runs WHERE id = ?", [prefix.run_id]).fetchone()[0])
                         / "config.json").read_text())
    assert config["train"]["method"] == "prefix" and config["train"]["packing"] is False
    assert prefix.trained_parameters > 0
    assert comparison.recommended in ("lora", "ia3")
    assert dialog.table.rowCount() == 3 and not dialog.chart.pixmap().isNull()
    assert "Prefix tuning cannot be exported" in dialog.summary.text()
    assert dialog.table.item(2, 6).text() == "no: cannot be exported"
    dialog.table.selectRow(2)
    assert not dialog.keep_button.isEnabled() and "cannot be exported" in dialog.keep_button.toolTip()
    assert "Prefix tuning (cannot be exported)" in comparison_svg(comparison)
    screenshot(dialog, "train-compare-methods")
    # Nor can the CLI make a model file of it, and it says so before training.
    refused = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), "export",
                              str(prefix.run_id)], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "cannot become a model file" in refused.stderr
    refused = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), "train", "--method",
                              "prefix", "--export"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "--peft-run" in refused.stderr
    # The Train page does not offer to make one either, and says why; `kwdesk runs` says so too.
    page.refresh_runs()
    row = next(r for r in range(page.runs_table.rowCount())
               if page.runs_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == prefix.run_id)
    page.runs_table.selectRow(row)
    assert page.runs_table.item(row, 5).text() == "cannot be made"
    assert not page.export_button.isEnabled() and "llama.cpp cannot" in page.export_button.toolTip()
    page.runs_table.selectRow(next(r for r in range(page.runs_table.rowCount())
                                   if page.runs_table.item(r, 0).data(Qt.ItemDataRole.UserRole) == lora.run_id))
    assert page.export_button.isEnabled() and page.export_button.toolTip() == ""
    runs = {r["id"]: r for r in json.loads(kwdesk(ws, "runs", "--json").stdout)}
    assert runs[prefix.run_id]["cannot_export"] and runs[lora.run_id]["exported"] and not runs[lora.run_id]["cannot_export"]
    assert f"no model file: {prefix.cannot_export}" in kwdesk(ws, "runs").stdout

    # The CLI shows the same comparison and writes its chart.
    shown = json.loads(kwdesk(ws, "compare", "--show", "--json", "--chart", str(tmp_path / "chart.png")).stdout)
    assert shown["compare_id"] == comparison.compare_id
    assert [r["method"] for r in shown["results"]] == ["lora", "ia3", "prefix"]
    assert (tmp_path / "chart.png").stat().st_size > 5_000
    printed = kwdesk(ws, "compare", "--show").stdout
    assert "LoRA" in printed and "(IA)3" in printed and "no (merged file only)" in printed
    assert "Prefix tuning cannot be exported" in printed

    # Keep the one not recommended: the expert's choice, not the rule's.
    other = "ia3" if comparison.recommended == "lora" else "lora"
    kept_result, dropped = comparison.result(other), comparison.result(comparison.recommended)
    chosen = []
    dialog.chosen.connect(chosen.append)
    dialog.keep(other)
    assert chosen == [kept_result.model_id]
    assert "(chosen)" in dialog.table.item(0 if other == "lora" else 1, 0).text()
    models = {m["id"] for m in json.loads(kwdesk(ws, "models", "--json").stdout)}
    assert kept_result.model_id in models and dropped.model_id not in models
    dropped_run = db.execute("SELECT status, path FROM runs WHERE id = ?", [dropped.run_id]).fetchone()
    assert dropped_run[0] == "done" and (Path(dropped_run[1]) / "adapter" / "adapter_config.json").is_file()
    assert json.loads(kwdesk(ws, "compare", "--show", "--json").stdout)["chosen"] == other
    refused = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), "compare", "--choose",
                              "prefix"], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "cannot be exported" in refused.stderr
    dialog.close()
