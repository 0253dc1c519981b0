"""Facts that conflict: pairs whose questions mean the same but whose answers disagree.

Two pairs conflict when
  - their questions share most of their content words (Jaccard >= QUESTION_OVERLAP, each
    with at least two content words), name the same things (numbers, names) and ask for
    the same kind of answer (a number, a name, other: with a long subject "What was the
    Melkvik turbine hall No. 37 built for?" and "How tall is ...?" share most words), and
  - neither answer holds the key facts of the other (the evaluation's grader decides, so a
    conflict and a wrong answer are the same judgement), and at least one of them states a
    number or a name: two differently worded explanations are not a contradiction.
Within one collection, and across versions of a document (an old version's pairs stay until
they are retired). Training refuses to train both sides of a conflict silently: the expert
rejects one side, or says that both stand (conflict_decisions).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass

from kwdesk.core.store.conflicts import record_both_right, review_state, settled_pairs
from kwdesk.core.store.pairs import pair_with_source, questions_to_compare, set_status
from kwdesk.core.text.anchors import entities_in, numbers_in, subject_of
from kwdesk.core.text.fact_match import asked_for, grade_against_reference, key_facts
from kwdesk.core.text.words import content_words

QUESTION_OVERLAP = 0.6
# Words that ask for the same measure: "How high", "what height", "how tall" ask one thing.
_SAME_MEASURE = {
    "high": "height", "tall": "height", "height": "height", "heights": "height",
    "long": "length", "length": "length", "wide": "width", "width": "width", "broad": "width",
    "deep": "depth", "depth": "depth", "old": "age", "age": "age", "far": "distance", "distance": "distance",
    "heavy": "weight", "weigh": "weight", "weighs": "weight", "weight": "weight",
    "cost": "price", "costs": "price", "price": "price",
    "begin": "start", "began": "start", "begins": "start", "start": "start", "started": "start", "starts": "start",
    "end": "end", "ends": "end", "ended": "end", "expire": "end", "expires": "end", "expiry": "end",
}
_TIMES = {"start", "end"}  # the measures a when-question can ask for
COMMON_WORD_PAIRS = 400  # a word in more pairs than this says nothing about sameness


@dataclass
class ConflictSide:
    pair_id: int
    question: str
    answer: str
    status: str
    document: str | None
    version: int | None
    page: int | None
    source_span: str | None
    facts: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Conflict:
    a: ConflictSide
    b: ConflictSide
    question_overlap: float

    def to_dict(self) -> dict:
        return {"a": self.a.to_dict(), "b": self.b.to_dict(), "question_overlap": round(self.question_overlap, 2)}


def _term(word: str) -> str:
    word = _SAME_MEASURE.get(word, word)
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def question_terms(question: str) -> set[str]:
    """The content words of a question, with words for the same measure made one and plural
    endings dropped, so that wordings of one question share their terms."""
    return {_term(word) for word in content_words(question)}


# Words before a noun: "the communication", "during communication work".
_DETERMINER = frozenset("the a an its their this that these those of during for at in on with by from under".split())


def _own_nouns(question: str, answer: str, other_answer: str, only_here: set[str]) -> set[str]:
    """Words of QUESTION that the other question lacks, stand where a noun stands (after
    "the", "of", "during"), and name something of this pair's answer that the other answer does not
    name: "the communication of the pump station" in "The communication of the pump station
    were revised in 2003"."""
    tokens = [w.lower().strip("'’-") for w in re.findall(r"[\w'’-]+", question)]
    here, there = question_terms(answer), question_terms(other_answer)
    subject = subject_of(answer)
    in_subject = question_terms(subject) if subject else set()  # "the Brisk Harbour weir"
    nouns = {_term(w) for previous, w in zip(tokens, tokens[1:]) if previous in _DETERMINER} | in_subject
    return {w for w in nouns & only_here if w in here and w not in there}


def names_different_things(question_a: str, answer_a: str, question_b: str, answer_b: str) -> bool:
    """Each question names a thing of its own that its answer names and the other answer does
    not: "When were the communication of the pump station revised?" (2003) and "When were
    the infrastructure of the pump station revised?" (2018) share most words and are two
    facts, not one fact stated twice. Two wordings of one question ("Who designed the dam?",
    "Who was the architect of the dam?") do not: the architect is not named in the answer."""
    terms_a, terms_b = question_terms(question_a), question_terms(question_b)
    return bool(_own_nouns(question_a, answer_a, answer_b, terms_a - terms_b)
                and _own_nouns(question_b, answer_b, answer_a, terms_b - terms_a))


def _states_a_fact(answer: str) -> bool:
    return bool(numbers_in(answer) or entities_in(answer))


def same_subject(question_a: str, question_b: str) -> bool:
    """Questions about the same thing name the same numbers ("sluice gate No. 2" is not "No.
    49") and the names of one are among the names of the other."""
    if set(numbers_in(question_a)) != set(numbers_in(question_b)):
        return False
    names_a = {n.lower() for n in entities_in(question_a)}
    names_b = {n.lower() for n in entities_in(question_b)}
    return names_a <= names_b or names_b <= names_a


def _wh(question: str) -> str | None:
    """Whom, where or when a question asks about, if one of them."""
    q = question.lower()
    for kind, pattern in (("who", r"\b(?:who|whom|whose)\b"), ("where", r"\bwhere\b"),
                          ("when", r"\bwhen\b|\b(?:what|which) year\b")):
        if re.search(pattern, q):
            return kind
    return None


def asks_the_same(question_a: str, question_b: str) -> bool:
    """Both want the same kind of answer, and no two different measures (height, length):
    "Who designed the Larkspur Dam?" and "Where is the Larkspur Dam?" both want a name, but
    not the same one."""
    if asked_for(question_a) != asked_for(question_b):
        return False
    wh_a, wh_b = _wh(question_a), _wh(question_b)
    if wh_a and wh_b and wh_a != wh_b:
        return False
    measures_a = {_SAME_MEASURE[w] for w in content_words(question_a) if w in _SAME_MEASURE}
    measures_b = {_SAME_MEASURE[w] for w in content_words(question_b) if w in _SAME_MEASURE}
    # "When was X built?" and "What is the height of X?": a time is no height
    if (wh_a == "when" and measures_b - _TIMES) or (wh_b == "when" and measures_a - _TIMES):
        return False
    return not (measures_a and measures_b and not measures_a & measures_b)


def answers_disagree(question: str, answer_a: str, answer_b: str) -> bool:
    if not (_states_a_fact(answer_a) or _states_a_fact(answer_b)):
        return False
    return (not grade_against_reference(answer_b, answer_a, question).correct
            and not grade_against_reference(answer_a, answer_b, question).correct)


def find_conflicts(db, collection_id: int | None = None, *, split: str | None = None,
                   pair_ids: list[int] | None = None) -> list[Conflict]:
    """Conflicting pairs among the pairs not rejected (of one collection; of one split; or
    among PAIR_IDS), without those the expert has settled."""
    rows = questions_to_compare(db, collection_id, split)
    if pair_ids is not None:
        wanted = set(pair_ids)
        rows = [r for r in rows if r[0] in wanted]
    words = {r[0]: question_terms(r[1]) for r in rows}
    text = {r[0]: (r[1], r[2]) for r in rows}
    by_word: dict[str, list[int]] = defaultdict(list)
    for pair_id, ws in words.items():
        for w in ws:
            by_word[w].append(pair_id)
    settled = settled_pairs(db)
    found: list[tuple[int, int, float]] = []
    for pair_id, ws in words.items():
        if len(ws) < 2:
            continue
        shared: dict[int, int] = defaultdict(int)
        for w in ws:
            bucket = by_word[w]
            if len(bucket) > COMMON_WORD_PAIRS:
                continue
            for other in bucket:
                if other > pair_id:
                    shared[other] += 1
        for other, count in shared.items():
            other_words = words[other]
            if len(other_words) < 2:
                continue
            overlap = count / len(ws | other_words)
            if overlap < QUESTION_OVERLAP or (pair_id, other) in settled:
                continue
            question, answer = text[pair_id]
            other_question, other_answer = text[other]
            if (same_subject(question, other_question) and asks_the_same(question, other_question)
                    and not names_different_things(question, answer, other_question, other_answer)
                    and answers_disagree(question, answer, other_answer)):
                found.append((pair_id, other, overlap))
    return [Conflict(_side(db, a), _side(db, b), overlap) for a, b, overlap in found]


def _side(db, pair_id: int) -> ConflictSide:
    row = pair_with_source(db, pair_id)
    facts, _ = key_facts(row[2], row[1])
    return ConflictSide(*row, facts=facts)


def keep_both(db, pair_a: int, pair_b: int) -> None:
    """The expert's word that two flagged pairs are both right."""
    record_both_right(db, pair_a, pair_b)


def keep_one(db, keep: int, reject: int) -> None:
    """Settle a conflict by rejecting one side (it can be taken back in the pairs table)."""
    if keep == reject:
        raise ValueError("keep and reject must be two different pairs")
    set_status(db, [reject], "rejected")


def disagreements(conflicts: list[Conflict]) -> list[list[int]]:
    """The conflicting pairs grouped by what they disagree about: pairs joined by a conflict,
    directly or through others, are one group. One fact stated two ways, asked in three
    wordings each, is up to nine conflicts and one disagreement."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in conflicts:
        parent[root(c.a.pair_id)] = root(c.b.pair_id)
    groups: dict[int, list[int]] = defaultdict(list)
    for pair_id in sorted(parent):
        groups[root(pair_id)].append(pair_id)
    return sorted(groups.values())


def conflicts_summary(conflicts: list[Conflict]) -> str:
    pairs = sorted({c.a.pair_id for c in conflicts} | {c.b.pair_id for c in conflicts})
    shown = ", ".join(str(p) for p in pairs[:8]) + (" …" if len(pairs) > 8 else "")
    facts = len(disagreements(conflicts))
    return (f"{len(conflicts)} pair(s) of Q&A contradict each other, about {facts} fact(s) "
            f"stated in more than one way (pairs {shown})")


# Above this many pairs, counting conflicts is left to the dialog and to training (counting
# 10,000 pairs takes about 0.4 s, fine between two clicks; more is not).
QUICK_COUNT_LIMIT = 10_000


class ConflictCount:
    """The number of conflicts, counted again only when a pair or a decision changed since the
    last count (edits, rejections and undo all move updated_at). None: too many pairs to
    count quickly. The Data page shows it on its Conflicts button."""

    def __init__(self) -> None:
        self._state = None
        self._count: int | None = None

    def __call__(self, db) -> int | None:
        state = review_state(db)
        if state != self._state:
            self._state = state
            self._count = None if state[0] > QUICK_COUNT_LIMIT else len(find_conflicts(db))
        return self._count
