"""Every part of a claim must be supported: a clause the source says nothing about is an invented detail.

Models pad a true sentence with a plausible cause or consequence ("..., which led to his resignation", "...,
prompting rivals to follow"). The whole sentence still scores like a paraphrase, because most of it is one. So the
claim is cut into clauses (at punctuation and at the words that introduce a cause, a result or a relative clause),
and a clause of several content words almost none of which the supporting sentence(s) or the cited passage contain
makes the claim unsupported. Rewordings of a clause keep some of its words (names, numbers, the key noun); an
invented clause brings its own.
"""

from __future__ import annotations

import re

from retrieval.numbers import quantities
from retrieval.words import content_stems

_CUT = re.compile(
    r"[,;:()]|\s[-–—]\s|\b(?:which|who|whose|that|prompting|leading|causing|forcing|sparking|resulting|meaning"
    r"|so|because|since|thereby|while|whereas|but|and)\b",
    re.I,
)
MIN_WORDS = 3  # shorter clauses ("joblessness has dropped") are rewordings as often as inventions
MAX_COVERAGE = 0.25  # share of a clause's content words the source holds, at or below which it is invented


def clauses(claim: str) -> list[str]:
    """The claim cut at punctuation and clause-introducing words (the pieces, stripped)."""
    pieces, last = [], 0
    for match in _CUT.finditer(claim):
        pieces.append(claim[last : match.start()])
        last = match.end()
    pieces.append(claim[last:])
    return [p.strip() for p in pieces if p.strip()]


def _without_numbers(clause: str) -> str:
    """The clause with its figures blanked: they are words only as what they say, not as they are spelled."""
    for q in reversed(quantities(clause)):
        clause = clause[: q.start] + " " * (q.end - q.start) + clause[q.end :]
    return clause


def _known(stem: str, source: set[str]) -> bool:
    return stem in source or (len(stem) >= 5 and any(s.startswith(stem[:5]) for s in source if len(s) >= 5))


def unsupported_clause(claim: str, support: str, passage: str = "") -> str | None:
    """The first clause of the claim whose content words the support (and the passage) almost all lack, or None."""
    source = content_stems(support) | content_stems(passage)
    figures = quantities(f"{support}\n{passage}")
    for clause in clauses(claim):
        stems = content_stems(_without_numbers(clause))
        # A figure counts as one word, covered when the source states it ("aged fifty-three" for "53").
        stated = sum(1 for q in quantities(clause) if any(q.matches(f) for f in figures))
        if len(stems) + stated < MIN_WORDS:
            continue
        covered = sum(1 for s in stems if _known(s, source)) + stated
        if covered / (len(stems) + stated) <= MAX_COVERAGE:
            return f"'{clause}' is not in the passage"
    return None


# A claim that says one thing caused another ("..., which led to its closure", "prompting rivals to follow") states
# a link the source must state too. Models add such links to true sentences; rewordings keep the source's own.
_CONSEQUENCE = re.compile(
    r"\b(?:led to|leads? to|leading to|has led|had led|prompt(?:ed|ing|s)?|forc(?:ed|ing)|caus(?:ed|ing)|"
    r"spark(?:ed|ing)|trigger(?:ed|ing)|result(?:ed|ing) in|(?:which|that) sent|enabl(?:ed|ing))\b",
    re.I,
)
# Words by which a source states a cause or a consequence (any of them will do: models reword the link).
_CAUSAL = re.compile(
    r"\b(?:lead|leads|led|leading|prompt\w*|forc\w*|caus\w*|spark\w*|trigger\w*|result\w*|sen[dt]\w*|enabl\w*|"
    r"allow\w*|mean\w*|because|due|thanks|response|consequen\w*|therefore|hence|so)\b",
    re.I,
)


def unsupported_consequence(claim: str, support: str) -> str | None:
    """The claim's cause-and-effect phrase when its supporting sentence(s) state no cause or effect, or None."""
    link = _CONSEQUENCE.search(claim)
    if link and not _CAUSAL.search(support):
        return f"'{link.group(0)}' links what the source does not"
    return None
