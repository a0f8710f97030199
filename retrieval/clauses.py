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


def _known(stem: str, source: set[str]) -> bool:
    return stem in source or (len(stem) >= 5 and any(s.startswith(stem[:5]) for s in source if len(s) >= 5))


def unsupported_clause(claim: str, support: str, passage: str = "") -> str | None:
    """The first clause of the claim whose content words the support (and the passage) almost all lack, or None."""
    source = content_stems(support) | content_stems(passage)
    for clause in clauses(claim):
        stems = content_stems(clause)
        if len(stems) < MIN_WORDS:
            continue
        covered = sum(1 for s in stems if _known(s, source))
        if covered / len(stems) <= MAX_COVERAGE:
            return f"'{clause}' is not in the passage"
    return None
