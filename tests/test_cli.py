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
    assert set(results[0]) == {"path", "status", "reason", "pages", "chunks", "document_id", "version"}
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
