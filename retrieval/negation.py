"""Polarity read from a dependency parse: is the predicate claim and source share negated in one and not the other?

`retrieval.polarity` decides by word windows after a cue; the parse says which word a "not" really governs, so a
negated side clause ("Federer, who has not had a coach, beat Roddick") leaves the main verb affirmative, and a
negation far from its predicate ("A tool for Apple machines running Word is not available") still reaches it. A
predicate is negated when:

* it, or the verb it complements ("is not available", "did not want to leave"), has a `neg` dependent ("not",
  "n't", "never");
* it is a noun determined by "no" or "neither" ("there is no clear favourite"), or the object of "without";
* it is the complement of a verb of failing or refusing ("failed to win", "refused to approve", "denied that"), or
  of "have yet to" ("England have yet to name a replacement").

Shared predicates (same lemma: verbs, adjectives, nouns in predicate position) whose polarity differs are a flip,
in either direction. Idioms that negate nothing are ignored ("not only", "no doubt", "not until", "no longer than").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval.parsing import Parser, shared_parser

if TYPE_CHECKING:  # spaCy loads lazily (retrieval.parsing): `newsdesk --help` never imports it
    from spacy.tokens import Doc, Token

_NEGATORS = frozenset({"fail", "refuse", "deny", "decline", "reject"})
_NO = frozenset({"no", "neither", "nor"})
# Verbs too common to align on: their polarity is their complement's.
_LIGHT = frozenset({"be", "have", "do", "say", "make", "get", "go", "will", "would", "can", "could", "may"})
# Negations that affirm, or that only limit: "not only", "no doubt", "not until 2001", "no matter".
_IDIOM_HEADS = frozenset({"doubt", "matter", "longer", "less", "more", "fewer", "shortage", "lack", "other"})
_IDIOM_NEXT = frozenset({"only", "just", "least", "until", "till", "even", "as", "so", "quite"})
_PREDICATE_DEPS = frozenset({"ROOT", "acomp", "attr", "xcomp", "ccomp", "conj", "advcl", "relcl", "pcomp"})


def _has_neg(token: Token) -> bool:
    for child in token.children:
        if child.dep_ == "neg":
            following = token.doc[child.i + 1] if child.i + 1 < len(token.doc) else None
            if following is not None and following.lower_ in _IDIOM_NEXT:
                continue
            if any(c.lower_ in ("until", "till", "unless") for c in token.children):
                continue  # "did not arrive until 2001": it did arrive
            return True
    return False


def negated(token: Token) -> bool:
    """True when the parse puts `token` under a negation (see the module docstring)."""
    if _has_neg(token):
        return True
    head = token.head
    if token.dep_ in ("acomp", "attr", "xcomp", "oprd") and head is not token and _has_neg(head):
        return True  # "is not available", "did not want to leave"
    if token.dep_ in ("xcomp", "ccomp") and head.lemma_.lower() in _NEGATORS:
        return True  # "failed to win", "denied that it had"
    if (
        token.dep_ == "xcomp"
        and head.lemma_.lower() in ("have", "be")
        and any(c.lower_ == "yet" for c in head.children)
    ):
        return True  # "England have yet to name a skipper": they have not named one
    if token.pos_ == "NOUN" and token.lemma_.lower() not in _IDIOM_HEADS:
        if any(c.dep_ == "det" and c.lower_ in _NO for c in token.children):
            return True  # "there is no clear favourite"
        if token.dep_ == "pobj" and head.lower_ == "without":
            return True
    if token.dep_ == "pcomp" and head.lower_ == "without":
        return True
    return False


def _predicates(doc: Doc) -> dict[str, set[bool]]:
    """Lemma -> the polarities its predicate uses take."""
    found: dict[str, set[bool]] = {}
    for token in doc:
        if not token.is_alpha or token.lemma_.lower() in _LIGHT:
            continue
        predicate = token.pos_ in ("VERB", "ADJ") or (
            token.pos_ == "NOUN" and (token.dep_ in _PREDICATE_DEPS or _det_no(token))
        )
        if predicate and token.dep_ != "amod":
            found.setdefault(token.lemma_.lower(), set()).add(negated(token))
    return found


def _limited(doc: Doc) -> bool:
    return any(t.lower_ in ("until", "till", "unless") for t in doc)


def _negates_anything(doc: Doc) -> bool:
    """Any negation at all: a `neg` dependent, "no"/"neither", "without", "yet to", or a verb of failing."""
    return any(
        t.dep_ == "neg"
        or t.lower_ in _NO
        or t.lower_ == "without"
        or t.lemma_.lower() in _NEGATORS
        or (t.lower_ == "yet" and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "to")
        for t in doc
    )


def _det_no(token: Token) -> bool:
    return any(c.dep_ == "det" and c.lower_ in _NO for c in token.children)


def polarity_flip(claim: str, source: str, parser: Parser | None = None) -> str | None:
    """Why the source negates what the claim affirms (or the reverse) about a predicate both use, or None."""
    claim_doc, source_doc = (parser or shared_parser()).parse_many([claim, source])
    if _limited(claim_doc) or _limited(source_doc):
        return None  # "did not score until 2001": it did score
    mine, theirs = _predicates(claim_doc), _predicates(source_doc)
    for lemma in sorted(mine.keys() & theirs.keys()):
        if len(mine[lemma]) == 1 and len(theirs[lemma]) == 1 and mine[lemma] != theirs[lemma]:
            affirming = claim_doc if True in theirs[lemma] else source_doc
            if _negates_anything(affirming):
                continue  # both sides negate something: the parse may have hung it on another word
            which = "negates" if True in theirs[lemma] else "affirms"
            return f"the source {which} '{lemma}', the claim {'affirms' if which == 'negates' else 'negates'} it"
    return None
