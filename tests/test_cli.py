"""The command line as scripts use it: JSON on stdout, exit codes."""

import json
import subprocess
import sys

from docgen import facts_pdf


def kwdesk(workspace_dir, *args):
    return subprocess.run(
        [sys.executable, "-m", "kwdesk", "--workspace", str(workspace_dir), *args], capture_output=True, text=True, timeout=600
    )


def test_import_docs_and_search(tmp_path):
    ws = tmp_path / "ws"
    pdf = facts_pdf(tmp_path / "handbook.pdf")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"")
    proc = kwdesk(ws, "import", str(pdf), str(bad), "--json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert [(r["status"], r["pages"]) for r in results] == [("imported", 3), ("rejected", 0)]
    assert set(results[0]) == {"path", "status", "reason", "pages", "chunks", "document_id", "version", "hidden_chars",
                               "page_unit"}
    assert results[1]["reason"].startswith("empty file")

    docs = json.loads(kwdesk(ws, "docs", "--json").stdout)
    assert {d["name"]: d["status"] for d in docs} == {"handbook.pdf": "imported", "bad.pdf": "rejected"}
    hits = json.loads(kwdesk(ws, "search", "KX-9 pressure", "--json").stdout)
    assert "17.5 bar" in hits[0]["text"]


def test_exit_codes(tmp_path):
    ws = tmp_path / "ws"
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"junk")
    assert kwdesk(ws, "import", str(bad)).returncode == 1  # nothing could be imported
    assert kwdesk(ws, "import").returncode == 2  # usage
    assert kwdesk(ws, "generate", "--strategy", "poems").returncode == 2
    assert kwdesk(ws, "--version").returncode == 0


def test_generate_then_export_the_dataset(tmp_path):
    ws = tmp_path / "ws"
    kwdesk(ws, "import", str(facts_pdf(tmp_path / "handbook.pdf")), "--chunk-tokens", "60")
    proc = kwdesk(ws, "generate", "--strategy", "qa", "--per-chunk", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["pairs_added"] >= 3 and result["reports"]["qa"]["usable"] == result["pairs_added"]
    assert result["tokens_per_second"] > 0
    pairs = json.loads(kwdesk(ws, "pairs", "--json").stdout)
    assert len(pairs) == result["pairs_added"]
    assert kwdesk(ws, "pairs", "accept", str(pairs[0]["id"])).returncode == 0
    out = tmp_path / "data.jsonl"
    proc = kwdesk(ws, "dataset", "export", str(out), "--format", "sharegpt", "--json")
    assert json.loads(proc.stdout)["records"] == len(pairs)
    first = json.loads(out.read_text().splitlines()[0])
    assert first["conversations"][0]["value"] == pairs[0]["question"]
    assert first["kwdesk"]["status"] == "accepted"
    # Run again: every chunk is done, so nothing new, and that is not an error.
    again = kwdesk(ws, "generate", "--strategy", "qa")
    assert again.returncode == 0 and "nothing new" in again.stdout


def test_user_mistakes_are_one_line_and_change_nothing(tmp_path):
    """A wrong model id, a missing file, a bad collection: one readable line, exit 1, no
    traceback, and nothing written first (eval used to generate held-out questions, then
    end in a traceback)."""
    ws = tmp_path / "ws"
    assert kwdesk(ws, "pairs", "add", "--question", "How high is the Larkspur Dam?",
                  "--answer", "The Larkspur Dam is 212 metres high.").returncode == 0
    for args, words in [
        (("eval", "999"), "no model 999"),
        (("chat", "--model", "999", "--once", "hello"), "no model 999"),
        (("chat", "--model", str(tmp_path / "missing.gguf"), "--once", "hello"), "missing.gguf"),
        (("export", "42"), "Run 42"),
    ]:
        proc = kwdesk(ws, *args)
        assert proc.returncode == 1, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kwdesk: ") and words in lines[0], (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    pairs = json.loads(kwdesk(ws, "pairs", "list", "--json").stdout)
    assert len(pairs) == 1  # no held-out wording was written before the wrong id was found


def test_pairs_edit_and_filters_match_the_review_table(tmp_path):
    """What the window's review table does, the CLI does with the same rules."""
    ws = tmp_path / "ws"
    pdf = facts_pdf(tmp_path / "handbook.pdf")
    assert kwdesk(ws, "collections", "create", "dams").returncode == 0
    assert kwdesk(ws, "import", str(pdf), "--collection", "dams").returncode == 0
    first = kwdesk(ws, "pairs", "add", "--question", "How high is the dam?", "--answer", "It is 212 metres high.")
    pair_id = int(first.stdout.strip())
    assert kwdesk(ws, "pairs", "add", "--question", "Who runs the plant?", "--answer", "The water board.").returncode == 0

    # An empty answer is refused with the table's reason; an unchanged edit saves nothing.
    refused = kwdesk(ws, "pairs", "edit", str(pair_id), "--answer", "   ")
    assert refused.returncode == 1 and "cannot be empty" in refused.stderr
    same = kwdesk(ws, "pairs", "edit", str(pair_id), "--answer", "It is 212 metres high. ")
    assert same.returncode == 0 and "unchanged" in same.stderr
    saved = kwdesk(ws, "pairs", "edit", str(pair_id), "--question", "  How high is the Larkspur Dam?  ")
    assert saved.returncode == 0 and "saved" in saved.stderr
    (pair,) = [p for p in json.loads(kwdesk(ws, "pairs", "--json").stdout) if p["id"] == pair_id]
    assert pair["question"] == "How high is the Larkspur Dam?" and pair["status"] == "edited"

    # Filters: words, status; document and collection (hand-written pairs belong to none).
    found = json.loads(kwdesk(ws, "pairs", "list", "--text", "Larkspur", "--json").stdout)
    assert [p["id"] for p in found] == [pair_id]
    assert [p["id"] for p in json.loads(kwdesk(ws, "pairs", "list", "--status", "edited", "--json").stdout)] == [pair_id]
    assert json.loads(kwdesk(ws, "pairs", "list", "--collection", "dams", "--json").stdout) == []
    assert json.loads(kwdesk(ws, "pairs", "list", "--document", "handbook.pdf", "--json").stdout) == []
    missing = kwdesk(ws, "pairs", "list", "--document", "nothing.pdf")
    assert missing.returncode == 1 and "no document 'nothing.pdf'" in missing.stderr

    # Documents by collection.
    assert [d["name"] for d in json.loads(kwdesk(ws, "docs", "--collection", "dams", "--json").stdout)] == ["handbook.pdf"]
    assert json.loads(kwdesk(ws, "docs", "--collection", "none", "--json").stdout) == []
