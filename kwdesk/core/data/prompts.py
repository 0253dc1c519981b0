"""Prompts for the teacher: instructions, few-shot examples and output schemas.

Few-shot examples matter more than instructions to a small teacher; the examples are
about general knowledge so that they never leak into a user's data. A change to a prompt
is a new PROMPT_VERSION, recorded on every pair it makes.
"""

from __future__ import annotations

import json

PROMPT_VERSION = "2026-11-2"

QUESTION_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 8, "maxLength": 200}},
    "required": ["question"],
}
TEXT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "minLength": 20, "maxLength": 1500}},
    "required": ["text"],
}

_QUESTION_SYSTEM = (
    "You write one quiz question that the given sentence answers. The question names what it is "
    "about, asks for the key fact of the sentence, and does not contain the answer."
)

# Examples by the kind of sentence (see anchors.sentence_kind).
_QUESTION_SHOTS: dict[str, list[tuple[str, str]]] = {
    "number": [
        ("The Eiffel Tower is 330 metres tall.", "How tall is the Eiffel Tower?"),
        ("A standard violin has four strings.", "How many strings does a standard violin have?"),
        ("Water boils at 100 degrees Celsius at sea level.", "At what temperature does water boil at sea level?"),
    ],
    "date": [
        ("Marie Curie discovered polonium in 1898.", "In which year did Marie Curie discover polonium?"),
        ("The Berlin Wall fell on 9 November 1989.", "When did the Berlin Wall fall?"),
        ("Gustave Eiffel designed the Eiffel Tower in 1887.", "When did Gustave Eiffel design the Eiffel Tower?"),
    ],
    "who": [
        ("Alexander Fleming discovered penicillin.", "Who discovered penicillin?"),
        ("Gustave Eiffel designed the Eiffel Tower.", "Who designed the Eiffel Tower?"),
        ("Jane Austen wrote Pride and Prejudice.", "Who wrote Pride and Prejudice?"),
    ],
    "definition": [
        ("A sonnet is a poem of fourteen lines.", "What is a sonnet?"),
        ("Photosynthesis is the process by which plants turn light into chemical energy.", "What is photosynthesis?"),
        ("The Danube is the second-longest river in Europe.", "Which river is the second-longest in Europe?"),
    ],
    "why": [
        ("Leaves look green because chlorophyll reflects green light.", "Why do leaves look green?"),
        ("Ice floats because it is less dense than liquid water.", "Why does ice float on water?"),
        ("Bridges have expansion joints so that they can move with changes in temperature.", "Why do bridges have expansion joints?"),
    ],
    "fact": [
        ("The Danube flows into the Black Sea.", "Into which sea does the Danube flow?"),
        ("Penguins live mostly in the Southern Hemisphere.", "Where do penguins mostly live?"),
        ("The Mona Lisa hangs in the Louvre in Paris.", "Where does the Mona Lisa hang?"),
    ],
}


def _shots(pairs: list[tuple[str, str]], label: str, key: str) -> list[dict]:
    messages: list[dict] = []
    for source, target in pairs:
        messages.append({"role": "user", "content": f"{label}: {source}"})
        messages.append({"role": "assistant", "content": json.dumps({key: target})})
    return messages


def _few_shot(system: str, shots: list[tuple[str, str]], label: str, key: str, given: str) -> list[dict]:
    """System instructions, worked examples as earlier turns, then the real input."""
    return [{"role": "system", "content": system}, *_shots(shots, label, key), {"role": "user", "content": f"{label}: {given}"}]


def question_messages(sentence: str, kind: str) -> list[dict]:
    shots = _QUESTION_SHOTS.get(kind, _QUESTION_SHOTS["fact"])
    return _few_shot(_QUESTION_SYSTEM, shots, "Sentence", "question", sentence)


_ENTITY_SYSTEM = (
    "You write one quiz question about the named subject that the given sentence answers. "
    "The question must name the subject and must not contain the answer."
)
_ENTITY_SHOTS = [
    ("Subject: penicillin\nSentence: Alexander Fleming discovered penicillin in 1928.", "Who discovered penicillin?"),
    ("Subject: the Louvre\nSentence: The Mona Lisa hangs in the Louvre in Paris.", "Which famous painting hangs in the Louvre?"),
    ("Subject: Black Sea\nSentence: The Danube flows into the Black Sea.", "Which river flows into the Black Sea?"),
]


def entity_question_messages(entity: str, sentence: str) -> list[dict]:
    return _few_shot(_ENTITY_SYSTEM, _ENTITY_SHOTS, "Subject and sentence", "question", f"Subject: {entity}\nSentence: {sentence}")


# Openers make paraphrases differ from their source even for a teacher that likes to copy.
PARAPHRASE_OPENERS = ["Can you tell me", "What is", "I would like to know", "Please tell me"]
_PARAPHRASE_SYSTEM = (
    "Rewrite the question in different words, starting with the given opening. Keep every name and "
    "number. The new question must ask for exactly the same fact."
)
_PARAPHRASE_SHOTS = [
    ("Opening: Can you tell me\nQuestion: How tall is the Eiffel Tower?", "Can you tell me the height of the Eiffel Tower?"),
    ("Opening: What is\nQuestion: Who designed the Eiffel Tower?", "What is the name of the designer of the Eiffel Tower?"),
    ("Opening: I would like to know\nQuestion: Into which sea does the Danube flow?", "I would like to know which sea the Danube flows into?"),
    ("Opening: Please tell me\nQuestion: In which year did Marie Curie discover polonium?", "Please tell me when Marie Curie discovered polonium?"),
]


def paraphrase_messages(question: str, opener: str) -> list[dict]:
    return _few_shot(
        _PARAPHRASE_SYSTEM, _PARAPHRASE_SHOTS, "Opening and question", "question", f"Opening: {opener}\nQuestion: {question}"
    )


def paraphrase_schema(opener: str) -> dict:
    # The grammar makes the question start with the opener.
    schema = json.loads(json.dumps(QUESTION_SCHEMA))
    schema["properties"]["question"]["pattern"] = f"^{opener} [^\"\\\\]{{4,180}}[?]$"
    return schema


REPHRASE_STYLES = {
    "summary": "Rewrite the passage as a short plain summary in your own words.",
    "lecture": "Rewrite the passage as short lecture notes that a teacher would read out.",
    "dialogue": "Rewrite the passage as a short dialogue in which a student asks and a teacher answers.",
}
_REPHRASE_SYSTEM = (
    "You rewrite passages faithfully. Keep every name, number and date exactly as written. "
    "Add nothing that the passage does not say."
)


def rephrase_messages(passage: str, style: str) -> list[dict]:
    # The passage comes before the style, so the prompts of one passage share their start
    # and llama.cpp evaluates the passage once for all styles (its KV cache is reused).
    return [
        {"role": "system", "content": _REPHRASE_SYSTEM},
        {"role": "user", "content": f"Passage: {passage}\n\n{REPHRASE_STYLES[style]}"},
    ]
