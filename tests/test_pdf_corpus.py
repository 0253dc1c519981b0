"""Every PDF of the shared corpus (../shared/pdf-corpus) imports with the right verdict."""

import json

from kwdesk.core.ingest.importer import IMPORTED, REJECTED, ImportJob
from kwdesk.core.ingest.pdf_reader import tesseract_available

# Files whose pages are images only (scans): no text layer.
SCANNED = {
    "007-imagemagick-images/imagemagick-ASCII85Decode.pdf",
    "007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf",
    "007-imagemagick-images/imagemagick-images.pdf",
    "007-imagemagick-images/imagemagick-lzw.pdf",
    "019-grayscale-image/grayscale-image.pdf",
    "023-cmyk-image/cmyk-image.pdf",
}
# Its /Pages object is missing: MuPDF sees no pages, pdfminer.six reads the first one.
DAMAGED_PAGE_TREE = "017-unreadable-meta-data/unreadablemetadata.pdf"


def test_every_corpus_pdf_gets_the_right_verdict(workspace, db, pdf_corpus):
    described = json.loads((pdf_corpus / "files.json").read_text())["data"]
    present = [entry for entry in described if (pdf_corpus / entry["path"]).is_file()]
    assert len(present) >= 30
    results = ImportJob(workspace, [pdf_corpus / e["path"] for e in present]).run()
    assert len(results) == len(present)
    for entry, result in zip(present, results):
        name = entry["path"]
        assert result.path.endswith(name)
        if entry["encrypted"]:
            assert result.status == REJECTED and "password" in result.reason, name
        elif name in SCANNED:
            if tesseract_available():
                assert result.status == IMPORTED or "OCR found no readable text" in result.reason, name
            else:
                assert result.status == REJECTED, name
                assert "no text layer" in result.reason and "tesseract" in result.reason.lower(), name
        elif name == DAMAGED_PAGE_TREE:
            assert result.status == IMPORTED and "page tree" in result.reason, name
            assert result.chunks > 0
            text = "\n".join(r[0] for r in db.execute("SELECT text FROM chunks WHERE document_id = ?", [result.document_id]))
            assert "Potentiometer" in text
        else:
            assert result.status == IMPORTED, (name, result.reason)
            assert result.pages == entry["pages"], name
            assert result.chunks >= 1, name
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_outline_and_font_sizes_give_headings(workspace, db, pdf_corpus):
    (result,) = ImportJob(workspace, [pdf_corpus / "009-pdflatex-geotopo/GeoTopo-komprimiert.pdf"]).run()
    assert result.status == IMPORTED and result.pages == 117
    paths = {r[0] for r in db.execute("SELECT heading_path FROM chunks WHERE document_id = ?", [result.document_id])}
    # Chapters from the book's outline head the chunks of their sections.
    assert any("Topologische Grundbegriffe" in p for p in paths)
    assert any(" > " in p for p in paths)


def test_a_books_running_heads_stay_out_of_its_passages(workspace, db, pdf_corpus):
    # GeoTopo's pages are headed "<page> <section number>. <SECTION TITLE>", a title that
    # changes every few pages: no passage carries one.
    (result,) = ImportJob(workspace, [pdf_corpus / "009-pdflatex-geotopo/GeoTopo-komprimiert.pdf"]).run()
    text = "\n".join(r[0] for r in db.execute("SELECT text FROM chunks WHERE document_id = ?", [result.document_id]))
    for head in ("SIMPLIZIALKOMPLEX", "ÜBERLAGERUNGEN", "HYPERBOLISCHE GEOMETRIE", "WEGE UND KNOTEN"):
        assert head not in text, head
    # The sections themselves are still there, under their headings.
    assert "Simplizialkomplex" in text or "simplizial" in text.lower()
    # A mathematics book's diagrams and formulas are not taken for tables.
    assert "|---|" not in "\n".join(r[0] for r in db.execute("SELECT text FROM pages WHERE document_id = ?",
                                                             [result.document_id]))


def test_a_google_docs_table_is_read_with_its_row_and_column_names(workspace, db, pdf_corpus):
    import json
    import subprocess
    import sys

    (result,) = ImportJob(workspace, [pdf_corpus / "011-google-doc-document/google-doc-document.pdf"]).run()
    assert result.status == IMPORTED
    proc = subprocess.run([sys.executable, "-m", "kwdesk", "--workspace", str(workspace.root), "search",
                           "capital France", "--json"], capture_output=True, text=True, timeout=120)
    row = next(line for line in json.loads(proc.stdout)[0]["text"].split("\n") if line.startswith("Capital"))
    assert "France: Paris" in row and "Germany 🇩🇪: Berlin" in row
