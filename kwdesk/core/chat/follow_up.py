"""Whether a question goes on from the conversation before it, or stands on its own.

A small model given the earlier turns answers a new question about the earlier topic: in a
walk through the app, three closed-book questions about different facts were all answered
about the Larkspur Dam, the subject of the first. So a question is answered with the
conversation before it only when it refers back: a pronoun that stands for something said
before ("How high is it?"), a continuation ("And the other one?", "What about Bergen?",
"Why?"), or words that point back ("the same", "your last answer"). Anything else is asked
on its own, as a new conversation would ask it.
"""

from __future__ import annotations

import re

_STARTS = re.compile(
    r"^(?:and|but|also|so|then|or|what about|how about|why|why not|how come|and why|really|"
    r"tell me more|go on|continue|explain|elaborate|more)\b", re.IGNORECASE)
_POINTS_BACK = re.compile(
    r"\b(?:it|its|it's|itself|they|them|their|theirs|themselves|he|him|his|she|her|hers|this|these|those|"
    r"the same|the other|the former|the latter|that one|the previous|the last answer|your answer|"
    r"you said|you mentioned|above|earlier|before that)\b", re.IGNORECASE)
_THAT_AT_END = re.compile(r"\bthat\s*[?.!]*$", re.IGNORECASE)  # "Why is that?", "Explain that."
SHORT = 3  # words: "Why?", "And Bergen?", "How much?" cannot stand alone


def refers_back(question: str) -> bool:
    """Whether QUESTION needs the conversation before it to be understood."""
    text = question.strip()
    if not text:
        return False
    if len(text.split()) <= SHORT:
        return True
    return bool(_STARTS.match(text) or _POINTS_BACK.search(text) or _THAT_AT_END.search(text))
