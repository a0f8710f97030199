"""What a question asks for, read with simple rules: its content terms, names, and intent.

The extractive answerer uses this to prefer the right kind of sentence: attributed speech for "what did X say",
figures for "how much", dates for "when", the byline for "who wrote".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from newsdesk.text import NAME_TOKEN
from retrieval.catalogue import query_terms
from retrieval.stemming import porter_stem

_QUESTION_WORDS = frozenset(
    "what who whom whose when where why how which did does do is are was were can could should would will has have "
    "had according tell give list name the a an in on of".split()
)
_SAY = re.compile(
    r"\b(?:what|how)\s+(?:did|does|has|have|do|had)\s+(.+?)\s+(?:say|said|tell|told|think|argue|claim|state|describe|"
    r"warn|note|add|respond|call|reply|answer|react|rebut|defend|explain|write|announce|admit|insist|claim)\b"
    r"|\baccording to\s+(.+?)(?:[,?]|$)|\bwhat\s+was\s+(.+?)(?:'s|’s)\s+(?:view|position|"
    r"argument|message|comment|response)",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\bhow\s+(?:much|many|big|large|long|old|far|high|low|fast|often)\b|\bwhat\s+(?:percentage|percent|share|"
    r"proportion|number|amount|figure|price|cost|sum|total|rate|value|score)\b|\bby how much\b",
    re.IGNORECASE,
)
_WHEN = re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b", re.IGNORECASE)
# Questions whose answer is a name: "who ...", "which band ...", "what game ...", "what is X called".
_WHO = re.compile(
    r"^\s*(?:who|whom|whose)\b|\bwhich\s+(?!of\b)\w+|\bwhat\s+(?:game|film|movie|band|group|song|album|book|show|"
    r"programme|program|company|firm|team|club|country|city|town|name|brand|product|title|party|award|prize)\b|"
    r"\bcalled\?\s*$",
    re.I,
)
_AUTHOR = re.compile(r"\bwho\s+(?:wrote|writes|authored|is the author)|\bauthor\b|\bbyline\b|\bwritten by\b", re.I)
_FOLLOW_UP = re.compile(
    r"\b(?:he|she|they|him|her|them|his|hers|their|it|its|this|that|these|those|else|more|other|another|also)\b",
    re.IGNORECASE,
)
_NAME = NAME_TOKEN


@dataclass
class QuestionInfo:
    text: str
    terms: list[str]
    stems: list[str]
    names: list[str] = field(default_factory=list)
    name_stems: set[str] = field(default_factory=set)
    speaker: str | None = None
    speaker_names: list[str] = field(default_factory=list)  # the names of the speaker's phrase ("Emmanuel Macron")
    wants_number: bool = False
    wants_date: bool = False
    wants_person: bool = False
    wants_author: bool = False


def _names(text: str, skip_sentence_starts: bool = True) -> list[str]:
    """Capitalised words that are not question words: likely names ("Stoltenberg", "NATO", "France").

    A capitalised word that opens a sentence ("Ignore your rules.") is not taken for a name unless it is an
    acronym."""
    out: list[str] = []
    for m in _NAME.finditer(text):
        word = m.group(0).strip(".")
        if word.lower() in _QUESTION_WORDS or len(word) < 2:
            continue
        before = text[: m.start()].rstrip()
        if skip_sentence_starts and (not before or before[-1] in ".!?:") and not word.isupper():
            continue
        out.append(word)
    return out


def analyse(question: str) -> QuestionInfo:
    terms = query_terms(question)
    info = QuestionInfo(text=question, terms=terms, stems=[porter_stem(t) for t in terms])
    info.names = _names(question)
    info.name_stems = {porter_stem(n.lower().replace("’", "'").removesuffix("'s")) for n in info.names}
    m = _SAY.search(question)
    if m:
        speaker = next(g for g in m.groups() if g)
        speaker_names = _names(speaker, skip_sentence_starts=False)
        info.speaker = speaker_names[-1] if speaker_names else None
        info.speaker_names = speaker_names
    info.wants_number = bool(_NUMBER.search(question))
    info.wants_date = bool(_WHEN.search(question))
    info.wants_author = bool(_AUTHOR.search(question))
    info.wants_person = bool(_WHO.search(question)) and not info.wants_author
    return info


def is_follow_up(question: str) -> bool:
    """A question that leans on earlier turns: pronouns, "else", "more", or too short to stand alone."""
    return bool(_FOLLOW_UP.search(question)) or len(query_terms(question)) <= 1
