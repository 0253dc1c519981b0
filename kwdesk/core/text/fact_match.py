"""Grading answers against a reference: the key facts must be in the answer.

A grader a user can check by eye: the key facts of a reference answer are its numbers, its
names (those the question does not already give away) and, when it has neither, its
distinctive words. An answer is right when it contains every number and every name (after
normalizing case, accents, punctuation and thousands separators), or at least half of the
distinctive words. Each verdict lists what was found and what was missing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from kwdesk.core.text.anchors import entities_in
from kwdesk.core.text.words import content_words

# What a question asks for decides which facts of the reference are key: "How high is the
# dam?" wants the number, not the river it stands on; "Who designed it?" wants the name.
_WANTS_NUMBER = re.compile(
    r"\b(how (many|much|high|tall|long|deep|wide|far|old|big|heavy|large|often)|when|what year|which year|"
    r"height|length|depth|width|year|date|number|population|age|cost|price|weight|distance|size|capacity|"
    r"percentage|rate|temperature|speed|area|volume)\b", re.IGNORECASE)
_WANTS_NAME = re.compile(r"\b(who|whom|whose|where|which|name|called)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def normalize(text: str) -> str:
    """Lower case, accents and punctuation away, single spaces; "1,200" becomes "1200"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"[^\w\s.]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # keep decimal points only
    return " ".join(text.split())


def _contains(haystack: str, needle: str) -> bool:
    needle = normalize(needle)
    return bool(needle) and re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w]|\.\d)", haystack) is not None


def numbers_in(text: str) -> list[str]:
    return [n.replace(",", "") for n in _NUMBER.findall(text)]


@dataclass
class Grade:
    correct: bool
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"correct": self.correct, "found": self.found, "missing": self.missing}


def asked_for(question: str) -> str:
    """What kind of answer QUESTION wants: "number" (how high, when...), "name" (who, where,
    which...) or "other" (what for, why, explain...)."""
    if _WANTS_NUMBER.search(question):
        return "number"
    if _WANTS_NAME.search(question):
        return "name"
    return "other"


def key_facts(reference: str, question: str = "") -> tuple[list[str], int]:
    """The key facts of REFERENCE for QUESTION, and how many of them a right answer needs:
    every number the question asks for; half the names a who/where question asks for (a
    sentence often names more than the answer); else every number and name; else half the
    distinctive words (the longest words of the reference that the question lacks)."""
    asked = normalize(question)
    numbers = [n for n in dict.fromkeys(numbers_in(reference)) if not _contains(asked, n)]
    names = [n for n in entities_in(reference) if not _contains(asked, n) and not _NUMBER.fullmatch(n)]
    if numbers and _WANTS_NUMBER.search(question):
        return numbers, len(numbers)
    if names and _WANTS_NAME.search(question):
        return names, (len(names) + 1) // 2
    if numbers or names:
        return numbers + names, len(numbers) + len(names)
    question_words = content_words(question)
    distinctive = sorted((w for w in content_words(reference) if w not in question_words), key=lambda w: (-len(w), w))[:4]
    return distinctive, (len(distinctive) + 1) // 2


def grade_against_reference(answer: str, reference: str, question: str = "") -> Grade:
    text = normalize(answer)
    facts, needed = key_facts(reference, question)
    if text == normalize(reference):  # the very answer (also when both are empty)
        return Grade(True, facts, [])
    if not facts:  # nothing to check: the reference only repeats the question
        return Grade(bool(text), [], [])
    found = [fact for fact in facts if _contains(text, fact)]
    return Grade(len(found) >= needed, found, [f for f in facts if f not in found])


def grade_short_answer(answer: str, accepted: list[str]) -> Grade:
    """Right when any accepted short answer appears in ANSWER as whole words."""
    text = normalize(answer)
    for candidate in accepted:
        if _contains(text, candidate):
            return Grade(True, [candidate], [])
    return Grade(False, [], [accepted[0]] if accepted else [])
