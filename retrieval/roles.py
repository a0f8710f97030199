"""Who did what to whom: an order-aware check that names keep their roles around the words they share.

A claim that swaps roles in the article's own words ("Roddick beat Federer" cited to "Federer beat Roddick") shares
every word with its source, so embeddings and word overlap both call it a paraphrase. What changes is order: each
name sits on the other side of the verb. We align claim and source on the content words they share exactly once
each ("anchors": usually the main verb or its object) and, for every pair of names both texts hold, compare which
side of the anchor each name is on. Two names that trade sides of the same anchor are a swap.

Passive voice reverses order without reversing roles ("Federer was beaten by Roddick"), so a past participle after a
form of "to be" and followed by "by" counts with its sides mirrored; one without its agent ("One Night will be
released next week") is no anchor, since nothing says who acts.

This is the word-order half of the role checks; `retrieval.syntax` reads the same from a dependency parse and, in
`retrieval.verification`, vetoes this check's "trade places" verdict where the parse puts the names in the same roles
on both sides (a passive participle or a possessive misleads word order), or where the two "names" are parts of one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from retrieval.numbers import quantities
from retrieval.stemming import porter_stem
from retrieval.words import Token, fold, name_words, same_entity, tokens

# Reporting verbs are no anchor: "X said Y won" and "Y won, X said" are the same claim.
_REPORTING = frozenset(
    """added announced argued asserted believed believes claimed claims confirmed declared denied explained insisted
    noted reported revealed stated suggested warned wrote admitted acknowledged agreed ruled""".split()
)
_SAYING = frozenset("said says say told tells according".split())  # function words in `retrieval.words`
_REPORTING_STEMS = frozenset(porter_stem(w) for w in _REPORTING | _SAYING)
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
    # Who reports is no role in what is reported: "X ruled that MPs ..." and "MPs ..., X has ruled" agree. Only a
    # name that reports on both sides: "Jones said he and Mefin ..." does not make Mefin a reporter of the source.
    shared_names -= _reporters(claim_words) & _reporters(source_words)
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


# --- bindings: which name or figure goes with which word --------------------------------------------------------
# Swaps that keep every name on its side of the verb move what each one is bound to instead: "Million Dollar Baby
# has 11 nominations while The Aviator has seven" (the figures trade words), "playing Macbeth to Orson Welles'
# Macduff" (the parts trade places), "Vin Diesel's new movie Hostage" (the films trade owners).
_BREAK = re.compile(r"[,;:()]|[.!?](?:\s|$)|\s[-–—]\s|\b(?:while|whereas|but|although|though)\b", re.I)
BOUND = 1  # a name or figure is bound to the content word right next to it (function words between do not count)


@dataclass(frozen=True)
class _Unit:
    """A content word, a run of name words ("Orson Welles") or a figure ("$47.10"), with its clause number."""

    kind: str  # "word", "name" or "number"
    keys: frozenset[str]
    index: int
    clause: int
    start: int = 0
    end: int = 0


def _units(text: str, known: set[str]) -> list[_Unit]:
    figures = quantities(text)
    clause_starts = [m.start() for m in _BREAK.finditer(text)]
    units: list[_Unit] = []
    consumed: set[int] = set()
    words = tokens(text, known)

    def clause_of(offset: int) -> int:
        return sum(1 for c in clause_starts if c < offset)

    for q in figures:
        consumed |= {w.index for w in words if q.start <= w.start < q.end}
    pending: list[tuple[int, _Unit]] = [
        (q.start, _Unit("number", frozenset({f"{q.kind}:{q.value:.6g}"}), 0, clause_of(q.start), q.start, q.end))
        for q in figures
    ]
    run: list[Token] = []

    def flush() -> None:
        if run:
            keys = frozenset(w.stem for w in run)
            pending.append((run[0].start, _Unit("name", keys, 0, clause_of(run[0].start), run[0].start, run[-1].end)))
            run.clear()

    for w in words:
        if w.index in consumed or not w.content:
            flush()
            continue
        if w.name and not (run and (text[run[-1].end : w.start].strip() or run[-1].possessive)):
            run.append(w)
            continue
        flush()
        if w.name:
            run.append(w)
        else:
            pending.append((w.start, _Unit("word", frozenset({w.stem}), 0, clause_of(w.start), w.start, w.end)))
    flush()
    pending.sort(key=lambda item: item[0])
    for n, (_, unit) in enumerate(pending):
        units.append(_Unit(unit.kind, unit.keys, n, unit.clause, unit.start, unit.end))
    return units


def _bound(units: list[_Unit], anchor: _Unit, side: int, kind: str) -> _Unit | None:
    """The nearest name or figure (`kind`) on `side` of the anchor, in its clause and within BOUND words."""
    step = range(anchor.index + 1, len(units)) if side > 0 else range(anchor.index - 1, -1, -1)
    for i in step:
        unit = units[i]
        if unit.clause != anchor.clause or abs(i - anchor.index) > BOUND:
            return None
        if unit.kind == kind:
            return unit
    return None


def _find(units: list[_Unit], other: _Unit) -> list[_Unit]:
    return [u for u in units if u.kind == other.kind and u.keys & other.keys]


APART = 4  # a name or figure this close on the same side of the word is still bound to it (word order varies)


def _around(units: list[_Unit], anchor: _Unit, other: _Unit, side: int, bound: _Unit | None = None) -> bool:
    """True when a name or figure like `other` is on `side` of the anchor, in its clause, within APART words.

    A name right next to the `bound` name, which stands between it and the anchor, is not around it: in "Frisk
    says Rijkaard greeted him" Rijkaard greeted, not Frisk. (A figure is: "a loss of 10.8bn in 2003" is still a
    loss in 2003.)
    """
    between = (
        [u.index for u in _find(units, bound) if 0 < (u.index - anchor.index) * side]
        if bound is not None and other.kind == "name"
        else []
    )
    return any(
        u.clause == anchor.clause
        and 0 < (u.index - anchor.index) * side <= APART
        and not any(u.index - b == side for b in between)
        for u in _find(units, other)
    )


def _kind_of(unit: _Unit) -> str:
    """A figure's kind ("count", "ratio", ...): 11 nominations and 7 trade places, 2% and £105m do not."""
    return next(iter(unit.keys)).split(":")[0] if unit.kind == "number" else unit.kind


def _passive_at(words: list[Token], stem: str) -> bool:
    return any(w.stem == stem and _passive(words, w) for w in words)


_LIST_GLUE = re.compile(r"(?:\s|,|&|\band\b|\bor\b|\bnor\b)*", re.I)


def _listed(text: str, units: list[_Unit], a: _Unit, b: _Unit) -> bool:
    """True when a name or figure like `a` stands next to one like `b` in a list ("Murphy and Stringer"; not
    "Frisk says Rijkaard")."""
    for x in _find(units, a):
        for y in _find(units, b):
            first, second = (x, y) if x.index < y.index else (y, x)
            if second.index - first.index == 1 and _LIST_GLUE.fullmatch(text[first.end : second.start]):
                return True
    return False


def crossed(claim: str, source: str, context: str = "") -> str | None:
    """The name or figure the claim binds to a word where the source binds another one it also has, or None.

    For each content word claim and source share exactly once, the nearest name (and the nearest figure) on each
    side of it, within its clause, is compared. A difference counts only when both are named in both texts (or the
    source's passage, `context`) and are not a list: "tries for Murphy and Stringer" and "tries for Stringer and
    Murphy" bind both to "tries".
    """
    known = name_words(claim, source, context)
    mine, theirs = _units(claim, known), _units(source, known)
    whole = _units(context if source in context else f"{context}\n{source}", known) if context else theirs
    at = context.find(source) if context else -1
    # The passage's other mentions of a word (the source's own are compared above).
    elsewhere = [u for u in whole if at < 0 or not at <= u.start < at + len(source)] if context else []
    counts_mine = Counter(k for u in mine if u.kind == "word" for k in u.keys)
    counts_theirs = Counter(k for u in theirs if u.kind == "word" for k in u.keys)
    claim_words, source_words = tokens(claim, known), tokens(source, known)
    for anchor in mine:
        key = next(iter(anchor.keys))
        if anchor.kind != "word" or counts_mine[key] != 1 or counts_theirs[key] != 1 or key in _REPORTING_STEMS:
            continue
        their_anchor = next((u for u in theirs if u.kind == "word" and key in u.keys), None)
        if their_anchor is None or _passive_at(claim_words, key) or _passive_at(source_words, key):
            continue  # "SonyBMG will release One Night" is "One Night will be released by SonyBMG"
        for kind in ("name", "number"):
            for side in (-1, 1):
                a, b = _bound(mine, anchor, side, kind), _bound(theirs, their_anchor, side, kind)
                if a is None or b is None or a.keys & b.keys or _kind_of(a) != _kind_of(b):
                    continue
                if not _find(whole, a) or not _find(mine, b):
                    continue
                if _listed(claim, mine, a, b) or _listed(source, theirs, a, b):
                    continue
                if _around(theirs, their_anchor, a, side, b) or _around(mine, anchor, b, side, a):
                    continue  # "a 10.8bn loss in 2003" is "a loss of 10.8bn in 2003": both still beside "loss"
                if any(_around(whole, u, a, s) for u in elsewhere if u.keys == anchor.keys for s in (-1, 1)):
                    continue  # the passage binds it to the word elsewhere ("a Memory Mate card could be used")
                if kind == "name" and any(same_entity(x, y, context or source) for x in a.keys for y in b.keys):
                    continue
                return f"{'/'.join(sorted(a.keys))} and {'/'.join(sorted(b.keys))} trade places at '{key}'"
    return None
