"""Which passage backs which claim of an answer with sources, and which claims none backs.

A small model with passages in its prompt cites [1] for a sentence that [2] supports, or
states what no passage says. Each sentence of the answer is checked against each passage
the way the evaluation's grader checks an answer against its reference
(text.fact_match.grade_against_reference): the passage must hold the sentence's key facts,
its numbers and names, or most of its distinctive words. What the model cited is kept
beside what the check found, so the chat can mark the right passages and flag the rest.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from kwdesk.core.text.anchors import entities_in
from kwdesk.core.text.fact_match import grade_against_reference, numbers_in
from kwdesk.core.text.sentences import split_sentences
from kwdesk.core.text.words import content_words

_MARKER = re.compile(r"\s*\[(\d{1,2})\]")
# Markers after a sentence's end ("... floor. [1]", as the chat marks answers and as a model
# trained with sources cites) belong to that sentence, not to the next.
_MARKERS_AFTER_END = re.compile(r"([.!?])((?:\s*\[\d{1,2}\])+)")
# Fewer content words than this, and no number or name: a courtesy ("I hope this helps."), no claim.
MIN_CLAIM_WORDS = 3
WORDS_HELD = 0.6  # share of a statement's content words its backing passage must hold


@dataclass
class Claim:
    text: str  # the sentence, without its citation markers
    backed_by: list[int] = field(default_factory=list)  # passages (numbered from 1) that hold its facts
    cited: list[int] = field(default_factory=list)  # the passages the model cited for it

    @property
    def supported(self) -> bool:
        return bool(self.backed_by)

    def to_dict(self) -> dict:
        return {**asdict(self), "supported": self.supported}


def is_claim(sentence: str) -> bool:
    """Whether SENTENCE states something a passage could back (not a question, not a courtesy)."""
    text = sentence.strip()
    if not text or text.endswith("?"):
        return False
    return bool(numbers_in(text)) or bool(entities_in(text)) or len(content_words(text)) >= MIN_CLAIM_WORDS


def backs(passage: str, statement: str) -> bool:
    """Whether PASSAGE backs STATEMENT: it holds the statement's key facts (as the grader
    finds them) and most of its words, so that a name taken from a passage about something
    else ("The harbour master is Maren Oskarsdottir", of a passage on the dam she designed)
    is not backed by it."""
    if not grade_against_reference(passage, statement).correct:
        return False
    words = content_words(statement)
    return not words or len(words & content_words(passage)) / len(words) >= WORDS_HELD


def answer_segments(answer: str, passages: list[str]) -> list[tuple[str, Claim | None]]:
    """ANSWER sentence by sentence, without the model's citation markers, each with its Claim
    (None for what states nothing: a question, a courtesy), checked against PASSAGES (in
    their cited order, numbered from 1)."""
    out: list[tuple[str, Claim | None]] = []
    joined = _MARKERS_AFTER_END.sub(lambda m: f"{m.group(2)}{m.group(1)}", " ".join(answer.split()))
    for sentence in split_sentences(joined):
        cited = [int(n) for n in _MARKER.findall(sentence)]
        text = _MARKER.sub("", sentence).strip()
        if not text:
            continue
        if not is_claim(text):
            out.append((text, None))
            continue
        backed = [n for n, passage in enumerate(passages, 1) if backs(passage, text)]
        out.append((text, Claim(text, backed, [n for n in cited if 1 <= n <= len(passages)])))
    return out


def check_claims(answer: str, passages: list[str]) -> list[Claim]:
    """The claims of ANSWER, each with the PASSAGES that back it."""
    return [claim for _, claim in answer_segments(answer, passages) if claim is not None]


def marked_answer(segments: list[tuple[str, Claim | None]]) -> str:
    """The answer again, each claim followed by the passages that back it ([1], [2]) or by
    "[not in the sources]"; what states nothing as it was."""
    parts = []
    for text, claim in segments:
        if claim is None:
            parts.append(text)
        else:
            mark = "".join(f"[{n}]" for n in claim.backed_by) if claim.supported else "[not in the sources]"
            parts.append(f"{text} {mark}")
    return " ".join(parts)


def claims_summary(claims: list[Claim]) -> str:
    """One line for people: how many claims the passages back, and which they do not."""
    if not claims:
        return ""
    unsupported = [c for c in claims if not c.supported]
    miscited = [c for c in claims if c.supported and c.cited and not set(c.cited) & set(c.backed_by)]
    line = f"{len(claims) - len(unsupported)} of {len(claims)} statements backed by the passages"
    if miscited:
        line += f"; {len(miscited)} cited the wrong passage"
    if unsupported:
        quoted = "; ".join(f"\u201c{_short(c.text)}\u201d" for c in unsupported[:2])
        line += f". Not in the sources, check before relying on it: {quoted}"
    return line


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"
