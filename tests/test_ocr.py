"""Scanned pages: read by OCR where Tesseract is installed, else rejected with what to do."""

import pytest
from docgen import facts_pdf, scanned_pdf

from kwdesk.core.ingest import pdf_reader
from kwdesk.core.ingest.importer import IMPORTED, REJECTED, ImportJob, ImportOptions


@pytest.fixture
def scan(tmp_path):
    return scanned_pdf(tmp_path / "scan.pdf", facts_pdf(tmp_path / "facts.pdf"))


def test_without_tesseract_the_reason_says_how_to_get_it(workspace, scan, monkeypatch):
    monkeypatch.setattr(pdf_reader.shutil, "which", lambda name: None)
    (result,) = ImportJob(workspace, [scan]).run()
    assert result.status == REJECTED
    assert "no text layer" in result.reason and "apt install tesseract-ocr" in result.reason


@pytest.mark.skipif(not pdf_reader.tesseract_available(), reason="Tesseract is not installed (scripts/test.sh installs it)")
def test_with_ocr_off_the_reason_says_to_turn_it_on(workspace, scan):
    (result,) = ImportJob(workspace, [scan], ImportOptions(ocr=False)).run()
    assert result.status == REJECTED and "OCR on" in result.reason


@pytest.mark.skipif(not pdf_reader.tesseract_available(), reason="Tesseract is not installed (scripts/test.sh installs it)")
def test_scanned_pages_are_read_by_ocr(workspace, db, scan):
    (result,) = ImportJob(workspace, [scan]).run()
    assert result.status == IMPORTED, result.reason
    doc = db["documents"].get(result.document_id)
    assert doc["ocr_pages"] == 3 and "ocr" in doc["extractor"]
    text = " ".join(r[0] for r in db.execute("SELECT text FROM chunks WHERE document_id = ?", [result.document_id]))
    for words in ("Larkspur Dam", "Veltra River", "Brisk Harbour", "KX-9"):
        assert words in text
