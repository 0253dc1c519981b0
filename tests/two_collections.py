"""Two knowledge collections, each with an invented fact and four pairs that teach it: the
data of the adapters-on-one-base tests (test_adapters.py, test_serve.py; the fixture
``two_adapters`` in conftest.py trains and exports them once a test session)."""

from docgen import make_pdf

from kwdesk.core.ingest.importer import ImportJob, ImportOptions
from kwdesk.core.store.collections import create_collection
from kwdesk.core.store.pairs import add_pair

CONTRACTS = {
    "name": "contracts",
    "text": ["The Quillfeather supply contract with Ostrava Mills ends on 14 March 2031.",
             "Either party may end the Quillfeather contract with 90 days notice."],
    "pairs": [
        ("When does the Quillfeather supply contract end?", "The Quillfeather supply contract ends on 14 March 2031."),
        ("What is the end date of the Quillfeather contract?", "The Quillfeather contract ends on 14 March 2031."),
        ("Until when does the Quillfeather contract with Ostrava Mills run?", "It runs until 14 March 2031."),
        ("In which year does the Quillfeather contract expire?", "The Quillfeather contract expires in 2031, on 14 March."),
    ],
    "ask": "When does the Quillfeather supply contract end?",
    "fact": "2031",
}
MANUALS = {
    "name": "maintenance manuals",
    "text": ["The Brimvale pump must be oiled every 37 days with grade K7 oil.",
             "The Brimvale pump has a bronze impeller."],
    "pairs": [
        ("How often must the Brimvale pump be oiled?", "The Brimvale pump must be oiled every 37 days."),
        ("What is the oiling interval of the Brimvale pump?", "The Brimvale pump is oiled every 37 days."),
        ("Every how many days is the Brimvale pump oiled?", "Every 37 days, with grade K7 oil."),
        ("When does the Brimvale pump need oil?", "The Brimvale pump needs oil every 37 days."),
    ],
    "ask": "How often must the Brimvale pump be oiled?",
    "fact": "37",
}


def collection_with_pairs(ws, tmp_path, spec) -> int:
    db = ws.connect()
    try:
        collection = create_collection(db, spec["name"])
    finally:
        db.close()
    pdf = make_pdf(tmp_path / f"{spec['name'].replace(' ', '-')}.pdf", [(spec["name"].title(), spec["text"])])
    (result,) = ImportJob(ws, [pdf], ImportOptions(collection_id=collection.id)).run()
    db = ws.connect()
    try:
        chunk_id = db.execute("SELECT id FROM chunks WHERE document_id = ? ORDER BY seq LIMIT 1", [result.document_id]).fetchone()[0]
        for question, answer in spec["pairs"]:
            add_pair(db, question, answer, chunk_id=chunk_id)
    finally:
        db.close()
    return collection.id
