import re
import shutil
import struct
import zlib

import pytest
from docgen import INVENTED_FACTS, facts_pdf, make_pdf

from kwdesk.core.base.jobs import Cancelled
from kwdesk.core.ingest.importer import (
    DUPLICATE,
    IMPORTED,
    REJECTED,
    SKIPPED,
    ImportJob,
    ImportOptions,
)
from kwdesk.core.store.documents import list_documents, page_text, search_chunks
from kwdesk.core.store.workspace import write_transaction


def run_import(workspace, *paths, **options):
    return ImportJob(workspace, paths, ImportOptions(**options)).run()


def test_generated_pdf_imports_with_known_text_pages_and_headings(workspace, db, tmp_path):
    pdf = facts_pdf(tmp_path / "handbook.pdf")
    (result,) = run_import(workspace, pdf, chunk_tokens=40)
    assert result.status == IMPORTED, result.reason
    assert result.pages == 3
    doc = db["documents"].get(result.document_id)
    assert doc["title"] == "Orvane Valley Handbook"
    assert doc["chunks"] == result.chunks == db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    chunks = list(db.query("SELECT * FROM chunks ORDER BY seq"))
    # Every invented fact is in exactly one chunk, tied to the page it is printed on.
    expected_pages = {0: 1, 1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 3}
    for index, fact in enumerate(INVENTED_FACTS):
        owners = [c for c in chunks if fact in c["text"]]
        assert len(owners) == 1, fact
        assert owners[0]["page_start"] <= expected_pages[index] <= owners[0]["page_end"]
    kx9 = next(c for c in chunks if "KX-9" in c["text"])
    assert kx9["heading_path"] == "Maintenance of the KX-9 valve"
    assert "Lake Orvane freezes" in page_text(db, result.document_id, 1)
    assert "Brisk Harbour" in page_text(db, result.document_id, 2)


def test_chunk_size_is_configurable(workspace, db, tmp_path):
    pdf = make_pdf(tmp_path / "long.pdf", [("Notes", [" ".join(INVENTED_FACTS)] * 3)])
    (small,) = run_import(workspace, pdf, chunk_tokens=40)
    rows = db.execute("SELECT max(tokens), count(*) FROM chunks WHERE document_id = ?", [small.document_id]).fetchone()
    assert rows[0] <= 40 and rows[1] >= 6


def test_full_text_search_finds_chunks_with_their_pages(workspace, db, tmp_path):
    run_import(workspace, facts_pdf(tmp_path / "h.pdf"), chunk_tokens=40)
    (hit,) = search_chunks(db, "Who founded the Orvane Institute?", limit=1)
    assert "Ilse Tamberg" in hit["text"]
    assert hit["document"] == "h.pdf" and hit["page_start"] == 3
    # User text is taken as words, never as query syntax that could break the search.
    assert any("Brisk Harbour" in h["text"] for h in search_chunks(db, 'NEAR( "Brisk* AND -mackerel'))
    assert search_chunks(db, '"(*):') == []


def test_text_and_markdown_files(workspace, db, tmp_path):
    tmp_path = tmp_path / "texts"
    tmp_path.mkdir()
    (tmp_path / "notes.txt").write_text("First paragraph here.\nIt wraps.\n\nSecond one.\n", encoding="utf-8")
    (tmp_path / "guide.md").write_text(
        "# Pump guide\n\nIntro text.\n\n## Oiling\n\n- use **SAE 30** oil\n- every 200 hours\n\n---\n\nDone.\n",
        encoding="utf-8",
    )
    (tmp_path / "old.txt").write_bytes("Caf\xe9 cr\xe8me.".encode("cp1252"))
    results = {r.path.rsplit("/", 1)[-1]: r for r in run_import(workspace, tmp_path)}
    assert {r.status for r in results.values()} == {IMPORTED}
    md_chunks = [r[0] for r in db.execute("SELECT heading_path FROM chunks WHERE document_id = ?", [results["guide.md"].document_id])]
    texts = "\n".join(r[0] for r in db.execute("SELECT text FROM chunks"))
    assert "- use SAE 30 oil\n- every 200 hours" in texts
    assert "First paragraph here. It wraps." in texts
    assert "Café crème." in texts
    assert md_chunks[0] == "Pump guide"
    assert db["documents"].get(results["guide.md"].document_id)["title"] == "Pump guide"


def test_same_content_again_is_a_no_op(workspace, db, tmp_path):
    pdf = facts_pdf(tmp_path / "a.pdf")
    (first,) = run_import(workspace, pdf)
    shutil.copy(pdf, tmp_path / "copy-of-a.pdf")
    second = run_import(workspace, pdf, tmp_path / "copy-of-a.pdf")
    assert [r.status for r in second] == [DUPLICATE, DUPLICATE]
    assert all(r.document_id == first.document_id for r in second)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == first.chunks


def test_changed_file_becomes_a_new_version_and_old_pairs_stay(workspace, db, tmp_path):
    path = tmp_path / "manual.pdf"
    make_pdf(path, [("Valves", ["Valve KX-9 must be inspected every 450 operating hours."])])
    (v1,) = run_import(workspace, path)
    chunk_id = db.execute("SELECT id FROM chunks WHERE document_id = ?", [v1.document_id]).fetchone()[0]
    with write_transaction(db):
        db["pairs"].insert(
            {"question": "How often is KX-9 inspected?", "answer": "Every 450 operating hours.", "chunk_id": chunk_id, "document_id": v1.document_id}
        )
    make_pdf(path, [("Valves", ["Valve KX-9 must be inspected every 300 operating hours."])])
    (v2,) = run_import(workspace, path)
    assert v2.status == IMPORTED and v2.version == 2 and v2.document_id != v1.document_id
    current = list_documents(db)
    assert [(d.id, d.version) for d in current] == [(v2.document_id, 2)]
    every = list_documents(db, include_old_versions=True)
    assert {(d.id, d.is_current) for d in every} == {(v1.document_id, False), (v2.document_id, True)}
    pair = db.execute("SELECT chunk_id, document_id FROM pairs").fetchone()
    assert pair == (chunk_id, v1.document_id)
    assert db["documents"].get(v2.document_id)["previous_version_id"] == v1.document_id
    # Search reads the current version only.
    (hit,) = search_chunks(db, "KX-9 inspected")
    assert "300" in hit["text"]


def _png_bytes() -> bytes:
    raw = b"\x00\xff\x00\x00"
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_broken_files_are_rejected_with_reasons_and_the_batch_goes_on(workspace, db, tmp_path):
    good = facts_pdf(tmp_path / "good.pdf")
    data = good.read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (tmp_path / "random.pdf").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(5000)))
    (tmp_path / "picture.pdf").write_bytes(_png_bytes())
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "header-only.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    results = {r.path.rsplit("/", 1)[-1]: r for r in run_import(workspace, tmp_path)}
    assert results["good.pdf"].status == IMPORTED
    reasons = {name: r.reason for name, r in results.items() if r.status == REJECTED}
    assert "empty file" in reasons["empty.pdf"]
    assert "not a PDF" in reasons["picture.pdf"] and "PNG" in reasons["picture.pdf"]
    assert "no PDF header" in reasons["random.pdf"]
    assert "damaged" in reasons["header-only.pdf"]
    # A truncated PDF is either repaired by MuPDF (and then must hold text) or rejected.
    truncated = results["truncated.pdf"]
    assert truncated.status in (IMPORTED, REJECTED)
    if truncated.status == IMPORTED:
        assert truncated.chunks > 0
    else:
        assert truncated.reason
    # No half documents: every imported document has all its pages and chunks.
    for doc in db.query("SELECT * FROM documents WHERE status = 'imported'"):
        assert db.execute("SELECT count(*) FROM pages WHERE document_id = ?", [doc["id"]]).fetchone()[0] == doc["pages"]
        assert db.execute("SELECT count(*) FROM chunks WHERE document_id = ?", [doc["id"]]).fetchone()[0] == doc["chunks"]
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_rejected_file_keeps_one_row_and_a_retry_replaces_it(workspace, db, tmp_path):
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"")
    run_import(workspace, bad)
    run_import(workspace, bad)
    assert db.execute("SELECT count(*) FROM documents WHERE status = 'rejected'").fetchone()[0] == 1
    facts_pdf(bad)
    (result,) = run_import(workspace, bad)
    assert result.status == IMPORTED
    assert db.execute("SELECT count(*) FROM documents WHERE status = 'rejected'").fetchone()[0] == 0


def test_folder_walk_skips_hidden_and_unsupported_files(workspace, tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    facts_pdf(folder / "sub" / "a.pdf")
    facts_pdf(folder / ".hidden" / "b.pdf")
    (folder / ".DS_Store").write_bytes(b"\0\0")
    (folder / "photo.png").write_bytes(_png_bytes())
    results = run_import(workspace, folder)
    by_name = {r.path.rsplit("/", 1)[-1]: r.status for r in results}
    assert by_name == {"a.pdf": IMPORTED, "photo.png": SKIPPED}


def test_cancel_stops_between_files_and_leaves_only_whole_documents(workspace, db, tmp_path):
    paths = [facts_pdf(tmp_path / f"{i}.pdf") for i in range(3)]
    for i, p in enumerate(paths):  # different content, so none is a duplicate
        make_pdf(p, [(f"Part {i}", [f"Paragraph {i} about valve {i}."])])
    job = ImportJob(workspace, paths)

    def progress(p):
        if p.done == 1:
            job.cancel()

    with pytest.raises(Cancelled):
        job.run(progress)
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1


def test_progress_reports_every_file(workspace, tmp_path):
    paths = [make_pdf(tmp_path / f"{i}.pdf", [("T", [f"Text {i}."])]) for i in range(3)]
    seen = []
    ImportJob(workspace, paths).run(seen.append)
    finished = [p for p in seen if p.result is not None]
    assert [p.done for p in finished] == [1, 2, 3]
    assert all(p.total == 3 for p in seen)


def test_running_headers_and_footers_stay_out_of_the_passages(workspace, tmp_path):
    """A three-page manual with a running header and a numbered footer on every page: the
    passages hold the manual's text and none of its page furniture; a one-page document
    keeps all its text."""
    from docgen import MANUAL_HEADER, MANUAL_PARAGRAPHS, manual_pdf

    from kwdesk.core.store.documents import search_chunks

    ImportJob(workspace, [manual_pdf(tmp_path / "manual.pdf")]).run()
    db = workspace.connect()
    passages = " ".join(row[0] for row in db.execute("SELECT text FROM chunks"))
    assert all(paragraph in passages for paragraph in MANUAL_PARAGRAPHS)
    assert "CONTROLLED COPY" not in passages and "BH-MOM" not in passages and "of 3" not in passages
    assert search_chunks(db, "CONTROLLED COPY") == [] and search_chunks(db, "BH-MOM") == []

    ImportJob(workspace, [manual_pdf(tmp_path / "one-page.pdf", pages=1)]).run()
    one_page = " ".join(row[0] for row in db.execute(
        "SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.name = 'one-page.pdf'"))
    assert MANUAL_HEADER.split(" | ")[0] in one_page and "BH-MOM Rev. 4 Page 1 of 1" in one_page
    db.close()


def test_the_formulary_of_the_learning_benchmark_reads_as_its_questions_expect(workspace, tmp_path):
    """The second domain of the learning benchmarks (bench_recipe --document formulary): every
    key fact of its held-out answers is in the imported passages, its page furniture is not."""
    from docgen import FORMULARY_HEADER, formulary_heldout, formulary_pdf

    from kwdesk.core.text.fact_match import grade_against_reference

    ImportJob(workspace, [formulary_pdf(tmp_path / "formulary.pdf", pages=3)]).run()
    db = workspace.connect()
    passages = [row[0] for row in db.execute("SELECT text FROM chunks")]
    db.close()
    whole = " ".join(passages)
    assert FORMULARY_HEADER.split(" | ")[1] not in whole and "page 2 of 3" not in whole
    heldout = formulary_heldout(3)
    assert len(heldout) == 36
    for question, reference in heldout:
        # The document answers each question in the medicine's own entry.
        name = re.search(r"\b(?!What|Which|Who|How)([A-Z][a-z]{4,})\b", question).group(1)
        entry = re.search(rf"{name} is prescribed.*?added {name} to the formulary", whole, re.DOTALL)
        assert entry and grade_against_reference(entry.group(0), reference, question).correct, question
