"""The generation job: training data from the workspace's chunks, made by a teacher.

Strategies (each recorded on the pairs it makes):
- qa: questions anchored to single sentences of a chunk; the sentence, made to stand
  alone, is the answer. Several kinds of question, chosen by what the sentence holds
  (numbers, dates, people, definitions, reasons, facts).
- entities: after EntiGraph. The names of a document, questions about each name answered by
  the sentences that mention it, and how two names relate where a sentence joins them.
- rephrase: each passage rewritten in other styles (summary, lecture notes, dialogue, a
  list of facts), stored as training text, not as Q&A; sentences the passage does not
  support are dropped.
- paraphrase: accepted questions asked again in other words, so that a fact is asked
  several ways.

Every teacher output is checked (pair_quality), and every rejection is counted with its
reason, so that a teacher that makes nothing usable shows up as "0 usable of 40 attempts
on chunk 12: ..." instead of an empty dataset. Progress is saved per item, in the same
transaction as its pairs, so a cancelled or killed job resumes without duplicates.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from kwdesk.core.base.jobs import Job
from kwdesk.core.data.checks import (
    DocumentSentences,
    DuplicateFilter,
    copied_fraction,
    normalized,
    paraphrase_problem,
    parse_json_field,
    question_problem,
    strip_label,
    supported_sentences,
)
from kwdesk.core.data.coverage import coverage, questions_to_reword
from kwdesk.core.data.prompts import (
    PARAPHRASE_OPENERS,
    PROMPT_VERSION,
    QUESTION_SCHEMA,
    REPHRASE_STYLES,
    entity_question_messages,
    paraphrase_messages,
    paraphrase_schema,
    question_messages,
    rephrase_messages,
)
from kwdesk.core.data.teacher import Teacher, TeacherChoice
from kwdesk.core.store.documents import chunk_pages, chunk_row, current_documents
from kwdesk.core.store.flagged import held_out_sentences
from kwdesk.core.store.generation import items_done, store_item
from kwdesk.core.store.pairs import (
    RULES,
    pair_core,
    questions_of_document,
    questions_without_held_out_wording,
    rephrasings_of,
    reviewed_questions,
)
from kwdesk.core.store.runs import count_runs, create_run, set_run_status
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.text.anchors import (
    Anchor,
    anchors_for_text,
    names_used_inside,
    only_places_a_thing,
    own_heading,
    subject_of,
    table_facts,
)
from kwdesk.core.text.fact_questions import fact_questions

log = logging.getLogger(__name__)

STRATEGIES = ("qa", "entities", "rephrase", "paraphrase")
# Not training data: new wordings of trained questions, kept out of training (split 'eval'),
# so that evaluation asks for a trained fact in words the model never saw.
HELD_OUT = "heldout"
MAX_TABLE_FACTS = 60  # cells asked about per passage
# Rule wordings of a sentence beside which a small teacher asks nothing of it (_make_qa).
SMALL_TEACHER_BESIDE_RULES = 2
# Kinds of sentence that make the most useful questions come first when a chunk has more
# sentences than questions asked of it.
_KIND_ORDER = {"number": 0, "date": 0, "who": 1, "definition": 1, "why": 2, "fact": 3}


@dataclass
class GenerateOptions:
    strategies: tuple[str, ...] = STRATEGIES
    per_chunk: int = 4  # questions per chunk (qa)
    entities_per_document: int = 20
    relations_per_document: int = 20
    paraphrases_per_question: int = 2
    # Top-up: questions of each fact with fewer than WORDINGS_WANTED wordings that are
    # paraphrased (each paraphrases_per_question times); 0 paraphrases reviewed ones only.
    reword_per_fact: int = 2
    document_ids: list[int] | None = None  # default: every current document
    chunk_ids: list[int] | None = None  # only these passages (for qa and rephrase): more data where facts did not stick
    pair_ids: list[int] | None = None  # only these pairs (for paraphrase), whatever their status
    again: bool = False  # make data for items already done
    seed: int = 0


@dataclass
class StrategyReport:
    attempts: int = 0
    usable: int = 0
    rejected: Counter = field(default_factory=Counter)
    by_rule: int = 0  # of the usable: built by kwdesk from the sentence's shape, no teacher call

    def to_dict(self) -> dict:
        return {"attempts": self.attempts, "usable": self.usable, "rejected": dict(self.rejected), "by_rule": self.by_rule}

    def summary(self, top: int | None = None) -> str:
        """ "40 usable of 52 attempts (28 built by rule; dropped: 9 near duplicate, ...)" """
        notes = [f"{self.by_rule} built by rule"] if self.by_rule else []
        reasons = ", ".join(f"{n} {reason}" for reason, n in self.rejected.most_common(top))
        if reasons:
            notes.append(f"dropped: {reasons}")
        return f"{self.usable} usable of {self.attempts} attempts" + (f"  ({'; '.join(notes)})" if notes else "")


@dataclass
class GenerateResult:
    run_id: int
    pairs_added: int
    reports: dict[str, StrategyReport]
    warnings: list[str]
    completion_tokens: int
    seconds: float
    teacher: str = ""  # the teacher's name

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "pairs_added": self.pairs_added,
            "reports": {k: v.to_dict() for k, v in self.reports.items()},
            "warnings": self.warnings,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 2),
            "tokens_per_second": round(self.tokens_per_second, 1),
            "teacher": self.teacher,
        }


@dataclass
class _Item:
    strategy: str
    key: str  # chunk:ID, document:ID, pair:ID
    label: str  # for people: "chunk 12 (manual.pdf p. 3)"


@dataclass
class _Outcome:
    """What one item gave: pairs to store and the count of what was thrown away."""

    pairs: list[dict] = field(default_factory=list)
    attempts: int = 0
    rejected: Counter = field(default_factory=Counter)
    rule_attempts: int = 0  # of the attempts: questions built by rule, no teacher call


class GenerateJob(Job):
    def __init__(self, workspace: Workspace, teacher: Teacher | TeacherChoice | str | None = None,
                 options: GenerateOptions | None = None):
        """TEACHER: an open Teacher (the caller closes it), or one to open here and close after."""
        super().__init__()
        self.workspace = workspace
        self.teacher_spec = teacher
        self.options = options or GenerateOptions()
        unknown = set(self.options.strategies) - set(STRATEGIES) - {HELD_OUT}
        if unknown:
            raise ValueError(f"unknown strategies: {', '.join(sorted(unknown))} (known: {', '.join(STRATEGIES)})")
        self._tokens = 0
        self._tokens_lock = threading.Lock()
        self._sentences: dict[int, DocumentSentences] = {}  # by document, read once (workers may race: harmless)

    # --- the run -----------------------------------------------------------------------

    def _run(self) -> GenerateResult:
        started = time.monotonic()
        owns_teacher = not hasattr(self.teacher_spec, "chat")
        self.report(0, None, "Loading the teacher model…")
        teacher = TeacherChoice.of(self.teacher_spec).open() if owns_teacher else self.teacher_spec
        self.teacher = teacher
        db = self.workspace.connect()
        try:
            run_id = self._start_run(db)
            reports = {s: StrategyReport() for s in self.options.strategies}
            warnings: list[str] = []
            added = 0
            status = "failed"
            # Paraphrases come last and are chosen when their turn comes: they reword the
            # questions that this very run made, where a fact has fewer wordings than wanted.
            phases = [[s for s in self.options.strategies if s != "paraphrase"],
                      [s for s in self.options.strategies if s == "paraphrase"]]
            items: list[_Item] = []
            try:
                for phase in phases:
                    first = len(items)
                    items += self._items(db, phase)
                    added = self._run_items(db, items, first, run_id, reports, warnings, added, started)
                status = "done"
            except BaseException as exc:
                from kwdesk.core.base.jobs import Cancelled

                status = "cancelled" if isinstance(exc, Cancelled) else "failed"
                raise
            finally:
                result = GenerateResult(run_id, added, reports, warnings, self._tokens, time.monotonic() - started,
                                        self.teacher.name)
                self._finish_run(db, run_id, status, result)
            return result
        finally:
            db.close()
            if owns_teacher:
                teacher.close()

    def _run_items(self, db, items: list[_Item], first: int, run_id: int, reports: dict, warnings: list[str],
                   added: int, started: float) -> int:
        """Make and store ITEMS[FIRST:]; returns the pairs added so far. A teacher that
        serves several requests at once (a server's slots) gets that many items at a time,
        each made in its own thread with its own connection; storing stays on this one."""
        workers = min(getattr(self.teacher, "parallel", 1), len(items) - first)
        if workers <= 1:
            for index in range(first, len(items)):
                self.check_cancelled()
                self.report(index, len(items), f"{items[index].strategy}: {items[index].label}", pairs=added,
                            filtered=sum(sum(r.rejected.values()) for r in reports.values()))
                outcome = self._make(db, items[index])
                added += self._take(db, items[index], index + 1, len(items), outcome, run_id, reports, warnings,
                                    added, started)
            return added
        from concurrent.futures import ThreadPoolExecutor, as_completed

        self.report(first, len(items), f"{workers} requests at a time to {self.teacher.name}", pairs=added)
        with ThreadPoolExecutor(workers, thread_name_prefix="kwdesk-teacher") as pool:
            futures = {pool.submit(self._make_in_thread, items[i]): i for i in range(first, len(items))}
            try:
                for count, future in enumerate(as_completed(futures), start=first + 1):
                    item = items[futures[future]]
                    outcome = self._without_duplicates(db, item, future.result())
                    added += self._take(db, item, count, len(items), outcome, run_id, reports, warnings, added, started)
            except BaseException:
                self.cancel()  # the other workers stop at their next request
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return added

    def _make_in_thread(self, item: _Item) -> _Outcome:
        db = self.workspace.connect()
        try:
            return self._make(db, item)
        finally:
            db.close()

    def _without_duplicates(self, db, item: _Item, outcome: _Outcome) -> _Outcome:
        """Items made at the same time did not see each other's questions: check again
        against what is stored now, as one at a time would have."""
        if not outcome.pairs:
            return outcome
        dedupe = self._dedupe(db, outcome.pairs[0]["document_id"])
        kept = []
        for pair in outcome.pairs:
            problem = dedupe.problem(pair["question"], pair["answer"]) if pair["question"] else None
            if problem:
                outcome.rejected[problem] += 1
                continue
            if pair["question"]:
                dedupe.add(pair["question"], pair["answer"])
            kept.append(pair)
        outcome.pairs = kept
        return outcome

    def _take(self, db, item: _Item, done: int, total: int, outcome: _Outcome, run_id: int, reports: dict,
              warnings: list[str], added: int, started: float) -> int:
        """Store one item's data, count it, report DONE of TOTAL; returns the pairs it added."""
        kept = self._store(db, item, outcome, run_id)
        report = reports[item.strategy]
        report.attempts += outcome.attempts
        report.usable += kept
        report.by_rule += min(kept, sum(1 for p in outcome.pairs if p["made_by"] == RULES))
        report.rejected.update(outcome.rejected)
        # The teacher's own yield, apart from the rules': rule-built pairs must not hide a
        # teacher that makes nothing usable.
        teacher_attempts = outcome.attempts - outcome.rule_attempts
        teacher_kept = sum(1 for p in outcome.pairs if p["made_by"] != RULES)
        if teacher_attempts and not teacher_kept:
            reasons = ", ".join(f"{n} {reason}" for reason, n in outcome.rejected.most_common(3))
            who = "" if not outcome.rule_attempts else " by the teacher"
            warnings.append(f"0 usable of {teacher_attempts} attempts{who} on {item.label}: {reasons}")
        elapsed = time.monotonic() - started
        self.report(done, total, f"{item.strategy}: {item.label}", pairs=added + kept,
                    filtered=sum(sum(r.rejected.values()) for r in reports.values()), warnings=len(warnings),
                    tokens_per_second=self._tokens / elapsed if elapsed else 0.0)
        return kept

    def _start_run(self, db) -> int:
        config = {
            "strategies": list(self.options.strategies),
            "per_chunk": self.options.per_chunk,
            "teacher": self.teacher.name,
            "prompt_version": PROMPT_VERSION,
            "document_ids": self.options.document_ids,
        }
        return create_run(db, "generate", config, status="running")[0]

    def _finish_run(self, db, run_id: int, status: str, result: GenerateResult) -> None:
        set_run_status(db, run_id, status, metrics=result.to_dict(), finished=True)

    # --- what to do ----------------------------------------------------------------------

    def _documents(self, db) -> list[tuple[int, str]]:
        rows = current_documents(db)
        wanted = self.options.document_ids
        return [(doc_id, name) for doc_id, name in rows if wanted is None or doc_id in wanted]

    def _done(self, db, strategy: str) -> set[str]:
        if self.options.again:
            return set()
        return items_done(db, strategy, self.teacher.name, PROMPT_VERSION)

    def _items(self, db, strategies: list[str]) -> list[_Item]:
        items: list[_Item] = []
        documents = self._documents(db)
        chunks = []
        for doc_id, name in documents:
            for chunk_id, page_start, page_end in chunk_pages(db, doc_id):
                if self.options.chunk_ids is not None and chunk_id not in self.options.chunk_ids:
                    continue
                pages = f"p. {page_start}" + (f"-{page_end}" if page_end != page_start else "")
                chunks.append((chunk_id, f"chunk {chunk_id} ({name} {pages})"))
        for strategy in strategies:
            done = self._done(db, strategy)
            if strategy in ("qa", "rephrase"):
                items += [_Item(strategy, f"chunk:{cid}", label) for cid, label in chunks if f"chunk:{cid}" not in done]
            elif strategy == "entities":
                items += [_Item(strategy, f"document:{d}", f"document {name}") for d, name in documents if f"document:{d}" not in done]
            elif strategy == "paraphrase":
                if self.options.pair_ids is not None:
                    ids = list(self.options.pair_ids)
                else:
                    ids = reviewed_questions(db, [d for d, _ in documents])
                    if self.options.reword_per_fact:
                        # New questions too, not only reviewed ones: a fact asked in one or two
                        # ways gets more wordings now, up to the budget of questions per fact.
                        report = coverage(db, [d for d, _ in documents])
                        ids = list(dict.fromkeys(ids + questions_to_reword(report, self.options.reword_per_fact)))
                items += [_Item(strategy, f"pair:{i}", f"pair {i}") for i in ids if f"pair:{i}" not in done]
            elif strategy == HELD_OUT:
                ids = questions_without_held_out_wording(db, [d for d, _ in documents], HELD_OUT)
                items += [_Item(strategy, f"pair:{i}", f"pair {i}") for i in ids if f"pair:{i}" not in done]
        return items

    # --- making data ---------------------------------------------------------------------

    def _ask(self, messages, *, max_tokens: int, temperature: float, schema=None, seed: int = 0) -> str:
        self.check_cancelled()
        completion = self.teacher.chat(
            messages, max_tokens=max_tokens, temperature=temperature, schema=schema, seed=self.options.seed + seed
        )
        with self._tokens_lock:  # items may be made in several threads
            self._tokens += completion.completion_tokens
        return completion.text

    def _make(self, db, item: _Item) -> _Outcome:
        kind, _, raw_id = item.key.partition(":")
        ident = int(raw_id)
        if item.strategy == "qa":
            return self._make_qa(db, ident)
        if item.strategy == "rephrase":
            return self._make_rephrase(db, ident)
        if item.strategy == "entities":
            return self._make_entities(db, ident)
        return self._make_paraphrase(db, ident, held_out=item.strategy == HELD_OUT)

    def _chunk(self, db, chunk_id: int) -> dict:
        """A passage as generation sees it: without its sentences addressed to a model that
        the expert has not released (they never reach the teacher's prompt or a pair)."""
        chunk = chunk_row(db, chunk_id)
        for sentence in held_out_sentences(db, chunk_id):
            chunk["text"] = chunk["text"].replace(sentence, "").replace("  ", " ")
        return chunk

    def _dedupe(self, db, document_id: int | None) -> DuplicateFilter:
        return DuplicateFilter(questions_of_document(db, document_id))

    def _document(self, db, document_id: int) -> DocumentSentences:
        """The document's sentences, for questions that its other passages answer too."""
        if document_id not in self._sentences:
            self._sentences[document_id] = DocumentSentences(
                self._chunk(db, chunk_id)["text"] for chunk_id, _, _ in chunk_pages(db, document_id))
        return self._sentences[document_id]

    def _pair(self, chunk: dict, question: str, answer: str, kind: str, strategy: str, made_by: str, **meta) -> dict:
        return {
            "question": question,
            "answer": answer,
            "kind": kind,
            "strategy": strategy,
            "document_id": chunk["document_id"],
            "chunk_id": chunk["id"],
            "source_span": meta.pop("source_span", None),
            "made_by": made_by,
            "prompt_version": PROMPT_VERSION,
            "meta": json.dumps({"pages": [chunk["page_start"], chunk["page_end"]], **meta}),
        }

    def _question_for(self, outcome: _Outcome, dedupe, messages, source: str, answer: str, must_mention=None, seed=0,
                      document: DocumentSentences | None = None):
        """Ask for a question, greedy first, then once more with sampling; None if neither works."""
        for attempt, temperature in enumerate((0.0, 0.7)):
            text = self._ask(messages, max_tokens=64, temperature=temperature, schema=QUESTION_SCHEMA, seed=seed + attempt)
            outcome.attempts += 1
            question = parse_json_field(text, "question")
            problem = question_problem(question, source, answer, must_mention=must_mention)
            if problem is None and document is not None:
                problem = document.ambiguity(question, answer)
            if problem is None:
                problem = dedupe.problem(question, answer)
            if problem is None:
                dedupe.add(question, answer)
                return question
            outcome.rejected[problem] += 1
        return None

    def _rule_questions(self, outcome: _Outcome, dedupe, document: DocumentSentences, chunk: dict, anchors: list[Anchor],
                        heading: str | None) -> Counter:
        """Questions built from each sentence's shape, one per fact it holds (text/
        fact_questions), checked like the teacher's; how many each sentence got. HEADING:
        the passage's own, which names what its numbered steps belong to."""
        asked: Counter = Counter()
        known = names_used_inside(chunk["text"])
        for anchor in anchors:
            for fq in fact_questions(anchor.text, heading, known):
                outcome.attempts += 1
                outcome.rule_attempts += 1
                problem = (question_problem(fq.question, chunk["text"], anchor.text)
                           or document.ambiguity(fq.question, anchor.text)
                           or dedupe.problem(fq.question, anchor.text))
                if problem:
                    outcome.rejected[problem] += 1
                    continue
                dedupe.add(fq.question, anchor.text)
                asked[anchor.original] += 1
                outcome.pairs.append(self._pair(chunk, fq.question, anchor.text, anchor.kind, "qa", RULES,
                                                source_span=anchor.original, subject_restored=anchor.restored,
                                                shape=fq.shape, target=fq.target))
        return asked

    def _make_qa(self, db, chunk_id: int) -> _Outcome:
        chunk = self._chunk(db, chunk_id)
        heading = own_heading(chunk["heading_path"])
        anchors = anchors_for_text(chunk["text"], heading)
        outcome = _Outcome()
        dedupe = self._dedupe(db, chunk["document_id"])
        document = self._document(db, chunk["document_id"])
        by_rule = self._rule_questions(outcome, dedupe, document, chunk, anchors, heading)
        # The teacher's questions go first to the sentences the rules could not ask about:
        # they are where a fact would otherwise have no question at all. A small teacher
        # asks only there and where the rules asked once: the bundled 135M model's own
        # questions are right about three times in four, the rules' nearly always
        # (BENCHMARKS.md, issue 20), so beside two rule wordings it adds more mistakes than
        # variety. A stronger teacher's wordings add variety to every sentence's.
        open_to_teacher = [a for a in anchors if not self.teacher.small or by_rule[a.original] < SMALL_TEACHER_BESIDE_RULES]
        chosen = sorted(open_to_teacher, key=lambda a: (by_rule[a.original], _KIND_ORDER.get(a.kind, 3)))[: self.options.per_chunk]
        # Sentences of one kind share their prompt's examples: asked one after the other,
        # llama.cpp reuses the evaluated examples instead of reading them again.
        chosen.sort(key=lambda a: (a.kind, anchors.index(a)))
        # Every cell of a table, asked by its row and column: built by rule, so a table's
        # numbers reach the training data exactly as the document has them.
        for fact in table_facts(chunk["text"])[:MAX_TABLE_FACTS]:
            for question in fact.questions:
                outcome.attempts += 1
                outcome.rule_attempts += 1
                problem = dedupe.problem(question, fact.answer)
                if problem:
                    outcome.rejected[problem] += 1
                    continue
                dedupe.add(question, fact.answer)
                outcome.pairs.append(self._pair(chunk, question, fact.answer, "table", "qa", RULES,
                                                source_span=fact.line, row=fact.row, column=fact.column))
        for number, anchor in enumerate(chosen):
            question = self._question_for(
                outcome, dedupe, question_messages(anchor.text, anchor.kind), chunk["text"], anchor.text, seed=number,
                document=document,
            )
            if question:
                outcome.pairs.append(
                    self._pair(
                        chunk, question, anchor.text, anchor.kind, "qa", self.teacher.name,
                        source_span=anchor.original, subject_restored=anchor.restored,
                    )
                )
        return outcome

    def _make_entities(self, db, document_id: int) -> _Outcome:
        outcome = _Outcome()
        dedupe = self._dedupe(db, document_id)
        anchored: list[tuple[dict, Anchor]] = []
        for chunk_id, _, _ in chunk_pages(db, document_id):
            chunk = self._chunk(db, chunk_id)
            heading = own_heading(chunk["heading_path"])
            anchored += [(chunk, a) for a in anchors_for_text(chunk["text"], heading)]
        counts = Counter(name for _, anchor in anchored for name in anchor.entities)
        entities = [name for name, _ in counts.most_common(self.options.entities_per_document)]
        # Questions about each name, answered by the sentences that mention it: a small
        # teacher's are mostly wrong ("Which authorisation is Brisk Harbour?": 1 of 6 right in
        # two hand-read samples, 8 of 51 attempts passed the checks), so it writes none and
        # the relations below, built by rule, are what this strategy gives.
        for rank, entity in enumerate([] if self.teacher.small else entities):
            mentions = [(c, a) for c, a in anchored if entity in a.entities][:2]
            for number, (chunk, anchor) in enumerate(mentions):
                question = self._question_for(
                    outcome, dedupe, entity_question_messages(entity, anchor.text), chunk["text"], anchor.text,
                    must_mention=entity, seed=100 * rank + number,
                )
                if question:
                    outcome.pairs.append(
                        self._pair(chunk, question, anchor.text, "entity", "entities", self.teacher.name,
                                   source_span=anchor.original, entity=entity)
                    )
        # How two names relate, where one sentence names both: a question built by rule,
        # answered by that sentence, so it needs no teacher and cannot invent anything.
        relations = 0
        seen: set[frozenset] = set()
        for chunk, anchor in anchored:
            names = [n for n in anchor.entities if n in entities]
            # A sentence relates what it is about to what it names: "The Veltra River rises
            # in the Quellan Hills and flows into Lake Orvane" relates the river to the hills
            # and to the lake, not the hills to the lake.
            about = subject_of(anchor.text, names_used_inside(chunk["text"])) or ""
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    if relations >= self.options.relations_per_document or frozenset((a, b)) in seen:
                        continue
                    if a not in about and b not in about:
                        continue
                    # The other name only places a thing the sentence names ("approved the
                    # specifications for the weir at Brisk Harbour"): it is the weir's place,
                    # not a relation of the person's.
                    if only_places_a_thing(b if a in about else a, anchor.text):
                        continue
                    seen.add(frozenset((a, b)))
                    question = f"How are {a} and {b} related?"
                    problem = dedupe.problem(question, anchor.text)
                    if problem:
                        outcome.rejected[problem] += 1
                        continue
                    dedupe.add(question, anchor.text)
                    outcome.pairs.append(
                        self._pair(chunk, question, anchor.text, "relation", "entities", RULES,
                                   source_span=anchor.original, entities=[a, b])
                    )
                    relations += 1
        return outcome

    def _make_rephrase(self, db, chunk_id: int) -> _Outcome:
        chunk = self._chunk(db, chunk_id)
        outcome = _Outcome()
        existing = {normalized(text) for text in rephrasings_of(db, chunk_id)}
        # A small teacher's dialogues hold no sentence the passage supports (0 of 203 in the
        # labelled set, tests/labelled/rephrasing_sentences.jsonl; its summaries 24 of 86, its
        # lecture notes 17 of 147): it writes none, which also saves a third of its time here.
        styles = [s for s in REPHRASE_STYLES if not (self.teacher.small and s == "dialogue")]
        for number, style in enumerate(styles):
            text = self._ask(rephrase_messages(chunk["text"], style), max_tokens=320, temperature=0.3, seed=number)
            outcome.attempts += 1
            text = strip_label(text)
            kept = supported_sentences(text, chunk["text"])
            if len(kept.split()) < 12 or len(kept.split()) < 0.4 * len(text.split()):
                outcome.rejected["rephrasing not supported by the source"] += 1
                continue
            # A rephrasing that copies the passage adds nothing to what the passage teaches.
            if normalized(kept) in existing or copied_fraction(kept, chunk["text"]) >= 0.8:
                outcome.rejected["copies the passage"] += 1
                continue
            existing.add(normalized(kept))
            outcome.pairs.append(self._pair(chunk, "", kept, "rephrase", "rephrase", self.teacher.name, style=style))
        # A list of the passage's facts, each sentence made to stand alone: built by rule.
        heading = own_heading(chunk["heading_path"])
        facts = [a.text for a in anchors_for_text(chunk["text"], heading)]
        if len(facts) >= 2:
            listing = "\n".join(f"- {fact}" for fact in facts)
            if normalized(listing) not in existing:
                outcome.pairs.append(self._pair(chunk, "", listing, "rephrase", "rephrase", RULES, style="facts"))
        return outcome

    def _make_paraphrase(self, db, pair_id: int, held_out: bool = False) -> _Outcome:
        row = pair_core(db, pair_id)
        outcome = _Outcome()
        if row is None:
            return outcome
        question, answer, kind, document_id, chunk_id = row
        chunk = self._chunk(db, chunk_id) if chunk_id else {
            "id": None, "document_id": document_id, "text": answer, "page_start": 0, "page_end": 0
        }
        source = f"{question}\n{answer}\n{chunk['text']}"
        dedupe = self._dedupe(db, document_id)
        for number in range(1 if held_out else self.options.paraphrases_per_question):
            # A held-out wording takes the opener after the training ones, so it differs from them.
            offset = self.options.paraphrases_per_question if held_out else number
            opener = PARAPHRASE_OPENERS[(pair_id + offset) % len(PARAPHRASE_OPENERS)]
            text = self._ask(paraphrase_messages(question, opener), max_tokens=64, temperature=0.2,
                             schema=paraphrase_schema(opener), seed=number)
            outcome.attempts += 1
            new = parse_json_field(text, "question")
            problem = question_problem(new, source, answer)
            if problem is None:
                problem = paraphrase_problem(new, question, answer)
            if problem is None:
                problem = dedupe.problem(new, answer)
            if problem:
                outcome.rejected[problem] += 1
                continue
            dedupe.add(new, answer)
            pair = self._pair(chunk, new, answer, kind, HELD_OUT if held_out else "paraphrase", self.teacher.name, opener=opener)
            pair["parent_pair_id"] = pair_id
            if held_out:
                pair["split"] = "eval"
            outcome.pairs.append(pair)
        return outcome

    # --- storing -------------------------------------------------------------------------

    def _store(self, db, item: _Item, outcome: _Outcome, run_id: int) -> int:
        return store_item(db, strategy=item.strategy, item=item.key, teacher=self.teacher.name,
                          prompt_version=PROMPT_VERSION, run_id=run_id, attempts=outcome.attempts,
                          pairs=outcome.pairs, rejected=dict(outcome.rejected))


def more_for_not_learned(db, *, paraphrases: int = 3) -> GenerateOptions | None:
    """Options that make more data for the facts the newest evaluation found not learned:
    more wordings of their questions and rephrasings of their passages (a fact seen in
    more forms sticks better: Allen-Zhu and Li, "Physics of Language Models 3.1"). None when
    every evaluated fact was learned."""
    from kwdesk.core.store.pairs import chunks_not_learned, pairs_not_learned

    pair_ids = pairs_not_learned(db)
    if not pair_ids:
        return None
    runs = count_runs(db, "generate")
    return GenerateOptions(strategies=("paraphrase",), pair_ids=pair_ids, chunk_ids=chunks_not_learned(db),
                           paraphrases_per_question=paraphrases, again=True, seed=runs + 1)
