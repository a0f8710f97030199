"""Who did what to whom: an order-aware check that names keep their roles around the words they share.

A claim that swaps roles in the article's own words ("Roddick beat Federer" cited to "Federer beat Roddick") shares
every word with its source, so embeddings and word overlap both call it a paraphrase. What changes is order: each
name sits on the other side of the verb. We align claim and source on the content words they share exactly once
each ("anchors": usually the main verb or its object) and, for every pair of names both texts hold, compare which
side of the anchor each name is on. Two names that trade sides of the same anchor are a swap.

Passive voice reverses order without reversing roles ("Federer was beaten by Roddick"), so a past participle after a
form of "to be" and followed by "by" counts with its sides mirrored; one without its agent ("One Night will be
released next week") is no anchor, since nothing says who acts.

Why not a dependency parser: the only English spaCy pipelines on PyPI are unofficial re-uploads of the model
(the maintained ones are published elsewhere, and nothing may download at run time), and loading one would add
about a second to start-up; the order check needs neither, and is easy to reason about when it is wrong.
"""

from __future__ import annotations

import re
from collections import Counter

from retrieval.words import Token, fold, name_words, tokens

# Reporting verbs are no anchor: "X said Y won" and "Y won, X said" are the same claim.
_REPORTING = frozenset(
    """added announced argued asserted believed believes claimed claims confirmed declared denied explained insisted
    noted reported revealed stated suggested warned wrote admitted acknowledged agreed ruled""".split()
)
_SAYING = frozenset("said says say told tells according".split())  # function words in `retrieval.words`
_BE = frozenset("is are was were be been being get got gets".split())
_PARTICIPLES = frozenset(
    """won beaten sold held made led hit set put cut taken given seen known built bought caught chosen told found kept
    left lost paid sent shown thrown written struck run begun brought drawn driven eaten fought forgotten""".split()
)


def _passive(words: list[Token], anchor: Token) -> bool:
    """A past participle after a form of "to be" ("was beaten", "will be released"): its subject is the patient."""
    participle = anchor.word in _PARTICIPLES or anchor.word.endswith(("ed", "en"))
    return participle and any(w.word in _BE for w in words[max(0, anchor.index - 2) : anchor.index])


def _sides(words: list[Token], aside: list[int], anchor: Token, names: set[str]) -> dict[str, int] | None:
    """Name stem -> -1 (before the anchor) or +1 (after), mirrored for a passive anchor; ambiguous names left out.

    None for a passive without its agent ("the children who are orphaned"): which name is the patient is unknown.
    """
    passive = _passive(words, anchor)
    if passive and not any(w.word == "by" for w in words[anchor.index + 1 : anchor.index + 4]):
        return None
    seen: dict[str, set[int]] = {}
    for w in words:
        if w.name and w.stem in names and w.index != anchor.index and _distance(aside, w.index, anchor.index) <= WINDOW:
            side = -1 if w.index < anchor.index else 1
            if w.possessive and w.index == anchor.index - 1:
                side = 1  # "Shevchenko's absence" is "the absence of Shevchenko"
            seen.setdefault(w.stem, set()).add(-side if passive else side)
    return {stem: next(iter(s)) for stem, s in seen.items() if len(s) == 1}


# Side clauses between a name and its verb ("Federer, who has not had a coach since May, beat Roddick") and
# bracketed asides do not move a name away from its verb: distances skip them.
_ASIDE = re.compile(r",\s*(?:who|which|whose|whom)\b[^,;.]*,|\([^)]*\)")
WINDOW = 10  # a name further than this from the anchor fills none of its places


def _asides(text: str, words: list[Token]) -> list[int]:
    """For each word, the number of the aside it is in (0: none)."""
    spans = [m.span() for m in _ASIDE.finditer(text)]
    return [next((n for n, (s, e) in enumerate(spans, 1) if s <= w.start < e), 0) for w in words]


def _distance(aside: list[int], i: int, j: int) -> int:
    """Words from i to j, not counting asides that hold neither end: "Federer, who ..., beat" is one word apart."""
    low, high = min(i, j), max(i, j)
    return 1 + sum(1 for k in range(low + 1, high) if not aside[k] or aside[k] in (aside[i], aside[j]))


def swapped(claim: str, source: str) -> str | None:
    """The names whose roles the claim swaps relative to the source ("A/B around 'beat'"), or None."""
    known = name_words(claim, source)
    claim_words, source_words = tokens(claim, known), tokens(source, known)
    claim_asides, source_asides = _asides(claim, claim_words), _asides(source, source_words)
    shared_names = {w.stem for w in claim_words if w.name} & {w.stem for w in source_words if w.name}
    # Who reports is no role in what is reported: "X ruled that MPs ..." and "MPs ..., X has ruled" agree.
    shared_names -= _reporters(claim_words) | _reporters(source_words)
    if len(shared_names) < 2:
        return None
    claim_counts = Counter(w.stem for w in claim_words if w.content)
    source_counts = Counter(w.stem for w in source_words if w.content)
    anchors = [
        w
        for w in claim_words
        if w.content
        and not w.name
        and w.word not in _REPORTING
        and claim_counts[w.stem] == 1
        and source_counts[w.stem] == 1
    ]
    source_at = {w.stem: w for w in source_words if w.content and source_counts[w.stem] == 1}
    for anchor in anchors:
        mine = _sides(claim_words, claim_asides, anchor, shared_names)
        theirs = _sides(source_words, source_asides, source_at[anchor.stem], shared_names)
        if mine is None or theirs is None:
            continue
        before = [n for n, s in mine.items() if s < 0 and theirs.get(n) == 1]
        after = [n for n, s in mine.items() if s > 0 and theirs.get(n) == -1]
        if before and after:
            return f"{before[0]} and {after[0]} trade places around '{anchor.word}'"
        # One name moved across the anchor, next to it on both sides, and another name of the claim took the
        # place it left: "Streep grabbed Carrey" cited to "The actor grabbed Meryl Streep".
        source_anchor = source_at[anchor.stem]
        for moved, side in [(before, 1), (after, -1)]:
            near = [n for n in moved if _near(claim_words, anchor, n) and _near(source_words, source_anchor, n)]
            if near and _takes_place(claim_words, anchor, side, shared_names, source):
                return f"{near[0]} moves to the other side of '{anchor.word}'"
    return None


def _reporters(words: list[Token]) -> set[str]:
    """Stems of names within a few words of a reporting verb ("said", "ruled", "told", ...)."""
    found: set[str] = set()
    for w in words:
        if w.word in _REPORTING or w.word in _SAYING:
            found |= {v.stem for v in words[max(0, w.index - 4) : w.index + 4] if v.name}
    return found


NEAR = 3  # words between an anchor and a name that fills one of its places


def _near(words: list[Token], anchor: Token, stem: str) -> bool:
    return any(w.stem == stem and 0 < abs(w.index - anchor.index) <= NEAR for w in words if w.name)


def _takes_place(words: list[Token], anchor: Token, side: int, exclude: set[str], source: str) -> bool:
    """True when the claim has, next to the anchor on the side a name left, a name the source sentence lacks."""
    span = (
        words[anchor.index + 1 : anchor.index + 1 + NEAR]
        if side > 0
        else words[max(0, anchor.index - NEAR) : anchor.index]
    )
    folded = fold(source)
    return any(w.name and w.stem not in exclude and w.word not in folded for w in span)
