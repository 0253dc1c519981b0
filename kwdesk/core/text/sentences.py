"""Sentence splitting and token estimates, small and fast enough for 1,000 pages a second.

Chunks must never cut a sentence, so the chunker works in sentences. A full NLP sentence
splitter (spaCy, pysbd) would cost more than the whole PDF extraction; this splitter knows
the common abbreviations and initials, which is what matters for technical and legal text.
"""

from __future__ import annotations

import re

# Words after which a full stop does not end a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st vs etc e.g i.e cf al fig figs eq eqs no nos vol vols p pp ch
    sec art para approx ca dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct
    nov dec mt ft z.b bzw ggf usw vgl nr abs s.a u.a d.h
    rev ref refs tab tabs app apps annex cl subcl reg regs min max incl excl resp esp viz
    ed eds edn pt pts sch ord sect ss gen capt lt col cmdr sgt gov sen rep hon ave rd bldg
    dist div est govt intl assn bros mfg nat natl op orig std tel temp univ
    """.split()
)

# A sentence's leading number or letter of a list or a section: "2.", "2.3.", "b.", "iv.".
_ENUMERATOR = re.compile(r"^\(?(?:\d{1,3}(?:\.\d{1,3})*|[a-z]|[ivx]{1,4})\.$", re.IGNORECASE)

_BOUNDARY = re.compile(r"([.!?…]+[\"”’')\]]*)(\s+)|([。！？])")


_LONGEST = max(len(word) for word in ABBREVIATIONS)
# Abbreviations that close a name ("Pitt, Briggs & Co.", "Smith Jr."): before a word that
# opens sentences ("Co. It closed ..."), the sentence ends there.
_POSTPOSITIVE = frozenset("co corp inc ltd etc jr sr bros al".split())
_STARTERS = frozenset(
    """
    It Its They Their He His She Her We Our I You Your The This That These Those There A An In On
    At For If When But And However Then Did Do Does Is Are Was Were What Who How Why Where Which
    """.split()
)
# Words a capital letter after them designates, not initials: "Annex B.", "Class C."
_DESIGNATORS = frozenset(
    "annex appendix schedule exhibit part table figure section class type grade zone model phase option".split()
)
_MULTI_PERIOD = re.compile(r"^(?:[a-z]\.)+[a-z]$")


def _ends_with_abbreviation(text: str, following: str = "") -> bool:
    """Whether TEXT (a sentence so far, its full stop last) ends in an abbreviation or an
    initial rather than a sentence; FOLLOWING is the word after it."""
    # The last two words are all that matter; a hot path (every full stop of every page).
    words = text[-48:].split()[-2:]
    word = words[-1].rstrip(".").lstrip("(\"'“‘").lower() if words else ""
    if len(word) > _LONGEST and "." not in word:
        return False  # longer than every abbreviation: the common case, decided at once
    if not word:
        return False
    starts = following in _STARTERS
    if word in ABBREVIATIONS:
        return not (starts and word in _POSTPOSITIVE)
    if "." in word:  # "U.S.", "a.m.", "e.g." without its dot
        return bool(_MULTI_PERIOD.match(word)) and not starts
    if len(word) == 1 and word.isalpha():
        # An initial ("J. Smith") is not a sentence end; a unit after a number ("310 m."), a
        # designation ("Annex B."), or "I." before a sentence's first word is.
        before = words[-2].lower() if len(words) > 1 else ""
        after_number = before.replace(".", "").replace(",", "").isdigit()
        return not (after_number or before in _DESIGNATORS or starts)
    return False


_ITEM_START = re.compile(r"\(?(\d{1,2}|[a-z])[.)]{1,2}\s")  # used with match(): anchored at pos
_ITEM_END = re.compile(r"\s\(?(\d{1,2}|[a-z])\)?$")


def _next_item(text: str, start: int, dot: int) -> int:
    """Where the next item of a run-in list starts, when the sentence from START opens with
    an enumerator ("1.", "a)") and the word before the full stop at DOT is the next one
    ("2", "b"); 0 otherwise."""
    opening = _ITEM_START.match(text, start)
    if not opening:
        return 0
    closing = _ITEM_END.search(text, start, dot + (text[dot - 1 : dot] == ")"))
    if not closing:
        return 0
    first, this = opening.group(1), closing.group(1)
    following = str(int(first) + 1) if first.isdigit() else chr(ord(first) + 1)
    return closing.start() + 1 if this == following else 0


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; the sentences joined by spaces give the paragraph."""
    text = text.strip()
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    # A hot loop (every sentence of every page): locals, no helper calls on the common path.
    for match in _BOUNDARY.finditer(text):
        stop = match.group(1)
        if stop:
            after = match.end()
            first = text[after : after + 1]
            if first in _OPENERS:
                first = text[after:after + 3].lstrip(_OPENERS)[:1]
            if not first or not (first.isupper() or first.isdigit()):
                item = _ITEM_START.match(text, after)  # "... the dock. b. Supply ...": a list's letter
                if not (item and text[item.end() : item.end() + 1].isupper()):
                    continue
            dot = match.start(1)
            if stop[0] == "." and (len(stop) == 1 or len(stop.rstrip(_CLOSERS)) == 1):
                following = text[after : after + 12].split(" ", 1)[0].strip("\"“‘'([,")
                if _ends_with_abbreviation(text[max(start, dot - 47) : dot + 1], following):
                    continue
                if dot - start < 16 and _ENUMERATOR.match(text[start : dot + 1].strip()):
                    continue  # "2. Pilotage is ...": a list item's or section's number
                cut = _next_item(text, start, dot)
                if cut:  # "1. The first item 2. The second": the next item starts at its number
                    sentences.append(text[start:cut].strip())
                    start = cut
                    continue
            end = match.end(1)
        else:
            end = match.end(3)
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


_OPENERS = "\"“‘'(["
_CLOSERS = "\"”’')]"


def approx_tokens(text: str) -> int:
    """Tokens of a typical BPE tokenizer: about four characters each for English text.

    Chunk sizes only need to be right to within a few percent; counting with the real
    tokenizer would mean loading a model to import a PDF.
    """
    return max(1, (len(text) + 3) // 4)
