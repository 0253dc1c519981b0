"""Content words: what is left of a text without its function words, for overlap checks
(is an answer supported, do two questions ask the same, does an answer hold a fact)."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """
    a an the and or but if of in on at to for from by with without about into onto over under is are was
    were be been being am do does did have has had can could should would will shall may might must this
    that these those it its they them their there here what which who whom whose when where why how
    not no yes so as than then too very also just only all any each every some such own same other
    you your we our he she his her i me my one ones much many more most
    """.split()
)
WORD = re.compile(r"[\w'’-]+")


def content_words(text: str) -> set[str]:
    return {w.lower().strip("'’-") for w in WORD.findall(text) if len(w) > 2 and w.lower() not in STOPWORDS}
