"""The previous answerer's hand-set sentence score, kept as ONE input feature of the learned selector.

Before the selector was learned, sentences were ranked by `0.55 * similarity + 0.45 * word overlap + bonuses`
(restating the question: -0.12; the asked-about speaker's words: up to +0.25; a new figure for "how many": +0.15;
a date for "when": +0.1; a new name for "who": +0.12; the byline author: +0.5; chunk rank: +0.03 / (1 + rank)).
Those weights were set by hand on the sample article's questions, and on their own they do not carry over to
news nobody tuned them for. As a feature they are one signal among many: the trees learn, from the train split,
when to trust it. The formula is kept exactly as it was so the feature means what it meant.
"""

from __future__ import annotations

import math
import re

import numpy as np

from retrieval.question import QuestionInfo
from retrieval.stemming import porter_stem

_NUMBERISH = re.compile(
    r"\d|\b(?:million|billion|trillion|thousand|hundred|percent|per cent|half|third|quarter|dozen|one|two|three|four|"
    r"five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred)\b|[%£$€¥]",
    re.IGNORECASE,
)
_DATEISH = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|"
    r"jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"tomorrow|last week|next week|last year|next year|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|noted|notes|stated|states|argued|argues|warned|warns|explained|"
    r"according to|insisted|claimed|declared|announced|acknowledged|described|urged|called|calls|replied|"
    r"joked|admitted|wrote|asked)\b",
    re.IGNORECASE,
)
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b|\b[A-Z]{2,}\b")
_YEAR = re.compile(r"(?:19|20)\d\d")
_DIGITS = re.compile(r"\d[\d,.:/-]*\d|\d")
_WORD = re.compile(r"[\w’']+")
STOP_STEMS = frozenset(
    porter_stem(w)
    for w in """a an the of in on at to for and or but is are was were be been has have had it its this that with as
    by from he she they we i you his her their our said says mr mrs ms""".split()
)
# Verbs that frame a question rather than carry its topic ("mentioned", "describe", "call").
FRAMING_STEMS = frozenset(
    porter_stem(w)
    for w in """mention mentioned happen happened describe described say said call called tell told think do does did
    make made get got go went explain explained note noted write wrote name named know known mean meant seem seemed
    refer remark remarks comment comments statement statements word words thing things""".split()
)


def heuristic_scores(
    info: QuestionInfo,
    texts: list[str],
    stems: list[frozenset[str]],
    similarities: np.ndarray,
    ranks: list[int],
    attributed: set[int],
    has_author: list[bool],
) -> np.ndarray:
    """The old score of every candidate sentence (see the module docstring)."""
    n = len(texts)
    lexical = np.zeros(n)
    bonus = np.zeros(n)
    q_stems = info.stems
    speaker = porter_stem(info.speaker.lower()) if info.speaker else None
    if speaker:
        q_stems = [s for s in q_stems if s != speaker and s not in FRAMING_STEMS] or q_stems
    if q_stems:
        weights: dict[str, float] = {}
        for stem in q_stems:
            df = sum(1 for st in stems if stem in st)
            idf = math.log((n + 1) / (df + 0.5)) if df else math.log(n + 1) + 1
            weights[stem] = max(idf, 0.1) * (2.0 if stem in info.name_stems else 1.0)
        total = sum(weights.values())
        question_stems = set(info.stems) | STOP_STEMS
        for i, st in enumerate(stems):
            lexical[i] = sum(w for stem, w in weights.items() if stem in st) / total
            content = [s for s in st if s not in STOP_STEMS]
            novel = [s for s in content if s not in question_stems]
            if content and len(novel) / len(content) < 0.25:
                bonus[i] -= 0.12
    question_words = {w.lower().strip("'’") for w in _WORD.findall(info.text)}
    weight = 0.5 if info.wants_number or info.wants_person else 1.0
    for i, text in enumerate(texts):
        if speaker:
            if i in attributed and speaker in stems[i]:
                bonus[i] += weight * (0.25 if _SPEECH.search(text) else 0.08)
            elif i in attributed:
                bonus[i] += weight * 0.2
            elif speaker in stems[i]:
                bonus[i] += weight * 0.05
        if info.wants_number:
            figures = [d for d in _DIGITS.findall(text) if not _YEAR.fullmatch(d)]
            if any(d not in info.text for d in figures):
                bonus[i] += 0.15
            else:
                bonus[i] += 0.04 if _NUMBERISH.search(text) else -0.1
        if info.wants_date:
            bonus[i] += 0.1 if _DATEISH.search(text) else -0.03
        if info.wants_person:
            new_names = {m.group(0).lower() for m in _PROPER.finditer(text)} - question_words
            bonus[i] += 0.12 if new_names else -0.05
        if info.wants_author and has_author[i]:
            bonus[i] += 0.5
    rank_term = np.array([0.03 / (1 + r) for r in ranks])
    return 0.55 * similarities + 0.45 * lexical + bonus + rank_term
