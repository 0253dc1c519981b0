"""Questions built by rule from a sentence's shape, each aimed at one fact the sentence holds.

A small teacher asks "What is the purpose of the weir?" of "The weir was built in 1963";
a rule cannot: it asks "When was the weir built?" because the sentence says when. For the
common shapes of a fact (when, who, how high, how many, how often, how long, where, what a
thing does or is) the sentence is split into its subject and its predicates, and each
predicate that holds a fact gives a question whose answer is that fact, in two wordings
where English has two. Nothing here calls a model; the questions pass the same checks as
the teacher's (data/checks.question_problem) and are counted apart from them.

Answer-aware generation after Lewis et al. 2019 / Alberti et al. 2019: the target (a year,
a name, a number with its unit) is chosen first and the question is made for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kwdesk.core.text.anchors import SECTION_NUMBER, entities_in
from kwdesk.core.text.words import STOPWORDS

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = rf"(?:(?:\d{{1,2}}\s+)?(?:{_MONTHS})\s+(?:\d{{1,2}},\s+)?)?(?:1[0-9]{{3}}|20[0-9]{{2}})"
_WHEN = re.compile(rf"\b(?:in|on|since|from|by|until)\s+(?P<date>{_DATE})\b")
_NUM = r"\d+(?:[.,]\d+)?"
_SPELLED = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred"
_COUNT = rf"(?:{_NUM}|{_SPELLED})"
_LENGTH_UNITS = r"(?:metres|meters|m|feet|ft|foot|km|kilometres|kilometers|miles|cm|mm|yards|inches)"
_DIMENSIONS = {"high": "high", "tall": "tall", "long": "long", "deep": "deep", "wide": "wide", "thick": "thick"}
_NOUN_OF_DIMENSION = {"height": "high", "depth": "deep", "length": "long", "width": "wide", "thickness": "thick"}
_TIME_UNITS = r"(?:seconds|minutes|hours|days|weeks|months|years|operating hours|shifts|cycles)"

# Verbs that end a subject: the predicate starts at the first of them. A word in -s or
# -ed may be a plural or an adjective ("the station's valves must", "the reinforced wall
# is"): before an auxiliary it counts as the verb only when it is a known one.
_STRONG_VERB = re.compile(r"\s(?=(?:is|are|was|were|must|shall|should|may|can|will|has|have|had)\b)")
_WEAK_VERB = re.compile(r"\s(?=(?:[a-z]+s|[a-z]+ed|built|made|wrote|led|ran|drew|held|sold|laid)\b)")
_AUXILIARY = re.compile(r"^(?P<aux>is|are|was|were|must|shall|should|may|can|will)\s+(?:(?P<neg>not)\s+)?(?:(?P<be>be)\s+)?")

# Participles of the passive and the active past they come from ("was built" -> "Who built").
_IRREGULAR_PAST = {
    "built": "built", "rebuilt": "rebuilt", "written": "wrote", "drawn": "drew", "made": "made", "led": "led",
    "run": "ran", "given": "gave", "taken": "took", "begun": "began", "laid": "laid", "held": "held", "paid": "paid",
    "sold": "sold", "known": "knew", "found": "found", "set": "set", "shown": "showed", "seen": "saw",
    "chosen": "chose", "cast": "cast", "dug": "dug", "sunk": "sank", "kept": "kept", "sent": "sent", "won": "won",
}
_PARTICIPLE = r"(?:[a-z]+ed|" + "|".join(_IRREGULAR_PAST) + ")"
# Roles and bodies that do things: "The harbour master assigns ..." -> "Who assigns ...?"
_AGENT = re.compile(
    r"\b(?:master|officer|manager|engineer|inspector|operator|captain|pilot|director|contractor|supervisor|"
    r"crew|staff|chief|owner|agent|authority|council|committee|board|department|company|institute|team|"
    r"physician|nurse|doctor|surgeon|court|tenant|landlord|buyer|seller|party|employer|employee|driver|"
    r"technician|administrator|user|clerk|registrar|secretary|chair|chairman|president|minister)s?$",
    re.IGNORECASE,
)
# Verbs whose object is what a "What does X ...?" question asks for.
_TRANSITIVE = frozenset(
    "exports imports produces makes supplies sells grows mines carries handles treats serves requires needs uses "
    "contains includes covers protects feeds drives powers stores controls regulates measures monitors "
    "connects links replaces prevents reduces provides generates".split()
)
_STATIVE_WORDS = (r"compulsory|required|mandatory|forbidden|prohibited|allowed|permitted|closed|open|available|"
                  r"restricted|needed|necessary")
_STATIVE_ADJECTIVES = re.compile(
    rf"^(?P<adj>{_STATIVE_WORDS})\s+(?P<prep>for|to|between|from|during|in|on|at|after|before|until)\s+(?P<rest>.+)$"
)


@dataclass(frozen=True)
class FactQuestion:
    """A question built by rule, the kind of fact it asks for, and that fact as the sentence
    words it (what the answer must hold for the question to be right)."""

    question: str
    shape: str  # when, who, how-high, how-many, how-often, how-long, where, what-does, what-is, which
    target: str


def base_form(verb: str) -> str:
    """The bare verb of a third-person form: stands -> stand, carries -> carry, has -> have."""
    special = {"has": "have", "does": "do", "goes": "go", "is": "be"}
    if verb in special:
        return special[verb]
    if verb.endswith(("sses", "shes", "ches", "xes", "zzes", "oes")):
        return verb[:-2]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    return verb[:-1] if verb.endswith("s") and not verb.endswith("ss") else verb


def _lower_first(subject: str, sentence: str, known: frozenset[str] = frozenset()) -> str:
    """The subject as it stands inside a question: "The Larkspur Dam" -> "the Larkspur Dam",
    "Valve assembly KX-9" -> "valve assembly KX-9"; a name that opens it keeps its capital
    ("Lake Orvane", "Dr. Ilse Tamberg", and a one-word name among KNOWN: "Pindaprine")."""
    first = subject.split()[0]
    if first in known:
        return subject
    names = entities_in(sentence)
    if any(name.split()[0] == first and len(name.split()) > 1 and subject.startswith(name) for name in names):
        return subject
    if (first.isupper() and len(first) > 1) or first in ("Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "St.", "Mt."):
        return subject  # an acronym, a code, a title
    return first[0].lower() + first[1:] + subject[len(first):]


def split_subject(sentence: str) -> tuple[str, str] | None:
    """SENTENCE as (subject, predicate) at its first verb, or None when it has no plain
    subject (a clause before it, a question, an instruction, a subject of over 12 words)."""
    text = re.sub(r"^\(?\d{1,3}[.)]\s+", "", sentence.strip()).rstrip(".!").strip()  # a list item's number
    if not text or not text[0].isupper() or "?" in text:
        return None
    if re.match(r"^(?:According|If|When|While|After|Before|Unless|Although|Because|In|On|At|For|During|Since|To|See|Note)\b", text):
        return None
    strong, weak = _STRONG_VERB.search(text), _WEAK_VERB.search(text)
    # A plural subject with a bare verb: "Operators record the readings ..." (its nouns in
    # -s would otherwise be taken for the verb).
    plural = _PLURAL_SUBJECT.match(text)
    if plural and (strong is None or strong.start() > plural.end()):
        subject = plural.group("subject")
        if subject.split()[0] not in ("It", "They", "He", "She", "This", "These", "There", "Its", "Their"):
            return subject, text[plural.end("subject"):].strip()
        return None
    match = strong
    if weak and (strong is None or (weak.start() < strong.start() and _known_verb(text[weak.end():].split()[0]))):
        match = weak
    if not match:
        return None
    subject, predicate = text[: match.start()].strip(), text[match.end():].strip()
    if not subject or "," in subject or len(subject.split()) > 12 or not predicate:
        return None
    if subject.split()[0] in ("It", "They", "He", "She", "This", "These", "There", "That", "Those", "Its", "Their"):
        return None
    return subject, predicate


_KNOWN_VERBS = frozenset(
    "rises flows runs drains empties lies stands sits leads discharges originates operates freezes assigns approves "
    "signs issues keeps checks inspects orders controls decides reviews".split()
)


_BARE_VERBS = ("record|report|inspect|check|order|assign|approve|sign|issue|keep|maintain|use|need|require|carry|"
               "serve|supply|produce|handle|close|open|test|review|monitor|operate|clean|replace|submit|notify|inform|"
               "follow|apply|meet")
_PLURAL_SUBJECT = re.compile(
    rf"^(?P<subject>(?:The\s+)?(?:[A-Za-z]+\s+)?[A-Za-z]+s(?:\s+of\s+(?:the\s+)?[A-Za-z]+(?:\s+[A-Za-z]+)?)?)\s+(?={_BARE_VERBS}\b)"
)
# A standard, a procedure or a rule by its code: what "follow" and "meet" are followed by.
_CODE_OBJECT = re.compile(r"^(?P<code>(?:[A-Z][\w.]*\s+){0,3}(?:No\.\s*)?[A-Z]*-?\d[\w.:/-]*)")


def _known_verb(word: str) -> bool:
    return word in _TRANSITIVE or word in _KNOWN_VERBS or word in _IRREGULAR_PAST.values()


def _predicates(predicate: str) -> list[str]:
    """A predicate of joined verbs split at "and": "rises in the Hills and flows into Lake
    Orvane" -> two. A part that does not open with a verb stays with the one before."""
    parts = re.split(r",?\s+and\s+(?=(?:[a-z]+s|is|are|was|were|has|must)\b)", predicate)
    return [p.strip() for p in parts if p.strip()]


def _trim(text: str) -> str:
    return text.strip().rstrip(".,;:").strip()


# A pointer or a label before the sentence proper: "According to Fig. 7 the dry dock drains
# towards Sorrel Point", "Note 1: Chart datum is ...". What follows is the fact.
_LEAD_IN = re.compile(
    r"^(?:According to (?:Fig\.|Figure|Table|Sec\.|Section|Annex|Appendix|Chart|Drawing)\s*[\w.-]+,?|"
    r"(?:Note|NB|N\.B\.)(?:\s+\d+)?:)\s+(?=\S)"
)
# "A pressure of 4.7 bar must not be exceeded during documentation work": the value opens
# the sentence, and the question asks for it by its measure.
_MEASURE_SUBJECT = re.compile(
    rf"^(?:A|An|The)\s+(?P<mod>(?:maximum|minimum|total|nominal|rated)\s+)?(?P<noun>[a-z]+)\s+of\s+"
    rf"(?P<value>(?:approx\.\s+|about\s+)?{_NUM}\s*[^\s,;]+)\s+(?P<pred>(?:must|shall|should|may|can|is|are|will)\b[^,;]+)$"
)
_STEP = re.compile(r"^\(?(?P<n>\d{1,2})[.)]\s+(?P<step>[A-Z][a-z]+\b.+)$")
_IMPERATIVE = frozenset(
    "sound inform close open muster call report check stop start switch turn press notify evacuate raise lower "
    "isolate wear remove record keep send ask wait move secure fit test clean fill drain lock unlock sign".split()
)


def without_lead_in(sentence: str) -> str:
    """SENTENCE without a pointer or label before it ("According to Fig. 7", "Note 1:"), and
    with "This" before a name made "The" ("This Marine Operations Manual applies ...")."""
    sentence = re.sub(r"^This\s+(?=[A-Z][a-z])", "The ", sentence)
    lead = _LEAD_IN.match(sentence)
    if not lead:
        return sentence
    rest = sentence[lead.end():]
    return rest[0].upper() + rest[1:]


def fact_questions(sentence: str, heading: str | None = None, known: frozenset[str] = frozenset()) -> list[FactQuestion]:
    """The questions SENTENCE answers, built by rule, one or two wordings for each fact it
    holds; empty for a sentence of no known shape. HEADING (its section's, without number)
    names what a numbered step of a procedure belongs to. KNOWN: one-word names its passage
    uses (anchors.names_used_inside), which keep their capital in a question."""
    step = _step(sentence, heading)
    if step:
        return step
    sentence = without_lead_in(sentence.strip())
    measured = _measure_first(sentence)
    if measured:
        return measured
    split = split_subject(sentence)
    if split is None:
        return []
    subject, predicate = split
    # A bracketed remark in the subject ("the Manual (Rev. 4)") is no part of its name: asked
    # with it, the question would give a number of its answer away.
    subj = re.sub(r"\s*\([^)]*\)", "", _lower_first(subject, sentence, known))
    found: list[FactQuestion] = []
    for part in _predicates(predicate):
        found += _questions_of(subj, part)
    found += _place_in_subject(subject, subj, sentence)
    seen: set[str] = set()
    unique = []
    for fq in found:
        if fq.question.lower() not in seen:
            seen.add(fq.question.lower())
            unique.append(fq)
    return unique


def _step(sentence: str, heading: str | None) -> list[FactQuestion]:
    """ "1. Sound the general alarm ..." under "4. Emergencies" -> "What is step 1 of the
    emergencies procedure?" A numbered instruction is a fact of its procedure: which step
    comes when."""
    match = _STEP.match(sentence.strip())
    if not match or not heading or match.group("step").split()[0].lower() not in _IMPERATIVE:
        return []
    section = SECTION_NUMBER.sub("", heading).strip().rstrip(".:")
    if not section or len(section.split()) > 6:
        return []
    name = section if section.split()[0].isupper() and len(section.split()[0]) > 1 else section.lower()
    n = match.group("n")
    target = _trim(match.group("step"))
    return [FactQuestion(f"What is step {n} of the {name} procedure?", "which", target),
            FactQuestion(f"In the {name} procedure, what is done in step {n}?", "which", target),
            FactQuestion(f"What must be done in step {n} of the {name} procedure?", "which", target)]


def _measure_first(sentence: str) -> list[FactQuestion]:
    match = _MEASURE_SUBJECT.match(sentence.rstrip(".").strip())
    if not match:
        return []
    mod, noun, pred = match.group("mod") or "", match.group("noun"), _trim(match.group("pred"))
    value = _trim(match.group("value"))
    out = [FactQuestion(f"What {mod}{noun} {pred}?", "which", value)]
    limit = re.match(r"^must not be (?P<how>exceeded|passed|surpassed)\s+(?P<when>(?:during|in|for|at|on)\s+.+)$", pred)
    if limit and not mod:
        out.append(FactQuestion(f"What is the maximum {noun} {limit.group('when')}?", "which", value))
    below = re.match(r"^must not (?:fall|drop) below\b", pred)
    if below and not mod:
        out.append(FactQuestion(f"What is the minimum {noun}?", "which", value))
    return out


def _questions_of(subj: str, part: str) -> list[FactQuestion]:
    out: list[FactQuestion] = []
    never = _NEVER_WITH.match(part)
    if never:
        return _never_with(subj, never)
    aux = _AUXILIARY.match(part)
    if aux:
        rest = part[aux.end():]
        verb = aux.group("aux")
        passive = re.match(rf"^(?:first\s+|originally\s+|last\s+)?(?P<part>{_PARTICIPLE})\b(?P<tail>.*)$", rest)
        if aux.group("neg"):
            return out  # "is not required": a rule would ask a question it answers wrongly
        if passive and (verb in ("is", "are", "was", "were") or aux.group("be")):
            out += _passive(subj, verb, passive.group("part"), passive.group("tail"), bool(aux.group("be")))
        elif verb in ("is", "are", "was", "were"):
            out += _copula(subj, verb, rest)
        return out
    words = part.split()
    verb = words[0]
    rest = " ".join(words[1:])
    if verb in ("has", "have", "had", "holds", "contains", "employs", "comprises", "includes", "serves", "houses"):
        count = re.match(rf"^(?:about |around |nearly |some |over |up to )?(?P<n>{_COUNT})\s+(?P<noun>[a-z]+(?:\s+[a-z]+)?)", rest)
        if count and not re.match(_LENGTH_UNITS + r"\b", count.group("noun")):
            noun = count.group("noun").split()
            noun = " ".join(noun if noun[-1].endswith("s") else noun[:1])
            do = "did" if verb == "had" else ("do" if verb == "have" else "does")
            out.append(FactQuestion(f"How many {noun} {do} {subj} {'have' if verb in ('has', 'have', 'had') else base_form(verb)}?",
                                    "how-many", count.group("n")))
            return out
        measure = re.match(rf"^an?\s+(?P<mod>(?:maximum|minimum|total|mean|average|usable)\s+)?(?P<noun>[a-z]+)\s+of\s+(?P<value>(?:about |some )?{_NUM}\s*\S+)", rest)
        if measure:
            noun, mod = measure.group("noun"), (measure.group("mod") or "")
            out.append(FactQuestion(f"What is the {mod}{noun} of {subj}?", "which", _trim(measure.group("value"))))
            if noun in _NOUN_OF_DIMENSION and not mod:
                out.append(FactQuestion(f"How {_NOUN_OF_DIMENSION[noun]} is {subj}?", "how-" + _NOUN_OF_DIMENSION[noun],
                                        _trim(measure.group("value"))))
            return out
    if re.fullmatch(_BARE_VERBS, verb):
        out += _bare_present(subj, verb, rest)
    elif re.fullmatch(r"[a-z]+s", verb) and verb not in ("is", "has", "was"):
        out += _active_present(subj, verb, rest)
    elif re.fullmatch(_PARTICIPLE, verb):
        out += _active_past(subj, verb, rest)
    return out


# "must never be given together with Moxaodine": a rule that names what must not meet it.
_NEVER_WITH = re.compile(
    rf"^(?P<aux>must|should|may|can)\s+(?P<neg>never|not)\s+be\s+(?P<part>{_PARTICIPLE})\s+"
    r"(?P<with>(?:together\s+)?with|alongside)\s+(?P<what>[A-Z][\w'’\-]*(?:\s+(?:of\s+)?[A-Z][\w'’\-]*)*)"
)


def _never_with(subj: str, match: re.Match) -> list[FactQuestion]:
    """ "X must never be given together with Y" -> "What must X never be given together
    with?" and, as "together" goes both ways, "What must never be given together with X?"."""
    aux, neg, part, what = match.group("aux"), match.group("neg"), match.group("part"), match.group("what")
    with_ = match.group("with")
    out = [FactQuestion(f"What {aux} {subj} {neg} be {part} {with_}?", "which", what)]
    if with_ != "with":
        out.append(FactQuestion(f"What {aux} {neg} be {part} {with_} {subj}?", "which", what))
    return out


def _passive(subj: str, aux: str, participle: str, tail: str, modal: bool) -> list[FactQuestion]:
    out: list[FactQuestion] = []
    be = aux if not modal else f"{aux} {subj} be"
    asked = f"{be} {subj}" if not modal else be
    when = _WHEN.search(tail)
    if when and not modal:
        out += _when_questions(asked, subj, participle, when.group("date"), aux)
    span = re.match(r"^(?P<mid>(?:\s+(?:to|for)\s+[a-z][a-z\s]*?)?)\s+(?P<span>(?:between|during)\s+[^,;]+|"
                    r"at night|in (?:the )?(?:winter|summer|spring|autumn|morning|evening)|on (?:Sundays|weekends|holidays))\b", tail)
    if span and not when and not modal:
        out.append(FactQuestion(f"When {asked} {participle}{span.group('mid')}?", "when", _trim(span.group("span"))))
    every = re.search(rf"\bevery\s+(?P<n>(?:{_NUM}\s+)?[a-z]+(?:\s+{_TIME_UNITS})?)", tail)
    if every:
        out.append(FactQuestion(f"How often {asked} {participle}?", "how-often", f"every {every.group('n')}"))
        if re.match(_NUM, every.group("n")):
            out.append(FactQuestion(f"At what interval {asked} {participle}?", "how-often", f"every {every.group('n')}"))
    ahead = re.search(rf"\b(?P<span>(?:at least |no later than |up to )?{_COUNT}\s+{_TIME_UNITS})\s+(?P<rel>before|after|ahead of)\s+(?P<event>[^,;]+)", tail)
    if ahead:
        out.append(FactQuestion(f"How long {ahead.group('rel')} {_trim(ahead.group('event'))} {asked} {participle}?",
                                "how-long", ahead.group("span")))
        out.append(FactQuestion(f"How many {ahead.group('span').split()[-1]} {ahead.group('rel')} {_trim(ahead.group('event'))} "
                                f"{asked} {participle}?", "how-long", ahead.group("span")))
    purpose = re.match(r"^(?P<mid>\s+(?:at|in|by|to)\s+(?:the\s+)?[a-z]+(?:\s+[a-z]+)?)?\s+for\s+"
                       r"(?P<what>(?!the\b|a\b|an\b|\d)[a-z][a-z\s\-]*?)\s*$", tail)
    if purpose and not modal and not when:
        mid = purpose.group("mid") or ""
        out.append(FactQuestion(f"What {asked} {participle}{mid} for?", "which", _trim(purpose.group("what"))))
        out.append(FactQuestion(f"For what {asked} {participle}?", "which", _trim(purpose.group("what"))))
    by = re.search(r"\b(?:by|to a design by|under the direction of)\s+(?P<who>(?:the\s+)?[A-Z][\w.'’-]*(?:\s+(?:of\s+)?[A-Z][\w.'’-]*)*)", tail)
    if by:
        past = _IRREGULAR_PAST.get(participle, participle)
        verb = "designed" if "design by" in tail[: by.end()] else past
        if aux in ("was", "were") and not modal:
            out.append(FactQuestion(f"Who {verb} {subj}?", "who", by.group("who")))
        # "By whom was the Larkspur Dam designed?", "By whom must pilotage be ordered?": the
        # same target in the sentence's own voice
        designed = "designed" if verb == "designed" else participle
        out.append(FactQuestion(f"By whom {be if modal else f'{aux} {subj}'} {designed}?", "who", by.group("who")))
    return out


def _copula(subj: str, verb: str, rest: str) -> list[FactQuestion]:
    out: list[FactQuestion] = []
    dimension = re.match(rf"^(?:about |some |nearly |over )?(?P<value>{_NUM}\s*{_LENGTH_UNITS})\s+(?P<adj>{'|'.join(_DIMENSIONS)})\b", rest)
    if dimension:
        adj = dimension.group("adj")
        out.append(FactQuestion(f"How {adj} {verb} {subj}?", f"how-{adj}", dimension.group("value")))
        return out
    value = re.match(rf"^(?:approx\.\s+|about\s+|some\s+|nearly\s+|around\s+|over\s+)?(?P<value>{_NUM}\s*(?:[a-zA-Z%°][\w/%°³²]*)?)(?=[\s,;.]|$)", rest)
    of = re.match(r"^the\s+(?P<noun>[a-z]+(?:\s+[a-z\-]+){0,2})\s+of\s+(?P<thing>.+)$", subj)
    if value and of:
        target = _trim(value.group("value"))
        if target.split()[-1].lower() in STOPWORDS:  # "12,400 in 2011": no unit
            target = " ".join(target.split()[:-1])
        out.append(FactQuestion(f"What {verb} {subj}?", "which", target))
        # A value with its unit is also asked by the unit: "How many mg is the usual adult dose
        # of X?" (the wording a reader uses: "How many milligrams ...", "How many metres ...").
        unit = target.split()[-1] if len(target.split()) == 2 else ""
        if unit and unit.isalpha() and unit.lower() not in STOPWORDS and of.group("noun") not in _NOUN_OF_DIMENSION:
            out.append(FactQuestion(f"How many {unit} {verb} {subj}?", "how-many", target))
        # "The usual adult dose of X is 50 mg, taken every 6 hours": how often, too.
        taken = re.search(rf",\s+(?P<how>taken|given|used|applied|repeated|measured|checked)\s+every\s+"
                          rf"(?P<n>(?:{_NUM}\s+)?{_TIME_UNITS})\b", rest)
        if taken:
            out.append(FactQuestion(f"How often {verb} {subj} {taken.group('how')}?", "how-often",
                                    f"every {taken.group('n')}"))
        if of.group("noun") in _NOUN_OF_DIMENSION:
            out.append(FactQuestion(f"How {_NOUN_OF_DIMENSION[of.group('noun')]} {verb} {of.group('thing')}?",
                                    "how-" + _NOUN_OF_DIMENSION[of.group("noun")], target))
            return out
        does = "did" if verb in ("was", "were") else ("do" if of.group("thing").endswith("s") else "does")
        out.append(FactQuestion(f"What {of.group('noun')} {does} {of.group('thing')} have?", "which", target))
        return out
    stative = _STATIVE_ADJECTIVES.match(rest)
    timed = re.match(rf"^(?P<adj>{_STATIVE_WORDS})\s+(?P<mid>(?:to|for)\s+[a-z][a-z\s]*?)\s+(?P<span>(?:between|during|from|after|before|until)\s+.+)$", rest)
    if timed:
        out.append(FactQuestion(f"When {verb} {subj} {timed.group('adj')} {timed.group('mid')}?", "when", _trim(timed.group("span"))))
        return out
    if stative:
        adj, prep, what = stative.group("adj"), stative.group("prep"), _trim(stative.group("rest"))
        if prep in ("between", "from", "during", "after", "before", "until"):
            out.append(FactQuestion(f"When {verb} {subj} {adj}?", "when", what))
        elif prep == "for" and what.split()[0].endswith("s"):
            out.append(FactQuestion(f"For which {what.split()[0]} {verb} {subj} {adj}?", "which", what))
        return out
    place = re.match(r"^(?:located |situated |found )?(?P<prep>on|in|at|near|beside|off)\s+(?P<where>(?:the\s+)?[A-Z][\w'’-]*(?:\s+(?:of\s+)?[A-Z][\w'’-]*)*)", rest)
    if place:
        out.append(FactQuestion(f"Where {verb} {subj}?", "where", place.group("where")))
        return out
    definition = re.match(r"^(?:a|an|the)\s+(?P<what>[a-z][^,;]+)", rest)
    if definition and len(subj.split()) <= 6:
        out.append(FactQuestion(f"What {verb} {subj}?", "what-is", _trim(definition.group("what"))))
        if not entities_in(subj):  # a term ("chart datum"), not a named thing
            out.append(FactQuestion(f"What {'does' if verb == 'is' else 'do'} {subj} mean?", "what-is",
                                    _trim(definition.group("what"))))
    return out


def _active_present(subj: str, verb: str, rest: str) -> list[FactQuestion]:
    out: list[FactQuestion] = []
    bare = base_form(verb)
    rest = _trim(rest)
    if not rest:
        return out
    move = re.match(r"^(?P<prep>in|into|from|to|towards|through|at|on|near|beside|above|below)\s+(?P<where>(?:the\s+)?[A-Z][\w'’-]*(?:\s+(?:of\s+)?[A-Z][\w'’-]*)*)", rest)
    if move and verb in ("rises", "flows", "runs", "drains", "empties", "lies", "stands", "sits", "leads", "discharges", "originates"):
        out.append(FactQuestion(f"Where does {subj} {bare}?", "where", move.group("where")))
        # A second wording by the direction: "drains towards Orvane", "flows into Lake Orvane"
        if move.group("prep") == "towards":
            out.append(FactQuestion(f"In which direction does {subj} {bare}?", "where", move.group("where")))
        elif move.group("prep") == "into":
            out.append(FactQuestion(f"What does {subj} {bare} into?", "where", move.group("where")))
        return out
    height = re.match(rf"^(?P<value>{_NUM}\s*{_LENGTH_UNITS})\s+(?P<where>above|below|over|under)\s+(?P<ref>[^,;]+)", rest)
    if height:
        adj = "high" if height.group("where") in ("above", "over") else "deep"
        out.append(FactQuestion(f"How {adj} {height.group('where')} {_trim(height.group('ref'))} does {subj} {bare}?",
                                f"how-{adj}", height.group("value")))
        return out
    duration = re.match(rf"^(?P<particle>(?:over|up|out|down)\s+)?for\s+(?P<span>(?:about |around |nearly |up to )?{_COUNT}\s+{_TIME_UNITS})(?P<tail>.*)$", rest)
    if duration:
        particle = (duration.group("particle") or "").strip()
        tail = _trim(duration.group("tail"))
        words = " ".join(w for w in (bare, particle, tail) if w)
        out.append(FactQuestion(f"How long does {subj} {words}?", "how-long", duration.group("span")))
        out.append(FactQuestion(f"For how many {duration.group('span').split()[-1]} does {subj} {words}?", "how-long",
                                duration.group("span")))
        return out
    pressure = re.match(rf"^at\s+an?\s+(?P<mod>(?:maximum|minimum|nominal|rated)\s+)?(?P<noun>[a-z]+)\s+of\s+(?P<value>{_NUM}\s*\S+)", rest)
    if pressure:
        mod, noun = pressure.group("mod") or "", pressure.group("noun")
        out.append(FactQuestion(f"At what {mod}{noun} does {subj} {bare}?", "which", _trim(pressure.group("value"))))
        out.append(FactQuestion(f"What is the {mod}{noun} of {subj}?", "which", _trim(pressure.group("value"))))
        return out
    applies = re.match(r"^to\s+(?P<what>.+)$", rest)
    if verb == "applies" and applies:
        what = _trim(applies.group("what"))
        out.append(FactQuestion(f"What does {subj} apply to?", "what-does", what))
        # "To what does X apply?" has the same words (a near duplicate): ask by what is covered
        every = re.match(r"^(?:every|each|all|any)\s+(?P<noun>[a-z]+?)s?\b", what)
        second = f"Which {every.group('noun')}s does {subj} apply to?" if every else f"What is the scope of {subj}?"
        out.append(FactQuestion(second, "what-does", what))
        return out
    if _AGENT.search(_head(subj)) or _PERSON_TITLE.match(subj):
        out.append(FactQuestion(f"Who {verb} {rest}?", "who", subj))
        if verb in _AGENT_NOUN and rest.startswith("the "):
            out.append(FactQuestion(f"Who is the {_AGENT_NOUN[verb]} of {rest}?", "who", subj))
    counted = re.match(rf"^(?P<n>{_COUNT})\s+(?P<noun>[a-z]+s)\b", rest)
    if verb in _TRANSITIVE and counted:
        out.append(FactQuestion(f"How many {counted.group('noun')} does {subj} {bare}?", "how-many", counted.group("n")))
    elif verb in _TRANSITIVE:
        obj = re.sub(r"^(?:mostly|mainly|chiefly|only|also)\s+", "", rest)
        out.append(FactQuestion(f"What does {subj} {bare}?", "what-does", obj))
        if verb in ("requires", "needs"):
            out.append(FactQuestion(f"What is {'required' if verb == 'requires' else 'needed'} for {subj}?", "what-does", obj))
    return out


def _bare_present(subj: str, verb: str, rest: str) -> list[FactQuestion]:
    """ "Operators record the readings in the log book before the end of each watch." ->
    "When do operators record the readings in the log book?" Only the when: "What do
    operators record?" has a different answer in every sentence of that shape."""
    code = _CODE_OBJECT.match(_trim(rest))
    if verb in ("follow", "apply", "meet") and code:
        target = _trim(code.group("code"))
        out = [FactQuestion(f"What do {subj} {verb}?", "what-does", target)]
        if target.startswith("Ref"):
            out.append(FactQuestion(f"Which reference do {subj} {verb}?", "which", target))
            out.append(FactQuestion(f"What reference number do {subj} {verb}?", "which", target))
        return out
    timed = re.match(r"^(?P<what>.+?)\s+(?P<when>(?:before|after|within|at the (?:start|end) of|by the end of)\s+.+)$", _trim(rest))
    if not timed or len(timed.group("what").split()) > 10:
        return []
    return [FactQuestion(f"When do {subj} {verb} {timed.group('what')}?", "when", timed.group("when"))]


def _head(subject: str) -> str:
    """A noun phrase's head word: the last before its first preposition ("the duty officer
    of the authority" -> "officer", "hot work on board" -> "work")."""
    words = re.split(r"\s+(?:of|on|in|at|for|with|from|to|under|over|by)\s+", subject)[0].split()
    return words[-1] if words else ""


def opens_with_agent(sentence: str) -> bool:
    """Whether SENTENCE's subject is a role or a body that acts ("The harbour master
    assigns ..."): the answer to a "Who ...?" question without a person's name."""
    split = split_subject(sentence)
    return bool(split and _AGENT.search(_head(split[0])))


def _active_past(subj: str, verb: str, rest: str) -> list[FactQuestion]:
    """ "Engineer Maren Oskarsdottir designed the Larkspur Dam in 1931." -> who designed the
    dam, when was it designed."""
    out: list[FactQuestion] = []
    obj = re.match(r"^(?P<obj>(?:the\s+)?[A-Z][\w.'’-]*(?:\s+(?:of\s+|for\s+)?[A-Z][\w.'’-]*)*|the\s+[a-z]+(?:\s+[a-z]+)?\s+[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)", rest)
    if not obj:
        # "approved the maintenance for the water tower at Brisk Harbour": a phrase that
        # ends in a name, up to a date or the end
        obj = re.match(r"^(?P<obj>the\s+[a-z][\w\s'’-]*?\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)(?=\s+(?:in|on)\s+\d|\s*$)", rest)
        if not obj or len(obj.group("obj").split()) > 12:
            return out
    thing = obj.group("obj")
    participle = {v: k for k, v in _IRREGULAR_PAST.items()}.get(verb, verb)
    head = _head(thing)  # "the specifications for the dry dock at Brisk Harbour": plural
    aux = "were" if head.endswith("s") and not head.endswith("ss") and not head[:1].isupper() else "was"
    out.append(FactQuestion(f"Who {verb} {thing}?", "who", subj))
    out.append(FactQuestion(f"By whom {aux} {thing} {participle}?", "who", subj))
    when = _WHEN.search(rest[obj.end():])
    if when:
        out += _when_questions(f"{aux} {thing}", thing, participle, when.group("date"), aux)
    return out


# The act a participle names, as a noun: "the year of construction of the Larkspur Dam" is a
# third wording of "when was it built" that shares none of its frame.
_ACT_NOUN = {"built": "construction", "constructed": "construction", "completed": "completion",
             "commissioned": "commissioning", "opened": "opening", "founded": "foundation", "established": "establishment",
             "issued": "issue", "installed": "installation", "published": "publication",
             "inaugurated": "inauguration", "launched": "launch", "refurbished": "refurbishment", "renovated": "renovation"}


def _when_questions(asked: str, subj: str, participle: str, date: str, aux: str) -> list[FactQuestion]:
    """When, in what year, and the year of the act: "When was the Larkspur Dam built?", "In
    what year was ...", "What is the year of construction of the Larkspur Dam?"."""
    out = [FactQuestion(f"When {asked} {participle}?", "when", date)]
    if re.fullmatch(r"1[0-9]{3}|20[0-9]{2}", date):
        out.append(FactQuestion(f"In what year {asked} {participle}?", "when", date))
        if participle in _ACT_NOUN and aux in ("was", "were"):
            out.append(FactQuestion(f"What is the year of {_ACT_NOUN[participle]} of {subj}?", "when", date))
    return out


# Who does what, as the one who does it: "leads the emergency team" -> "the leader of".
_AGENT_NOUN = {"leads": "leader", "heads": "head", "chairs": "chair", "manages": "manager", "directs": "director",
               "supervises": "supervisor", "coordinates": "coordinator", "owns": "owner", "operates": "operator"}
_PERSON_TITLE = re.compile(r"^(?:Dr|Mr|Mrs|Ms|Prof|Capt|Sir)\.?\s+[A-Z]")
_PLACE_NOUNS = r"(?:River|Lake|Sea|Bay|Hills?|Mountains?|Valley|Harbour|Harbor|Port|Canal|Estuary|Coast|Island|Street|Road|Square|Park)"


def _place_in_subject(subject: str, subj: str, sentence: str) -> list[FactQuestion]:
    """ "The Larkspur Dam on the Veltra River is ..." -> "Where is the Larkspur Dam?" """
    match = re.match(rf"^(?P<head>.+?)\s+(?P<prep>on|in|at|near|beside)\s+(?P<where>(?:the\s+)?(?:[A-Z][\w'’-]*\s+)*{_PLACE_NOUNS}|(?:the\s+)?{_PLACE_NOUNS}\s+of\s+[A-Z][\w'’-]*)$", subject)
    if not match:
        return []
    if not entities_in(match.group("head")):
        return []  # "the quay wall at Melkvik": without its place it names no one wall
    head = _lower_first(match.group("head"), sentence)
    verb = "are" if head.split()[-1].endswith("s") and not head.endswith("ss") else "is"
    return [FactQuestion(f"Where {verb} {head}?", "where", match.group("where"))]
