"""Checks on generated data: is a question usable, is an answer supported by its source,
and which pairs repeat each other. Each check returns the reason it failed, so that a
job can say what it threw away and why.
"""

from __future__ import annotations

import json
import re

from kwdesk.core.data.prompts import PARAPHRASE_OPENERS
from kwdesk.core.text.anchors import (
    entities_in,
    looks_like_person,
    numbers_in,
    subject_of,
)
from kwdesk.core.text.fact_questions import (
    opens_with_agent,
    split_subject,
    without_lead_in,
)
from kwdesk.core.text.words import STOPWORDS, WORD, content_words

_DEGENERATE = re.compile(
    r"answer to (this|the) question|\bthe (sentence|text|passage|document|paragraph)\b|according to|"
    r"\bquestion\b.*\bquestion\b|^what is the question",
    re.IGNORECASE,
)
MAX_ANSWER_WORDS = 400


def parse_json_field(text: str, field: str) -> str | None:
    """The string FIELD of the JSON object in TEXT; None when it does not parse."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        match = re.search(r"\{.*\}", text or "", re.DOTALL)
        if not match:
            return None
        try:
            value = json.loads(match.group(0))
        except json.JSONDecodeError:
            return None
    if isinstance(value, dict) and isinstance(value.get(field), str):
        return value[field].strip()
    return None


_PURPOSE_Q = re.compile(r"\b(?:purpose|why|what for|reason|used for)\b", re.IGNORECASE)
_PURPOSE_A = re.compile(r"\b(?:because|so that|in order to|purpose|used (?:for|to)|serves?|designed (?:for|to)|"
                        r"intended|due to|since|as a result)\b", re.IGNORECASE)
_KNOWN_FOR_Q = re.compile(r"\b(famous|known|renowned|noted|notable)\s+for\b", re.IGNORECASE)
_STATUS_Q = re.compile(r"\bstatus\b", re.IGNORECASE)
_STATUS_A = re.compile(r"\b(?:status|open|closed|active|in force|valid|expired|suspended|pending)\b", re.IGNORECASE)
_WHEN_Q = re.compile(r"^(?:when\b|in (?:what|which) year\b|what (?:year|date|month)\b)", re.IGNORECASE)
_DATE_A = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2}|january|february|march|april|may|june|july|august|september|october|"
                     r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|daily|weekly|monthly|"
                     r"yearly|every|before|after|within|until|between|during|midnight|noon|morning|evening|night|"
                     r"at (?:least|night|noon|midnight))\b|\b\d{1,2}[:.]\d{2}\b", re.IGNORECASE)
_WHERE_Q = re.compile(r"^where\b|\blocation\b|\blocated\b", re.IGNORECASE)
_WHERE_A = re.compile(r"\b(?:in|at|on|near|beside|next to|off|above|below|inside|outside|between|towards|into|to)\s+(?:the\s+)?[A-Z0-9]")
_WHO_Q = re.compile(r"^(?:who|whom)\b|\bby whom\b|\bby\?$", re.IGNORECASE)
_WHO_A = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Prof|Capt|Sir|Judge)\.?\s+[A-Z]|\b(?:Engineer|Professor|Doctor)\s+[A-Z]|"
                    r"\bby\s+(?:the\s+)?[A-Z]|\b[A-Z][a-z]+\s+[A-Z][a-z]+\s+(?:designed|founded|wrote|led|leads|signed|"
                    r"approved|built|invented|discovered)\b")
_HOW_Q = re.compile(r"^how\s+(?:does|do|did|is|are|was|were|can|should|must|to)\b", re.IGNORECASE)
_HOW_A = re.compile(r"\b(?:by|with|through|using|via|because|when|after|before|if|until|once|then|first)\b",
                    re.IGNORECASE)
_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
                          r"forty|fifty|sixty|hundred|thousand|dozen)\b", re.IGNORECASE)
_COUNT_Q = re.compile(r"^how (?:many|much)\b", re.IGNORECASE)
_WHAT_IS_Q = re.compile(r"^what (?:is|are|was|were) (?:the |a |an )?[^?]+\?$", re.IGNORECASE)
_DEFINES_A = re.compile(r"\b(?:is|are|was|were) (?:a|an|the|one)\b|\bmeans\b|\brefers? to\b|\bconsists? of\b|"
                        r"\bleads?\b|\bcalled\b", re.IGNORECASE)
_RELATED_Q = re.compile(r"\brelated\?$", re.IGNORECASE)
_ENUMERATOR_START = re.compile(r"^\(?\d{1,3}[.)]\s+")


def answer_lacks(question: str, answer: str) -> str | None:
    """What QUESTION asks that ANSWER does not hold, by the kind of question: a purpose, a
    status, a time, a place, a person, a way, a count, what a thing is. None when the answer
    can answer it. A small teacher asks "What is the purpose of the weir?" of "The weir was
    built in 1963": the pair teaches nothing, and a model trained on it learns to answer a
    purpose with a year. Measured on tests/labelled/ (tests/test_pair_quality.py)."""
    q = question.strip()
    a = _ENUMERATOR_START.sub("", answer.strip())  # "3. Muster the crews": the item's number is no count
    if _PURPOSE_Q.search(q) and not _PURPOSE_A.search(a):
        return "asks a purpose the answer does not give"
    if _STATUS_Q.search(q) and not _STATUS_A.search(a):
        return "asks a status the answer does not give"
    # "What is the town of Brisk Harbour famous for?" of what the town exports
    known = _KNOWN_FOR_Q.search(q)
    if known and known.group(1).lower() not in a.lower():
        return "asks what it is known for; the answer does not say"
    if _WHEN_Q.search(q) and not _DATE_A.search(a):
        return "asks when; the answer holds no time"
    if _WHERE_Q.search(q) and not _WHERE_A.search(a):
        return "asks where; the answer names no place"
    if _WHO_Q.search(q) and not _WHO_A.search(a) and not opens_with_agent(a):
        return "asks who; the answer names no one"
    if _COUNT_Q.search(q) and not numbers_in(a) and not _NUMBER_WORD.search(a):
        return "asks how many; the answer has no number"
    if _HOW_Q.search(q) and not _RELATED_Q.search(q) and not _HOW_A.search(a):
        return "asks how; the answer does not say how"
    if _asks_for_step(q, answer):
        return None  # the step's number names it: an instruction has no subject to name
    words = q.split()
    if _WHAT_IS_Q.match(q) and len(words) <= 6 and " of " not in q and not _DEFINES_A.search(a):
        return "asks what it is; the answer does not say"
    a = without_lead_in(a)  # "Note 1: Chart datum is ...": the subject is what follows the label
    subject = subject_of(a)
    named = any(name.lower() in q.lower() for name in entities_in(a))  # "Who designed the Larkspur Dam?"
    asks_for_subject = bool(_WHO_Q.search(q) and subject and looks_like_person(subject, a))  # "Who leads ...?" of "Dr. Ilse Tamberg leads ..."
    if subject and not named and not asks_for_subject and not content_words(subject) & content_words(q):
        return "does not name the answer's subject"
    # "How many cubic meters does a pump station have?" of "The design flow of the pump
    # station is ...": any pump station is not the one the passage speaks of.
    for word in content_words(subject or (split_subject(a) or ("",))[0]):
        if re.search(rf"\ban?\s+{re.escape(word)}\b", q, re.IGNORECASE) and re.search(rf"\bthe\s+(?:\w+\s+)?{re.escape(word)}\b",
                                                                                       a, re.IGNORECASE):
            return "asks about any such thing, not the one the answer names"
    # A thing known by its place ("the quay wall at Brisk Harbour"): without the place the
    # question names no one thing, and two documents' quay walls would answer it.
    qualified = re.search(r"\b(?:at|in|of|on|near)\s+(?:the\s+)?(?P<name>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)", subject or "")
    if qualified and qualified.group("name").lower() not in q.lower() and not re.search(r"\b(?:where|which)\b", q, re.IGNORECASE):
        return "does not name the answer's subject"
    # A subject without a name ("Operators record ..."): the question must still name it,
    # unless it asks for it (who, which). "What does the end of each watch record?" does not.
    if subject is None and not named and not re.search(r"\b(?:who|whom|whose|which)\b", q, re.IGNORECASE):
        split = split_subject(a)
        first = a.split()[0] if a.split() else ""
        opening = split[0] if split else (first if first[:1].isupper() and first.lower() not in STOPWORDS else "")
        if opening and not _stems(opening) & _stems(q):
            return "does not name the answer's subject"
    return None


def _asks_for_step(question: str, answer: str) -> bool:
    """ "What is step 2 of the emergencies procedure?" of "2. Close the sluice gates ...":
    the question names the step by its number, the answer is that step."""
    step = re.search(r"\bstep (\d{1,2})\b", question, re.IGNORECASE)
    return bool(step and re.match(rf"^\(?{step.group(1)}[.)]\s", answer.strip()))


def question_problem(question: str | None, source: str, answer: str, *, must_mention: str | None = None) -> str | None:
    """Why QUESTION is unusable for ANSWER taken from SOURCE, or None when it is fine."""
    if question is None:
        return "output did not parse"
    words = question.split()
    if not question.endswith("?"):
        return "not a question"
    if not 3 <= len(words) <= 30:
        return "too short or too long"
    if _DEGENERATE.search(question):
        return "refers to the text instead of the subject"
    lowered = [w.lower() for w in words]
    if max(lowered.count(w) for w in set(lowered)) >= 4:
        return "repeats itself"
    if any(len(w) > 30 for w in words):
        return "garbled"
    # Every name and number in the question must come from the source.
    source_lower = source.lower()
    invented = [name for name in entities_in(question) if name.lower() not in source_lower]
    if invented or not numbers_in(question) <= numbers_in(source):
        return "mentions names or numbers not in the source"
    if not content_words(question) & content_words(answer) and not _asks_for_step(question, answer):
        return "not about its answer"
    # A question in the passage's terms may bring a word or two of its own ("famous",
    # "purpose"); one that brings more asks about what the passage does not say ("How many
    # cubic metres does the flow flow at the mean rate per second?" of "approx. 59.1 m3/s").
    # A question about a name (the entities strategy) is asked of the sentences that mention
    # it, and the small teacher fills it with words of its own ("Which ship approved ...?",
    # "the main export of mackerel"): there, none (session 10: 0 of 4 right in a sample).
    own_words = 0 if must_mention else 2
    if len(_stems(question) - _stems(source) - _REWORDING_WORDS) > own_words:
        return "asks about what the passage does not say"
    if re.search(r"\b(the\s+[a-z]+)\b.+\b\1\b", question, re.IGNORECASE):
        return "names the same thing twice"  # "What was the weir that the weir drains to Orvane?"
    answer_numbers = numbers_in(answer)
    if len(answer_numbers) == 1 and answer_numbers <= numbers_in(question) and not _asks_for_step(question, answer):
        return "gives its answer away"
    every = re.search(r"\bevery\s+\d+(?:[.,]\d+)?\s+\w+", question)
    if every and every.group(0).lower() in answer.lower():
        return "gives its answer away"  # "How often is a check made every 6 months?"
    if answer.rstrip(".").lower() in question.lower():
        return "gives its answer away"
    if must_mention and must_mention.lower() not in question.lower():
        return "does not name its subject"
    lacks = answer_lacks(question, answer)
    if lacks or _asks_for_step(question, answer):
        return lacks  # a step is named by its number: the other steps share its procedure's words
    return roundtrip_problem(question, answer, source)


def _stems(text: str) -> set[str]:
    """Content words without their endings, so that "rise" meets "rises" and "inspected"
    meets "inspection" halfway ("inspect")."""
    stems = set()
    for word in content_words(text):
        word = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
        stems.add(re.sub(r"(?:ing|ion|ed)$", "", word) if len(word) > 5 else word)
    return stems


def _pointing(question: str, sentence: str) -> int:
    """How strongly QUESTION points at SENTENCE: the content words they share, and twice
    over the names and numbers of the question that the sentence holds."""
    lowered = sentence.lower()
    names = [n for n in entities_in(question) if n.lower() in lowered]
    return len(_stems(question) & _stems(sentence)) + 2 * len(names) + \
        2 * len(numbers_in(question) & numbers_in(sentence))


def roundtrip_problem(question: str, answer: str, passage: str) -> str | None:
    """Asked against its own passage, does QUESTION lead back to ANSWER? A reader that
    needs no model (the bundled teacher is too small to read, Alberti et al. 2019 use a QA
    model): the passage's sentences ranked by how strongly the question points at them. A
    question that points more strongly at another sentence asks about that one, or about
    something its answer does not say: "Which river feeds the reservoir?" of a sentence about
    the reservoir's dam, when the next sentence names the river."""
    from kwdesk.core.text.sentences import split_sentences

    own = _pointing(question, answer)
    for line in passage.split("\n"):
        for sentence in split_sentences(line.strip()):
            if sentence in answer or answer in sentence or sentence.endswith("?"):
                continue  # the answer itself, or a question (a paraphrase's original)
            if _pointing(question, sentence) > own:
                return "another sentence of the passage answers it"
            # "What does the operator record in the log book before the end of each watch?"
            # of one of four such sentences, each with another thing recorded: no one answer
            if _answers_differently(question, answer, sentence):
                return "several sentences of the passage answer it differently"
    return None


def _holds_every_word(sentence: str, question: str, stems: set[str] | None = None) -> bool:
    """Whether SENTENCE holds every content word of QUESTION (bar an opener's), its names
    and its numbers."""
    asked = _stems(question) - _OPENER_STEMS
    lowered = sentence.lower()
    return bool(asked) and asked <= (stems if stems is not None else _stems(sentence)) and \
        all(n.lower() in lowered for n in entities_in(question)) and numbers_in(question) <= numbers_in(sentence)


def _answers_differently(question: str, answer: str, other: str, other_stems: set[str] | None = None) -> bool:
    """Both ANSWER and OTHER hold all that QUESTION asks with, and say different things:
    the question cannot tell them apart. A question whose words only one of them holds is
    told apart ("How high is X?" of "X stands 40 m": "high" matches neither, but X does)."""
    return _holds_every_word(other, question, other_stems) and _holds_every_word(answer, question) and \
        _beyond(other, question) != _beyond(answer, question)


class DocumentSentences:
    """The sentences of one document, read once, for the round trip across its passages:
    "What does the operator record in the log book before the end of each watch?" of one of
    four such sentences in four passages has no one answer, though its own passage holds
    only one of them (read by hand, BENCHMARKS.md session 11)."""

    def __init__(self, texts) -> None:
        from kwdesk.core.text.sentences import split_sentences

        self._sentences = [
            (sentence, _stems(sentence))
            for text in texts for line in text.split("\n") for sentence in split_sentences(line.strip())
            if sentence and not sentence.endswith("?")
        ]

    def ambiguity(self, question: str, answer: str) -> str | None:
        """Why QUESTION has no one answer in the document, or None: another sentence points
        at it as strongly as ANSWER does and says something else."""
        if _asks_for_step(question, answer) or not _holds_every_word(answer, question):
            return None
        asked = _stems(question) - _OPENER_STEMS
        for sentence, its_stems in self._sentences:
            if asked <= its_stems and not (sentence in answer or answer in sentence) and \
                    _answers_differently(question, answer, sentence, its_stems):
                return "several sentences of the document answer it differently"
        return None


def _beyond(sentence: str, question: str) -> set[str]:
    """What SENTENCE says that QUESTION does not ask with: its answer to it."""
    return content_words(sentence) - content_words(question)


# Words an opener or a rewording brings that ask for nothing new.
_REWORDING_WORDS = frozenset(
    "tell know like please name called year date time happen happened many much often long high tall deep "
    "wide far old big large size number amount place location located kind type sort role does height depth "
    "length width distance interval frequency designer founder builder author maker person step procedure "
    "maximum minimum reference".split()
)


# The words of a paraphrase's opener ("I would like to know ..."): they ask for nothing.
_OPENER_STEMS = frozenset("tell know like please".split())


# Words that ask for a kind of answer without its question word: "What is the name of the
# designer of X?" asks for a person as "Who designed X?" does.
_KIND_WORDS = {
    "person": re.compile(r"\b(?:who|whom|whose|name|person|people|designer|architect|engineer|author|founder|builder|"
                         r"leader|head|owner|manager|director|inventor|by whom)\b", re.IGNORECASE),
    "time": re.compile(r"\b(?:when|year|date|time|month|day|period|century|decade)\b", re.IGNORECASE),
    "place": re.compile(r"\b(?:where|location|place|located|site|position|direction|sea|river|lake|town|city|country)\b",
                        re.IGNORECASE),
    "count": re.compile(r"\b(?:number|many|much|count|amount|quantity|total)\b", re.IGNORECASE),
}


# The paraphrase openers that ask nothing themselves ("What is" does: it is a question word).
_OPENER = re.compile(r"^(?:" + "|".join(re.escape(o) for o in PARAPHRASE_OPENERS if not o.lower().startswith("what"))
                     + r")[,:]?\s+", re.IGNORECASE)


def _answer_kind(question: str) -> str:
    """What a question wants, by its question words: a person, a time, a place, a count, or
    "other" (what, which, how: too varied to tell apart by words)."""
    q = _OPENER.sub("", question.strip())
    for kind, pattern in (("person", _WHO_Q), ("time", _WHEN_Q), ("place", _WHERE_Q), ("count", _COUNT_Q)):
        if pattern.search(q):
            return kind
    return "other"


def paraphrase_problem(new: str, original: str, answer: str) -> str | None:
    """Why NEW is not the question ORIGINAL in other words (ANSWER answers both), or None:
    it drops a name or a number, it adds something neither the question nor its answer
    holds ("the volume of the flow at sea level in cubic metres"), or its grammar broke
    where the small teacher mixes two tenses ("when did the dock be commissioned")."""
    if normalized(new) == normalized(original):
        return "same as the original"
    if not all(n.lower() in new.lower() for n in entities_in(original)):
        return "drops a name of the original"
    # "the water tower No. 1" asked as "the water tower" has no one right answer.
    if not numbers_in(original) <= numbers_in(new):
        return "drops a number of the original"
    if re.search(r"\b(?:not|never|no)\b", original, re.IGNORECASE) and not re.search(r"\b(?:not|never|no)\b", new, re.IGNORECASE):
        return "drops the negation of the original"
    added = _stems(new) - _stems(original) - _stems(answer) - {w.rstrip("s") for w in _REWORDING_WORDS} - _REWORDING_WORDS
    if added:
        return "adds what the original does not ask"
    if re.search(r"\bdid\b(?:\s+\S+){0,8}?\s+(?:be|was|were|is|are)\b", new, re.IGNORECASE):
        return "ungrammatical"
    # A named thing must stay whole: "the Brisk Harbour dry dock" asked as "when the Brisk
    # Harbour was commissioned to dry dock" is another question.
    for name in entities_in(original):
        tail = re.match(rf"{re.escape(name)}((?:\s+[a-z]+){{1,3}}?)(?=\s+(?:[a-z]+ed|was|were|is|are|has|have|had|does|do|did|"
                        rf"must|can|will|be|built|made)\b)", original[original.find(name):])
        if tail and (name + tail.group(1)).lower() not in new.lower():
            return "breaks up a name of the original"
    # "What does hot work on board require?" -> "what happens when hot work on board requires?";
    # "At what pressure does the valve operate?" -> "how to operate the valve at maximum pressure?"
    for other in (r"\bwhat happens\b", r"\bhow to\b"):
        if re.search(other, new, re.IGNORECASE) and not re.search(other, original, re.IGNORECASE):
            return "asks something else"
    # "Who approved the authorisation for X?" -> "What is the authorisation for X?": a person
    # asked for as a thing, a time or a place as something else
    wanted, asked = _answer_kind(original), _answer_kind(new)
    if wanted != "other" and asked != wanted and not (asked == "other" and _KIND_WORDS[wanted].search(new)):
        return "asks for another kind of answer than the original"
    lost = re.search(r"\b(?:was|were|is|are)\b.*\b(\w+ed)\?$", original)
    if lost and new.endswith(f"{lost.group(1)}?") and not re.search(r"\b(?:was|were|is|are|be|been|has|have|had)\b", new):
        return "ungrammatical"
    return None


def support_problem(answer: str, source: str, *, min_overlap: float = 0.8) -> str | None:
    """Why ANSWER is not supported by SOURCE (a cheap lexical check), or None."""
    if not answer.strip():
        return "empty answer"
    if len(answer.split()) > MAX_ANSWER_WORDS:
        return "answer too long"
    if not numbers_in(answer) <= numbers_in(source):
        return "answer has numbers not in the source"
    source_lower = source.lower()
    if any(name.lower() not in source_lower for name in entities_in(answer)):
        return "answer has names not in the source"
    words = content_words(answer)
    if words and len(words & content_words(source)) / len(words) < min_overlap:
        return "answer not supported by the source"
    return None


def _holds(statement: str, fact: str) -> bool:
    return fact in numbers_in(statement) if fact[:1].isdigit() else fact in statement.lower()


def joins_claims(sentence: str, statements: list[str]) -> bool:
    """Whether SENTENCE (of a rephrasing) joins facts that no one statement of its passage
    holds together, about different things: "The contractor Tollgate Marine ensures that
    any incident is reported within 24 hours", from a sentence about the contractor and one
    about incidents. Facts of one subject told together stay ("The Larkspur Dam, designed
    in 1931, is 212 metres high": both statements name the dam). STATEMENTS: the passage's
    sentences, their subjects restored (text/anchors)."""
    facts = [n.lower() for n in entities_in(sentence)] + sorted(numbers_in(sentence))
    if len(facts) < 2 or any(all(_holds(st, f) for f in facts) for st in statements):
        return False
    subject = subject_of(sentence)
    names = entities_in(subject) if subject else []
    if not names:
        return True
    about = [st for st in statements if names[0].lower() in st.lower()]
    return not all(any(_holds(st, f) for st in about) for f in facts)


# "Teacher: ...", "Q: ..." in a dialogue; "- ..." in notes: what is said follows.
_SPEAKER = re.compile(r"^(?:[-*•]\s+)*(?:(?:[A-Z][a-z]+|Q|A)\s*:\s+)?")
_PRONOUN = re.compile(r"^(?:It|Its|They|Their|He|She|His|Her)\b")
CLAIM_SUPPORT = 0.6  # share of a statement's content words that its subject's sentences hold


def claim_subject(sentence: str) -> set[str]:
    """The stems of what a statement of a rephrasing is about ("The communication of the
    canal lock was revised in 2018" -> communication, canal, lock); empty when it names
    nothing itself (a pronoun, an instruction)."""
    text = without_lead_in(_SPEAKER.sub("", sentence.strip()))
    if _PRONOUN.match(text):
        return set()
    subject = subject_of(text)
    if subject is None:
        split = split_subject(text)
        subject = split[0] if split else None
    if subject is None:  # "Pilotage, a requirement for vessels ..., must be ordered ...": before its apposition
        apposed = re.match(r"^(?P<subject>[A-Z][\w'’-]*(?:\s+[\w'’-]+){0,5}?),\s+(?:a|an|the|which|who)\b", text)
        subject = apposed.group("subject") if apposed else None
    return _stems(subject) if subject else set()


def unsupported_claim(sentence: str, statements: list[str], about: set[str]) -> str | None:
    """Why SENTENCE of a rephrasing states what no sentence of its passage with the same
    subject states, or None. ABOUT: the stems of its subject (claim_subject, or the one
    before it for a pronoun). The sentences of the passage that name the subject must hold
    every fact of the statement (its names and numbers) and most of its words: "The
    communication of the canal lock was revised in 2018" of a passage in which the canal
    lock's infrastructure was revised in 2018 is rejected, though every word of it is in the
    passage. A question states nothing."""
    text = _SPEAKER.sub("", sentence.strip())
    if text.endswith("?"):
        return None
    if not about:
        return "stands for something it does not name" if _PRONOUN.match(text) else None
    group = [st for st in statements if about <= _stems(st)]
    if not group:
        return "its subject is in no sentence of the passage"
    said = " ".join(group).lower()
    facts = [n for n in entities_in(text) if n.lower() not in said] + \
        [n for n in numbers_in(text) if not any(_holds(st, n) for st in group)]
    if facts:
        return "states a fact the passage gives of something else"
    words = _stems(text)
    held = set().union(*(_stems(st) for st in group))
    if words and len(words & held) / len(words) < CLAIM_SUPPORT:
        return "says of its subject what the passage does not"
    return None


def supported_sentences(text: str, source: str) -> str:
    """The sentences of a rephrasing that its source supports, joined; others are dropped:
    those with words, names or numbers the source lacks, and those that join facts of
    different sentences into a claim the source never makes."""
    from kwdesk.core.text.anchors import anchors_for_text
    from kwdesk.core.text.sentences import split_sentences

    # Line by line, as the passage's paragraphs and list items stand: joined, a list's items
    # would run into one "sentence" that supports what none of them says.
    statements = [a.text for a in anchors_for_text(source)] + \
        [s for line in source.splitlines() for s in split_sentences(line.lstrip("- ").strip())]

    kept = []
    seen: set[str] = set()
    about: set[str] = set()
    # A text that ends without a stop was cut off at the token limit: its last words are no statement.
    text = text.rstrip()
    if text and text[-1] not in ".!?\"')»”’:;":
        text = re.sub(r"(?:(?<=[.!?])\s+|\n)[^\n.!?]*$", "", text) if re.search(r"[.!?]\s|\n", text) else ""
    for line in text.splitlines():
        sentences = split_sentences(line.strip())
        # A "sentence" of symbols or a word or two says nothing (small teachers emit emoji
        # runs), and a sentence said twice says nothing new (small teachers loop).
        good = []
        for s in sentences:
            # A pronoun stands for what the sentence before it was about.
            about = claim_subject(s) or (about if _PRONOUN.match(_SPEAKER.sub("", s.strip())) else set())
            if normalized(s) in seen or len(content_words(s)) < 3 or support_problem(s, source, min_overlap=0.7):
                continue
            if joins_claims(s, statements) or unsupported_claim(s, statements, about):
                continue
            seen.add(normalized(s))
            good.append(s)
        if good:
            kept.append(" ".join(good))
    return "\n".join(kept)


_LABEL = re.compile(r"^\s*(rewrite|rewritten|summary|passage|lecture notes|notes|dialogue|answer|text)\s*:\s*", re.IGNORECASE)


def strip_label(text: str) -> str:
    """Drop a label a small teacher puts before its text ("Summary: ...")."""
    return _LABEL.sub("", text.strip(), count=1)


def copied_fraction(text: str, source: str) -> float:
    """The share of TEXT's word triples that stand in SOURCE: 1.0 for a plain copy."""
    words, source_words = normalized(text).split(), normalized(source).split()
    triples = {tuple(words[i : i + 3]) for i in range(len(words) - 2)}
    if not triples:
        return 1.0 if words and " ".join(words) in " ".join(source_words) else 0.0
    source_triples = {tuple(source_words[i : i + 3]) for i in range(len(source_words) - 2)}
    return len(triples & source_triples) / len(triples)


def normalized(text: str) -> str:
    return " ".join(w.lower() for w in WORD.findall(text))


def near_duplicate(a: str, b: str, threshold: float = 0.85) -> bool:
    """Word-set overlap (Jaccard) of two texts at or above THRESHOLD."""
    wa, wb = set(normalized(a).split()), set(normalized(b).split())
    if not wa or not wb:
        return wa == wb
    return len(wa & wb) / len(wa | wb) >= threshold


class DuplicateFilter:
    """Remembers the questions (or texts) kept so far; says which new ones repeat them."""

    def __init__(self, existing: list[tuple[str, str]] = ()) -> None:
        self._exact: set[tuple[str, str]] = set()
        self._by_answer: dict[str, list[str]] = {}
        for question, answer in existing:
            self.add(question, answer)

    def problem(self, question: str, answer: str) -> str | None:
        key = (normalized(question), normalized(answer))
        if key in self._exact:
            return "exact duplicate"
        for other in self._by_answer.get(key[1], ()):
            if near_duplicate(question, other):
                return "near duplicate"
        return None

    def add(self, question: str, answer: str) -> None:
        key = (normalized(question), normalized(answer))
        self._exact.add(key)
        self._by_answer.setdefault(key[1], []).append(question)
