"""Grounding for generated data: sentences that can stand alone, their subjects, entities.

A small teacher invents facts when it writes free-form answers. kwdesk therefore anchors
every question to one source sentence and uses that sentence as the answer, after
restoring its subject where it only says "it" or "its": a pair whose answer never names
what it is about teaches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kwdesk.core.text.blocks import table_row_cells
from kwdesk.core.text.sentences import ABBREVIATIONS, split_sentences

# Proper names and codes: "Lake Orvane", "Orvane Institute of Hydrology", "Dr. Ilse
# Tamberg", "KX-9". Connectors may join capitalised words inside a name.
# A word with a full stop joins a name only as a short abbreviation ("Dr.", "St."), never
# across the end of a sentence ("... Lake Orvane. The Veltra River ...").
_CAP = r"(?:(?:Dr|Mr|Mrs|Ms|St|Mt|Ft|Prof|Sr|Jr|Gen|Capt|Lt|[A-Z])\.(?=\s+[A-Z])|[A-Z][\w'’\-]*|[A-Z0-9]+(?:-[A-Z0-9]+)+)"
_ENTITY = re.compile(rf"{_CAP}(?:\s+(?:(?:of|de|du|von|van|der|la|le|and|&)\s+)?{_CAP})*")
_CODE = re.compile(r"\b[A-Za-z]{1,5}-?\d[\w\-]*\b")
# Capitalised words that start sentences or are too common to name anything.
_NOT_NAMES = frozenset(
    """
    The A An In On At For From By With Without To Of And Or But If When While After Before Since
    This That These Those It Its They Their There Here Then Thus However Also Each Every All Some
    Any Most Many Both Such Other Another One Two Three He She His Her We Our You Your I Who
    What Which Where Why How Engineer Doctor Dr Dr. Mr Mr. Mrs Ms Prof Prof. Section Chapter Table
    Figure Fig Note Notes Page See Yes No Not Only
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    """.split()
)  # months and days are dates, not names: "How are April and October related?" asks nothing
_PRONOUN_START = re.compile(r"^(It|Its|They|Their|This|These|He|She|His|Her)\b\s*")
# A number on its own, not a digit inside a code such as KX-9 or a name such as B52.
_NUMBER = re.compile(r"(?<![\w-])\d+(?:[.,]\d+)?(?![\w-])")
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")


_CONNECTORS = {"of", "de", "du", "von", "van", "der", "la", "le", "and", "&"}
_NOT_NAMES_BARE = {w.rstrip(".") for w in _NOT_NAMES}


# A capitalised word inside a sentence, after a lower-case word: "added Pindaprine to".
_NAME_INSIDE = re.compile(r"(?<=[a-z,;]\s)([A-Z][a-z][\w'’\-]+)\b")


def names_used_inside(text: str) -> frozenset[str]:
    """Single words that TEXT capitalises inside a sentence ("added Pindaprine to the
    formulary"): names, also where a sentence opens with one ("Pindaprine is prescribed
    ..."), which entities_in alone cannot tell from an ordinary word ("Valve assembly ...")."""
    return frozenset(w for w in _NAME_INSIDE.findall(text) if w not in _NOT_NAMES_BARE)


def entities_in(text: str, known: frozenset[str] = frozenset()) -> list[str]:
    """Names and codes in TEXT, in order of first appearance, without repeats.

    A single capitalised word that opens a sentence ("Valve assembly ...") is taken for an
    ordinary word, not a name, unless it is one of KNOWN (names_used_inside of the passage).
    """
    found: list[str] = []
    for match in _ENTITY.finditer(text):
        words = match.group(0).split()
        opens_sentence = match.start() == 0 or re.search(r"[.!?:]\s*$|\n\s*$", text[max(0, match.start() - 3) : match.start()])
        while words and words[0].rstrip(".") in _NOT_NAMES_BARE:
            words = words[1:]
            opens_sentence = False
        while words and words[-1] in _CONNECTORS:
            words = words[:-1]
        if opens_sentence and len(words) == 1 and not any(ch.isdigit() for ch in words[0]) and words[0] not in known:
            continue
        name = re.sub(r"['’]s$", "", " ".join(words).rstrip(".,;:"))
        if len(words) == 1 and name.lower() in ABBREVIATIONS:
            continue  # "Rev. 4", "Ref. No. 12", "Fig. 3": a reference, not a name
        if len(name) >= 3 and not name.isdigit() and name not in found:
            found.append(name)
    for match in _CODE.finditer(text):
        code = match.group(0)
        if code not in found and not any(code in name for name in found):
            found.append(code)
    return found


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", ".") for n in _NUMBER.findall(text)}


# Words that end a subject when they follow it: "The Orvane water tower No. 1 | was built".
_SUBJECT_ENDS = frozenset(
    "is was are were has had have must can could will would may might should shall stands stood lies lay "
    "holds held runs ran carries carried serves served needs needed".split()
)
_SUBJECT_WORD = re.compile(r"^(?:[a-z][a-z\-]*|No\.?|no\.|#?\d+[A-Za-z]?)$")
_NOT_SUBJECT_WORDS = frozenset("of on in at to for from by with and or the a an near above below over under".split())


def _subject_tail(rest: str) -> str:
    """The words after a subject's name that still belong to it, when a verb follows them
    within a few words ("water tower No. 1" in "The Orvane water tower No. 1 was built"):
    without them, "It" in the next sentence would become "The Orvane", and every structure
    in Orvane would get the same subject."""
    words = rest.split()
    for count, word in enumerate(words[:6]):
        if word in _SUBJECT_ENDS:
            return " ".join(words[:count])
        if word in _NOT_SUBJECT_WORDS or not _SUBJECT_WORD.match(word):
            return ""
    return ""


def subject_of(sentence: str, known: frozenset[str] = frozenset()) -> str | None:
    """The noun phrase a sentence is about: its opening words up to its first name, and the
    words after the name that still belong to it. KNOWN: names the passage uses inside its
    sentences (names_used_inside), so that a one-word name can open a sentence.

    "The town of Brisk Harbour exports slate." -> "The town of Brisk Harbour"
    "The Orvane water tower No. 1 was built in 1989." -> "The Orvane water tower No. 1"
    """
    demonstrative = re.match(r"^(?:This|These)\s+(?=[A-Z])", sentence)
    if demonstrative:  # "This Marine Operations Manual (Rev. 4) applies ...": a name
        sentence = "The " + sentence[demonstrative.end():]
    elif _PRONOUN_START.match(sentence):
        return None
    names = entities_in(sentence, known)
    if not names:
        return None
    position = sentence.find(names[0])
    prefix = sentence[:position].split()
    if position < 0 or len(prefix) > 4:
        return None
    end = position + len(names[0])
    tail = _subject_tail(sentence[end:])
    return (sentence[:end] + (" " + tail if tail else "")).strip()


_TITLES = ("Engineer ", "Dr. ", "Dr ", "Mr ", "Mr. ", "Mrs ", "Mrs. ", "Ms ", "Ms. ", "Prof. ", "Professor ", "Sir ", "Judge ")
_PERSON_VERBS = re.compile(r"\b(designed|founded|invented|wrote|discovered|married|said|was born|died|led|signed)\b")


def looks_like_person(subject: str, sentence: str = "") -> bool:
    return subject.startswith(_TITLES) or bool(sentence and _PERSON_VERBS.search(sentence))


def restore_subject(sentence: str, thing: str | None, person: str | None = None) -> str | None:
    """SENTENCE with a leading pronoun replaced by what it stands for; None if unknown.

    THING is the last subject that is not a person (for it, its, they, their), PERSON the
    last one that is (for he, she, his, her). "This is ..." refers to a whole statement,
    which no noun restores.
    """
    match = _PRONOUN_START.match(sentence)
    if not match:
        return sentence
    pronoun = match.group(1)
    rest = sentence[match.end() :]
    first_word = rest.split()[0] if rest.split() else ""
    if pronoun in ("This", "These"):
        if first_word in ("is", "was", "are", "were", "means", "has", "have", "can", "will", "may", "shows"):
            return None
        return sentence  # "This valve ..." names its own subject
    subject = person if pronoun in ("He", "She", "His", "Her") else thing
    if not subject:
        return None
    subject_cased = subject[0].upper() + subject[1:]
    if pronoun in ("Its", "Their", "His", "Her"):
        owner = subject_cased + ("'" if subject_cased.endswith("s") else "'s")
        return f"{owner} {rest}"
    return f"{subject_cased} {rest}"


@dataclass
class Anchor:
    """A sentence of a chunk that a question can be asked about, ready to be an answer."""

    text: str  # standalone: subject restored where needed
    original: str  # as it stands in the chunk
    kind: str  # number, date, who, definition, why, fact
    entities: list[str]

    @property
    def restored(self) -> bool:
        return self.text != self.original


def sentence_kind(sentence: str) -> str:
    lowered = sentence.lower()
    if re.search(r"\b(because|so that|in order to|due to|therefore|thus|as a result)\b", lowered):
        return "why"
    if _YEAR.search(sentence):
        return "date"
    if _NUMBER.search(sentence):
        return "number"
    if re.search(r"\b(designed|founded|invented|wrote|discovered|built|led|created|signed)\b", lowered):
        return "who"
    if re.search(r"\b(is|are) (a|an|the)\b|\bmeans\b|\brefers to\b|\bis defined as\b|\bis called\b", lowered):
        return "definition"
    return "fact"


# Sentences that point elsewhere instead of stating a fact: "See Sec. 3.2 for the duties
# that apply", "Table 1 lists the berths". A question of them is answered by "see there".
_REFERENCE = re.compile(
    r"^(?:\d+\.\s+)?(?:See|Refer to|Cf\.)\s|"
    r"^(?:Table|Figure|Fig\.|Annex|Appendix|Section|Sec\.)\s+\S+\s+(?:lists|shows|gives|summari[sz]es|contains|sets out|describes)\b"
)


def _usable(sentence: str) -> bool:
    if _REFERENCE.match(sentence):
        return False
    words = sentence.split()
    if not 5 <= len(words) <= 60:
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    return letters >= 0.6 * len(sentence.replace(" ", "")) and sentence[-1:] in ".!)\"”"


# A subject that is a property of something, not a thing of its own: "The usual adult dose
# is 50 mg" says whose dose only through the paragraph it stands in.
_ATTRIBUTE_NOUNS = (
    "dose|dosage|depth|height|length|width|capacity|price|cost|fee|rate|speed|limit|temperature|pressure|weight|"
    "age|population|area|volume|duration|interval|frequency|size|diameter|output|yield|range|voltage|level|span|"
    "term|deadline|penalty|budget|maximum|minimum|charge|tariff|strength|concentration|life|lifetime"
)
_ATTRIBUTE_SUBJECT = re.compile(
    rf"^(?P<subject>The\s+(?:[a-z\-]+\s+){{0,3}}(?:{_ATTRIBUTE_NOUNS}))\s+(?=(?:is|was|are|were|must|should|may|can)\b)"
)
_SENTENCE_END = re.compile(r"[.!?:;)\"”]\s*$")
_HEADING_WORDS = 8


def qualify_attribute(sentence: str, thing: str | None) -> str:
    """SENTENCE with a property subject made the property of THING, the paragraph's named
    topic: "The usual adult dose is 50 mg" under Pindaprine -> "The usual adult dose of
    Pindaprine is 50 mg". Without it the answer would fit every medicine on the page, and
    the question ("What is the usual adult dose?") would be asked of none."""
    match = _ATTRIBUTE_SUBJECT.match(sentence)
    if not match or not thing or thing.lower() in sentence.lower():
        return sentence
    return f"{match.group('subject')} of {thing}{sentence[match.end('subject'):]}"


def _heading_line(paragraph: str) -> bool:
    """A line that is a heading, not a sentence: a few words and no end punctuation
    ("Pindaprine", "2.1 Valve KX-9"). A running header of a one-page document ("MERIDALE
    DISTRICT CLINIC | STAFF FORMULARY | ...") is longer, or split by bars."""
    words = paragraph.split()
    return 0 < len(words) <= _HEADING_WORDS and "|" not in paragraph and not _SENTENCE_END.search(paragraph)


def anchors_for_text(text: str, context_subject: str | None = None) -> list[Anchor]:
    """The sentences of a chunk that can stand alone as answers, in order.

    CONTEXT_SUBJECT (the chunk's heading) stands in for "it" in a first sentence; a heading
    line inside the chunk does so for the sentences below it. A line that is neither a
    heading nor ends like a sentence (a running header, a caption) names no subject: "It"
    after it still means the thing before.
    """
    anchors: list[Anchor] = []
    thing, person = heading_subject(context_subject), None
    known = names_used_inside(text)
    for paragraph in text.split("\n"):
        paragraph = paragraph.lstrip("- ").strip()
        if table_row_cells(paragraph):
            continue  # a table's row: its facts are asked cell by cell (table_facts)
        if _heading_line(paragraph):
            named = heading_subject(paragraph)
            if named and entities_in(named, known | frozenset(named.split())):
                thing, person = named, None
            continue
        if not _SENTENCE_END.search(paragraph):
            continue
        for sentence in split_sentences(paragraph):
            standalone = restore_subject(sentence, thing, person)
            if standalone is not None and thing and not looks_like_person(thing):
                standalone = qualify_attribute(standalone, thing)
            subject = subject_of(sentence, known)
            if subject and looks_like_person(subject, sentence):
                person = subject
            elif subject:
                thing = subject
            if standalone is None or not _usable(standalone):
                continue
            anchors.append(Anchor(standalone, sentence, sentence_kind(standalone), entities_in(standalone, known)))
    return anchors


SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-Z]\.)\s+")


def own_heading(heading_path: str | None) -> str | None:
    """The innermost heading of a passage's heading path ("2. Pilotage > 2.1 Tugs" -> "2.1 Tugs")."""
    return heading_path.split(" > ")[-1] if heading_path else None
# Headings that name a part of a document, never a thing a sentence's "it" can be.
_GENERIC_HEADINGS = frozenset(
    "scope introduction summary overview background purpose general definitions contents appendix annex "
    "notes references conclusion conclusions recommendations findings results discussion preface abstract".split()
)


def heading_subject(heading: str | None) -> str | None:
    """What a heading can stand for in a first sentence's "it": its words without the
    section number ("2.1 Valve KX-9" -> "Valve KX-9"); None for a heading that names a part
    of the document ("1. Scope", "Summary")."""
    if not heading:
        return None
    bare = SECTION_NUMBER.sub("", heading).strip()
    if not bare or bare.lower() in _GENERIC_HEADINGS:
        return None
    return bare


@dataclass
class TableFact:
    """One cell of a table, with its row's name and its column's: a question and its answer."""

    question: str
    answer: str
    row: str
    column: str
    value: str
    line: str  # the row as it stands in the passage
    wordings: tuple[str, ...] = ()  # the same question in other words

    @property
    def questions(self) -> list[str]:
        return [self.question, *self.wordings]


_ADJECTIVE_OF = {"depth": "deep", "length": "long", "height": "high", "width": "wide", "age": "old", "weight": "heavy"}
_UNIT = re.compile(r"^(.*?)\s*\(([^()]{1,12})\)$")


def _column_words(column: str) -> tuple[str, str]:
    """A column's name as words inside a sentence and its unit: "Depth (m)" -> ("depth",
    "m"); "pH" and "NTU" keep their case."""
    match = _UNIT.match(column)
    name, unit = (match.group(1), match.group(2)) if match else (column, "")
    if name[:1].isupper() and name[1:].islower():
        name = name.lower()
    return name, unit


def table_facts(text: str) -> list[TableFact]:
    """A question about every cell of every table row in TEXT, answered by the cell with its
    row, its column (with the unit of its header) and the table's caption:
    "What is the depth of Oil Jetty?" -> "The depth of Oil Jetty is 16.8 m (Table 1: Berths)."
    """
    facts: list[TableFact] = []
    for line in text.split("\n"):
        parsed = table_row_cells(line.strip())
        if not parsed:
            continue
        cells, caption = parsed
        (corner, row), rest = cells[0], cells[1:]
        for column, value in rest:
            # Under an empty corner the rows name what is asked ("Capital") and the columns
            # what it is asked of ("France"); else the other way round ("Depth" of "Oil Jetty").
            name, unit = _column_words(column if corner else row)
            of = row if corner else column
            amount = f"{value} {unit}" if unit and not value.endswith(unit) else value
            where = f" in {caption}" if caption else ""
            source = f" ({caption})" if caption else ""
            verb = "are" if name.endswith("s") and not name.endswith("ss") else "is"
            # Two more wordings, so that a cell is asked three ways like a sentence's fact.
            adjective = _ADJECTIVE_OF.get(name.lower())
            wordings = (
                f"What {name} does {caption} give for {of}?" if caption else f"What {name} is given for {of}?",
                f"How {adjective} is {of}{where}?" if adjective else f"What {name} {verb} listed for {of}{where}?",
            )
            facts.append(TableFact(f"What {verb} the {name} of {of}{where}?",
                                   f"The {name} of {of} {verb} {amount}{source}.", row, column, value, line.strip(), wordings))
    return facts


def only_places_a_thing(name: str, sentence: str) -> bool:
    """Whether NAME stands in SENTENCE only as the place of a thing it names ("approved the
    specifications for the weir at Brisk Harbour"): a relation of the weir's, not of the
    sentence's subject."""
    return bool(re.search(rf"\bthe\s+[a-z]+(?:\s+[a-z]+)?\s+(?:at|in|of|on|near)\s+(?:the\s+)?{re.escape(name)}\b", sentence))
