"""Which facts of the documents the questions ask for, and how many ways each is asked.

A fact is a sentence of a passage that can stand alone as an answer (text/anchors.py), or a
cell of a table. A question asks for it when it was made from it (its source sentence) or
answers with it (paraphrases keep their answer). What the model can learn is what the
questions ask: a fact no question targets cannot be learned from the pairs, and one asked in
a single wording is learned as that wording. `kwdesk generate --report` prints this.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

from kwdesk.core.base.jobs import Job
from kwdesk.core.store.documents import chunk_pages, chunk_row, current_documents
from kwdesk.core.store.flagged import held_out_sentences
from kwdesk.core.store.pairs import questions_of_chunk
from kwdesk.core.text.anchors import anchors_for_text, own_heading, table_facts

WORDINGS_WANTED = 3  # distinct questions per fact before it counts as covered


@dataclass
class FactCoverage:
    document: str
    chunk_id: int
    page: int
    fact: str
    questions: list[str] = field(default_factory=list)
    pair_ids: list[int] = field(default_factory=list)  # of the questions, in the same order
    trusted: list[bool] = field(default_factory=list)  # built by rule or reviewed, in the same order

    @property
    def wordings(self) -> int:
        return len({q.strip().lower() for q in self.questions})

    def to_dict(self) -> dict:
        return {**asdict(self), "wordings": self.wordings}


@dataclass
class CoverageReport:
    facts: list[FactCoverage]
    wanted: int = WORDINGS_WANTED

    @property
    def not_asked(self) -> list[FactCoverage]:
        return [f for f in self.facts if not f.questions]

    @property
    def covered(self) -> list[FactCoverage]:
        return [f for f in self.facts if f.wordings >= self.wanted]

    def to_dict(self) -> dict:
        return {"facts": len(self.facts), "covered": len(self.covered), "not_asked": len(self.not_asked),
                "wanted": self.wanted, "items": [f.to_dict() for f in self.facts]}


def coverage(db, document_ids: list[int] | None = None, wanted: int = WORDINGS_WANTED,
             step: Callable[[int, int], None] | None = None) -> CoverageReport:
    """The facts of the current documents (or of DOCUMENT_IDS) with the questions that ask for
    each. A sentence a document says twice (manuals repeat their rules) is one fact: asked
    once, it is asked; its questions from either place count together. STEP(done, total) is
    called after each passage (a job reports progress and checks its cancel flag there)."""
    facts: list[FactCoverage] = []
    documents = [(d, n) for d, n in current_documents(db) if document_ids is None or d in document_ids]
    chunks = {d: chunk_pages(db, d) for d, _ in documents}
    total, done = sum(len(c) for c in chunks.values()), 0
    for document_id, name in documents:
        said: dict[str, FactCoverage] = {}

        def add(chunk_id: int, page: int, fact: str, asked: list[tuple]) -> None:
            key = " ".join(fact.lower().split())
            if key in said:
                known = said[key]
                for row in asked:
                    if row[0] not in known.pair_ids:
                        known.questions.append(row[1])
                        known.pair_ids.append(row[0])
                        known.trusted.append(row[4])
                return
            said[key] = _fact(name, chunk_id, page, fact, asked)
            facts.append(said[key])

        for chunk_id, page, _ in chunks[document_id]:
            chunk = chunk_row(db, chunk_id)
            text = chunk["text"]
            for sentence in held_out_sentences(db, chunk_id):
                text = text.replace(sentence, "")
            heading = own_heading(chunk["heading_path"])
            questions = questions_of_chunk(db, chunk_id)
            for anchor in anchors_for_text(text, heading):
                asked = [row for row in questions if row[3] == anchor.original or row[2] == anchor.text]
                add(chunk_id, page, anchor.text, asked)
            for cell in table_facts(text):
                asked = [row for row in questions if row[2] == cell.answer]
                add(chunk_id, page, cell.answer, asked)
            done += 1
            if step is not None:
                step(done, total)
    return CoverageReport(facts, wanted)


class CoverageJob(Job[CoverageReport]):
    """coverage() as a job, with its own connection: the app counts in a worker thread (a
    200-page manual has thousands of sentences to read), with progress and cancel."""

    def __init__(self, workspace, document_ids: list[int] | None = None, wanted: int = WORDINGS_WANTED) -> None:
        super().__init__()
        self.workspace, self.document_ids, self.wanted = workspace, document_ids, wanted

    def _run(self) -> CoverageReport:
        db = self.workspace.connect()
        try:
            def step(done: int, total: int) -> None:
                self.check_cancelled()
                self.report(done, total, f"Reading passage {done} of {total}")

            return coverage(db, self.document_ids, self.wanted, step)
        finally:
            db.close()


def _fact(document: str, chunk_id: int, page: int, fact: str, asked: list[tuple]) -> FactCoverage:
    return FactCoverage(document, chunk_id, page, fact, [row[1] for row in asked], [row[0] for row in asked],
                        [row[4] for row in asked])


def questions_to_reword(report: CoverageReport, per_fact: int) -> list[int]:
    """The questions whose new wordings would bring a fact closer to WANTED: up to PER_FACT
    of each fact that has some question but fewer wordings than wanted (a fact with none
    needs a question first, not a paraphrase). Only questions built by rule or reviewed by
    the expert: a paraphrase repeats its original's mistakes, and half of the small
    teacher's own questions have one (BENCHMARKS.md, "Training data an expert can trust")."""
    chosen: list[int] = []
    for fact in report.facts:
        if 0 < fact.wordings < report.wanted:
            chosen += [i for i, trusted in zip(fact.pair_ids, fact.trusted) if trusted][:per_fact]
    return list(dict.fromkeys(chosen))
