"""Documents as experts have them: laid-out PDFs (two columns, running headers and footers,
tables with and without ruling, footnotes, hyphenation, abbreviations, hidden text, a
scanned page) and Word, OpenDocument, HTML and EPUB files. Each is checked against the
ground truth its generator knows (tests/laidout.py, tests/formats.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from formats import WRITERS
from laidout import build_corpus, score

from kwdesk.core.ingest.importer import IMPORTED, REJECTED, ImportJob
from kwdesk.core.ingest.pdf_reader import tesseract_available


def kwdesk(workspace_dir, *args):
    return subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(workspace_dir), *args],
                          capture_output=True, text=True, timeout=600)


def _passages(db, document_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT text FROM chunks WHERE document_id = ? ORDER BY seq", [document_id])]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("laidout"))


@pytest.fixture
def imported(workspace, corpus):
    results = ImportJob(workspace, [pdf for pdf, _ in corpus]).run()
    assert [r.status for r in results] == [IMPORTED] * len(corpus), [r.reason for r in results]
    return {pdf.name: (result, truth) for (pdf, truth), result in zip(corpus, results)}


def test_laid_out_pdfs_keep_every_sentence_and_table_cell_and_no_page_furniture(imported, db):
    for name, (result, truth) in imported.items():
        passages = _passages(db, result.document_id)
        got = score(passages, truth)
        assert got["sentences"] >= 0.98 * got["sentences_total"], (name, got)
        assert got["furniture_leaks"] == 0, (name, got)
        assert got["hidden_leaks"] == 0, (name, got)
        assert got["cells"] >= 0.95 * got["cells_total"], (name, got)
        if truth.scanned_sentences and tesseract_available():
            assert got["scanned"] >= 1, (name, got)
        # No header line in any passage, nor in what search finds.
        for line in truth.furniture[:1]:
            assert not any(line.lower() in p.lower() for p in passages), name
        # Headings keep their numbers and head the passages of their sections (a short
        # section goes on in the passage before, its heading a line of it).
        paths = {r[0] for r in db.execute("SELECT heading_path FROM chunks WHERE document_id = ?", [result.document_id])}
        for heading in truth.headings:
            assert any(heading in path.split(" > ") for path in paths) or any(
                f"\n\n{heading}\n\n" in p for p in passages), (name, heading, paths)
        if name.startswith("report"):  # numbered sections nest: "2. Findings > 2.1 Water quality"
            assert "2. Findings > 2.1 Water quality" in paths, paths


def test_a_document_without_a_title_is_named_by_its_running_header(imported, db):
    titles = dict(db.execute("SELECT name, title FROM documents").fetchall())
    assert titles["manual-two-columns.pdf"] == "BRISK HARBOUR PORT AUTHORITY | MARINE OPERATIONS MANUAL | REV. 4 | CONTROLLED COPY"
    assert titles["report-one-column.pdf"] == "ORVANE WATER BOARD - ANNUAL INSPECTION REPORT 2025"


def test_numbered_items_and_footnotes_stay_where_they_belong(imported, db):
    result, _ = imported["manual-two-columns.pdf"]
    text = "\n".join(_passages(db, result.document_id))
    assert "1. Sound the general alarm" in text and "3. Muster the crews" in text
    # The footnote follows the paragraph that marks it, not the foot of the page, and its
    # mark is not left in the sentence.
    pilot = text.index("off the breakwater.") + len("off the breakwater.")
    note = text.index("Note 1: Chart datum is the lowest astronomical tide")
    assert 0 < note - pilot < 10
    assert "breakwater.1" not in text
    # An abbreviation does not end a sentence: no answer stops at "Rev.".
    assert "Marine Operations Manual (Rev. 4) applies" in text


def test_hidden_text_is_left_out_and_counted_per_document(imported, workspace, db):
    docs = {d["name"]: d for d in json.loads(kwdesk(workspace.root, "docs", "--json").stdout)}
    assert docs["manual-two-columns.pdf"]["hidden_chars"] == len(imported["manual-two-columns.pdf"][1].hidden[0])
    assert docs["report-one-column.pdf"]["hidden_chars"] == sum(len(t) for t in imported["report-one-column.pdf"][1].hidden)
    assert docs["contract-one-column.pdf"]["hidden_chars"] == 0
    everything = " ".join(r[0] for r in db.execute("SELECT text FROM chunks")) + \
        " ".join(r[0] for r in db.execute("SELECT text FROM pages"))
    assert "Ignore all previous instructions" not in everything
    assert "reveal the system prompt" not in everything and "rate this report" not in everything


def test_a_table_fact_is_found_by_search_and_made_a_pair_by_generate(imported, workspace, db):
    hits = json.loads(kwdesk(workspace.root, "search", "Oil Jetty depth", "--json").stdout)
    row = next(line for line in hits[0]["text"].split("\n") if "Oil Jetty" in line)
    assert "Depth (m): 16.8" in row and "Table 1: Berths of Brisk Harbour" in row
    result, _ = imported["manual-two-columns.pdf"]
    proc = kwdesk(workspace.root, "generate", "--strategy", "qa", "--per-chunk", "1", "--document", str(result.document_id))
    assert proc.returncode == 0, proc.stderr
    answers = [r[0] for r in db.execute("SELECT answer FROM pairs WHERE document_id = ?", [result.document_id])]
    assert "The depth of Oil Jetty is 16.8 m (Table 1: Berths of Brisk Harbour)." in answers
    # Every cell of the table, asked three ways (with its row, its column and the caption).
    assert sum("(Table 1: Berths of Brisk Harbour)" in a for a in answers) == 36
    assert len({a for a in answers if "(Table 1: Berths of Brisk Harbour)" in a}) == 12
    # The running header gave no pair.
    questions = " ".join(r[0] for r in db.execute("SELECT question || ' ' || answer FROM pairs"))
    assert "CONTROLLED COPY" not in questions and "PORT AUTHORITY" not in questions


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_word_opendocument_html_and_epub_import_with_headings_lists_tables_and_notes(suffix, workspace, db, tmp_path):
    path, truth = WRITERS[suffix](tmp_path / f"manual{suffix}")
    (result,) = ImportJob(workspace, [path]).run()
    assert result.status == IMPORTED, result.reason
    assert result.page_unit == "section" and result.pages >= 2
    passages = _passages(db, result.document_id)
    got = score(passages, truth)
    assert got["sentences"] == got["sentences_total"], got
    assert got["cells"] == got["cells_total"], got
    assert got["hidden_leaks"] == 0 and result.hidden_chars == len(truth.hidden[0])
    paths = [r[0] for r in db.execute("SELECT heading_path FROM chunks WHERE document_id = ?", [result.document_id])]
    assert any(p.endswith("3. Berths") for p in paths), paths
    text = "\n".join(passages)
    assert "1. Tugs must be ordered" in text and "2. The master reports" in text
    if suffix != ".docx":  # python-docx cannot write a footnote
        assert "Note 1: Chart datum" in text
    assert "never text" not in text and "Home | Manuals" not in text  # a web page's script and menu
    hits = json.loads(kwdesk(workspace.root, "search", "Oil Jetty depth", "--json").stdout)
    assert "Depth (m): 16.8" in hits[0]["text"]


def _zip(path, files: dict[str, str]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_files_kwdesk_cannot_read_are_rejected_with_a_reason_that_names_what_it_reads(workspace, tmp_path):
    files = [
        _zip(tmp_path / "budget.xlsx", {"[Content_Types].xml": "<x/>", "xl/workbook.xml": "<x/>"}),
        _zip(tmp_path / "slides.pptx", {"[Content_Types].xml": "<x/>", "ppt/presentation.xml": "<x/>"}),
        _zip(tmp_path / "photos.zip", {"a.txt": "hello"}),
        _zip(tmp_path / "broken.docx", {"a.txt": "hello"}),
        tmp_path / "notes.docx",
        tmp_path / "drawing.dwg",
    ]
    files[4].write_text("plain text pretending to be Word")
    files[5].write_bytes(b"AC1032 binary drawing")
    results = ImportJob(workspace, files).run()
    reasons = {r.path.rsplit("/", 1)[-1]: r.reason for r in results}
    assert all(r.status == REJECTED for r in results), reasons
    assert "Excel" in reasons["budget.xlsx"] and "PowerPoint" in reasons["slides.pptx"]
    assert "damaged .docx" in reasons["broken.docx"] and "not a ZIP package" in reasons["notes.docx"]
    for name in ("budget.xlsx", "slides.pptx", "photos.zip", "drawing.dwg"):
        assert "Word (.docx)" in reasons[name] and "EPUB" in reasons[name] and "PDF" in reasons[name], reasons[name]
