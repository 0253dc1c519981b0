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


def _ends_with_abbreviation(text: str) -> bool:
    # The last two words are all that matter; a hot path (every full stop of every page).
    words = text[-48:].split()[-2:]
    word = words[-1].rstrip(".").lstrip("(\"'“‘").lower() if words else ""
    if len(word) > _LONGEST and "." not in word:
        return False  # longer than every abbreviation: the common case, decided at once
    if not word:
        return False
    if word in ABBREVIATIONS:
        return True
    # An initial ("J. Smith") is not a sentence end; a unit after a number ("310 m.") is.
    after_number = len(words) > 1 and words[-2].replace(".", "").replace(",", "").isdigit()
    return len(word) == 1 and word.isalpha() and not after_number


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
                continue
            dot = match.start(1)
            if stop[0] == "." and (len(stop) == 1 or len(stop.rstrip(_CLOSERS)) == 1):
                if _ends_with_abbreviation(text[max(start, dot - 47) : dot + 1]):
                    continue
                if dot - start < 16 and _ENUMERATOR.match(text[start : dot + 1].strip()):
                    continue  # "2. Pilotage is ...": a list item's or section's number
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
