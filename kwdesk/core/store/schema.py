"""The workspace database schema, as a list of migrations.

``PRAGMA user_version`` holds the number of migrations applied. A migration is never
edited once released: a change to the schema is a new migration appended to MIGRATIONS.
"""

from __future__ import annotations

MIGRATION_1 = """
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    -- The file as the user gave it; versions of one file share source_path.
    source_path TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    file_type TEXT NOT NULL,                 -- pdf, txt, md
    status TEXT NOT NULL CHECK (status IN ('imported', 'rejected')),
    reason TEXT,                             -- why a file was rejected, for people
    title TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    -- The newest version of a file is current; older versions keep their chunks and pairs.
    is_current INTEGER NOT NULL DEFAULT 1,
    previous_version_id INTEGER REFERENCES documents(id),
    ocr_pages INTEGER NOT NULL DEFAULT 0,
    extractor TEXT,                          -- which reader produced the text
    imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX documents_sha256 ON documents(sha256);
CREATE INDEX documents_source_path ON documents(source_path);

CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,                 -- 1-based, as a reader would cite it
    text TEXT NOT NULL,
    ocr INTEGER NOT NULL DEFAULT 0,
    UNIQUE (document_id, number)
);

CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,                    -- order within the document
    text TEXT NOT NULL,
    heading_path TEXT NOT NULL DEFAULT '',   -- "Chapter > Section", for provenance
    page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    text_sha256 TEXT NOT NULL,               -- finds unchanged chunks across versions
    UNIQUE (document_id, seq)
);
CREATE INDEX chunks_text_sha256 ON chunks(text_sha256);

CREATE TABLE pairs (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL DEFAULT '',       -- empty for training texts (rephrasings)
    answer TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'qa',         -- fact, why, number, definition, entity, relation, rephrase, paraphrase, manual...
    strategy TEXT NOT NULL DEFAULT 'manual', -- which generator made it
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'accepted', 'edited', 'rejected')),
    split TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'eval')),
    document_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,
    chunk_id INTEGER REFERENCES chunks(id) ON DELETE SET NULL,
    source_span TEXT,                        -- the source text the pair is anchored to
    parent_pair_id INTEGER REFERENCES pairs(id) ON DELETE SET NULL,
    made_by TEXT NOT NULL DEFAULT 'user',    -- teacher model id, or 'user'
    prompt_version TEXT,
    meta TEXT NOT NULL DEFAULT '{}',         -- JSON
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX pairs_status ON pairs(status);
CREATE INDEX pairs_document ON pairs(document_id);
CREATE INDEX pairs_chunk ON pairs(chunk_id);
CREATE INDEX pairs_strategy ON pairs(strategy);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                      -- generate, train, export, eval
    status TEXT NOT NULL DEFAULT 'created',  -- created, running, cancelled, failed, done
    config TEXT NOT NULL DEFAULT '{}',       -- JSON
    dataset_sha256 TEXT,
    metrics TEXT NOT NULL DEFAULT '{}',      -- JSON
    path TEXT,                               -- folder under the workspace
    error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT
);

CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                      -- base, adapter, merged, gguf
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    parent_model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
    quantization TEXT,
    size_bytes INTEGER,
    verified INTEGER,                        -- NULL: not checked, 0: failed, 1: passed
    meta TEXT NOT NULL DEFAULT '{}',         -- JSON: lineage, verification figures
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Full-text search. External-content tables keep one copy of the text; triggers keep
-- the index in step within the same transaction as the change.
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, heading_path, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text, heading_path) VALUES (new.id, new.text, new.heading_path);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text, heading_path) VALUES ('delete', old.id, old.text, old.heading_path);
END;
CREATE TRIGGER chunks_au AFTER UPDATE OF text, heading_path ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text, heading_path) VALUES ('delete', old.id, old.text, old.heading_path);
    INSERT INTO chunks_fts(rowid, text, heading_path) VALUES (new.id, new.text, new.heading_path);
END;

CREATE VIRTUAL TABLE pairs_fts USING fts5(
    question, answer, content='pairs', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER pairs_ai AFTER INSERT ON pairs BEGIN
    INSERT INTO pairs_fts(rowid, question, answer) VALUES (new.id, new.question, new.answer);
END;
CREATE TRIGGER pairs_ad AFTER DELETE ON pairs BEGIN
    INSERT INTO pairs_fts(pairs_fts, rowid, question, answer) VALUES ('delete', old.id, old.question, old.answer);
END;
CREATE TRIGGER pairs_au AFTER UPDATE OF question, answer ON pairs BEGIN
    INSERT INTO pairs_fts(pairs_fts, rowid, question, answer) VALUES ('delete', old.id, old.question, old.answer);
    INSERT INTO pairs_fts(rowid, question, answer) VALUES (new.id, new.question, new.answer);
END;
"""

MIGRATION_2 = """
-- What generation has done, one row per strategy and item (a chunk, a document, a pair),
-- written in the same transaction as the pairs it made: a resumed job skips these items
-- and never makes the same pairs twice.
CREATE TABLE generation_items (
    strategy TEXT NOT NULL,
    item TEXT NOT NULL,                      -- chunk:ID, document:ID or pair:ID
    teacher TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    attempts INTEGER NOT NULL,
    usable INTEGER NOT NULL,
    rejected TEXT NOT NULL DEFAULT '{}',     -- JSON: reason -> count
    done_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (strategy, item, teacher, prompt_version)
);
"""

MIGRATION_3 = """
-- Chats with a model, kept so that a conversation can be read and continued later.
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,                     -- what was chatted with: a model id or a file
    title TEXT NOT NULL DEFAULT '',
    system_prompt TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',      -- JSON: passages cited, with document and pages
    stopped TEXT,                            -- why the answer ended: stop, length, cancelled
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX messages_conversation ON messages(conversation_id);
"""

MIGRATION_4 = """
-- Evaluations of a model: what it answered to held-out questions and general probes, with
-- and without retrieved passages, and the verdict of the grader for each.
CREATE TABLE evals (
    id INTEGER PRIMARY KEY,
    model_id INTEGER REFERENCES models(id) ON DELETE CASCADE,
    model_name TEXT NOT NULL,
    base_name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',      -- JSON: scores per configuration, forgetting
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE eval_items (
    id INTEGER PRIMARY KEY,
    eval_id INTEGER NOT NULL REFERENCES evals(id) ON DELETE CASCADE,
    item_set TEXT NOT NULL CHECK (item_set IN ('heldout', 'probe', 'replay')),
    config TEXT NOT NULL,                    -- base, base+rag, personal, personal+rag
    pair_id INTEGER REFERENCES pairs(id) ON DELETE SET NULL,   -- the held-out pair
    fact_pair_id INTEGER REFERENCES pairs(id) ON DELETE SET NULL, -- the trained pair it asks about
    question TEXT NOT NULL,
    reference TEXT NOT NULL,
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL,
    found TEXT NOT NULL DEFAULT '[]',
    missing TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX eval_items_eval ON eval_items(eval_id);
CREATE INDEX eval_items_fact ON eval_items(fact_pair_id);
"""

MIGRATION_5 = """
-- Knowledge collections ("contracts", "maintenance manuals"): each holds documents, and
-- through them pairs, training runs and adapters. A document in no collection belongs to
-- the workspace as a whole.
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
ALTER TABLE documents ADD COLUMN collection_id INTEGER REFERENCES collections(id) ON DELETE SET NULL;
CREATE INDEX documents_collection ON documents(collection_id);

-- The expert's word on two pairs flagged as contradicting each other, when both stay
-- (for example: they are about different things after all). A pair rejected settles a
-- conflict by itself and needs no row here. pair_a < pair_b.
CREATE TABLE conflict_decisions (
    pair_a INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    pair_b INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    decision TEXT NOT NULL CHECK (decision IN ('both')),
    decided_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (pair_a, pair_b)
);
"""

MIGRATION_6 = """
-- Text a reader of the file cannot see (white on white, near-zero size, outside the page,
-- hidden styles): left out of the passages and counted, with a few samples (JSON list).
ALTER TABLE documents ADD COLUMN hidden_chars INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN hidden_samples TEXT NOT NULL DEFAULT '[]';
-- What a document's "pages" are: printed pages, or sections (Word, web pages, e-books).
ALTER TABLE documents ADD COLUMN page_unit TEXT NOT NULL DEFAULT 'page';
"""

MIGRATION_7 = """
-- Sentences of a passage addressed to a language model ("ignore previous instructions"),
-- or links to act on: found at import, kept out of generated data until the expert
-- decides (decision 'keep': it is ordinary text after all; 'out': it stays out).
CREATE TABLE flagged_text (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    chunk_id INTEGER REFERENCES chunks(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    decision TEXT CHECK (decision IN ('keep', 'out')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX flagged_text_chunk ON flagged_text(chunk_id);
"""

MIGRATION_8 = """
-- The expert's own name for the personal model a training run made ("Contracts 2026");
-- NULL: named from its collection or documents and its version (store/personal.py).
ALTER TABLE runs ADD COLUMN title TEXT;
"""

MIGRATIONS: list[str] = [MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4, MIGRATION_5, MIGRATION_6, MIGRATION_7,
                         MIGRATION_8]

SCHEMA_VERSION = len(MIGRATIONS)
