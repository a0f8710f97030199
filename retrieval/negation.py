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
in either direction; a doer noun stands for its verb ("winner" for "won"). Idioms that negate nothing are ignored
("not only", "no doubt", "not until", "no longer than").

A claim with no shared predicate can still affirm what its source denies (`denied`): the source's main clause is
negated ("A tool for Apple machines is not available" against "Microsoft offers a version for Apple machines"), or
it reports a "No", while the claim negates nothing ("had not ruled it out" is a yes).
"""

from __future__ import annotations

from collections.abc import Iterable
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
    # "have never before overturned": the parse may hang the negation on an adverb of the verb.
    adverbs = [c for c in token.children if c.dep_ == "advmod" and c.lower_ not in _IDIOM_NEXT]
    for child in [*token.children, *(g for a in adverbs for g in a.children if g.lower_ in ("never", "not"))]:
        if child.dep_ == "neg":
            following = token.doc[child.i + 1] if child.i + 1 < len(token.doc) else None
            if following is not None and following.lower_ in _IDIOM_NEXT:
                continue
            if any(c.lower_ in ("until", "till", "unless") for c in token.children):
                continue  # "did not arrive until 2001": it did arrive
            return True
    return False


_NOBODY = frozenset({"nothing", "nobody", "none", "noone"})


def negated(token: Token) -> bool:
    """True when the parse puts `token` under a negation (see the module docstring)."""
    if _has_neg(token):
        return True
    if token.pos_ in ("VERB", "AUX") and any(
        c.dep_ in ("dobj", "nsubj", "nsubjpass") and c.lower_ in _NOBODY for c in token.children
    ):
        return True  # "taking nothing for granted" is "not taking anything for granted"
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


def _doers(doc: Doc) -> dict[str, set[bool]]:
    """Verb lemma -> polarities of the nouns of its doer ("winner" is one who won, "leader" one who leads)."""
    found: dict[str, set[bool]] = {}
    for token in doc:
        lemma = token.lemma_.lower()
        if token.pos_ != "NOUN" or not lemma.endswith("er") or len(lemma) < 6:
            continue
        base = lemma[:-2]
        if base[-1] == base[-2]:
            base = base[:-1]  # "winner": "win"
        found.setdefault(base, set()).add(negated(token))
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
    for lemma, polarity in _doers(claim_doc).items():
        if lemma not in mine and theirs.get(lemma) == {True}:
            mine[lemma] = polarity  # "previous Oscar winner Scorsese" from "Scorsese, who has never won an Oscar"
    for lemma in sorted(mine.keys() & theirs.keys()):
        if len(mine[lemma]) == 1 and len(theirs[lemma]) == 1 and mine[lemma] != theirs[lemma]:
            affirming = claim_doc if True in theirs[lemma] else source_doc
            if _negates_anything(affirming):
                continue  # both sides negate something: the parse may have hung it on another word
            which = "negates" if True in theirs[lemma] else "affirms"
            return f"the source {which} '{lemma}', the claim {'affirms' if which == 'negates' else 'negates'} it"
    return None


# Verbs that report speech: what they report is the sentence's claim ("'That is not the case,' said Ellsmore").
_REPORTING = frozenset({"say", "tell", "reply", "answer", "insist", "add", "respond", "admit", "explain"})
# Verbs of negating: "not" before them affirms ("he had not ruled it out": he might).
_NEGATING_VERBS = frozenset({"rule", "deny", "reject", "exclude", "dismiss", "refuse"})
# A negated clause this short is about what the claim says, whatever its words ("That is not the case").
SHORT_DENIAL = 6


def _main_predicates(doc: Doc) -> list[Token]:
    """The roots, and for a root that reports speech the clauses it reports."""
    found: list[Token] = []
    for root in (t for t in doc if t.dep_ == "ROOT"):
        if root.lemma_.lower() in _REPORTING:
            found.extend(c for c in root.children if c.dep_ in ("ccomp", "parataxis"))
        else:
            found.append(root)
    return found


def _replies_no(doc: Doc) -> bool:
    """A reported "No." or "absolutely not": a negation hanging on the verb of speech itself."""
    return any(
        t.lemma_.lower() in _REPORTING
        and any(c.dep_ == "neg" or (c.dep_ == "intj" and c.lower_ in ("no", "nope")) for c in t.children)
        for t in doc
    )


def _affirms(doc: Doc, shared: frozenset[str] = frozenset()) -> bool:
    """No negation at all, once "not" before a verb of negating is read as the affirmation it is ("had not ruled
    it out": a double negative says yes), and a "not" on a verb the source negates too (`shared`) is left out."""
    for t in doc:
        if t.dep_ == "neg" and (t.head.lemma_.lower() in _NEGATING_VERBS or t.head.lemma_.lower() in shared):
            continue
        if t.lemma_.lower() in _NEGATING_VERBS and _has_neg(t):
            continue
        if (
            t.dep_ == "neg"
            or t.lower_ in _NO
            or t.lower_ in ("without", "never", "nobody", "nothing", "none")
            or t.lemma_.lower() in _NEGATORS | _NEGATING_VERBS
            or (t.lower_ == "yet" and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "to")
            or (t.pos_ == "ADJ" and t.lower_.startswith(("un", "in", "im", "dis", "il", "ir")))
        ):
            return False
    return True


def _content(tokens: Iterable[Token]) -> set[str]:
    return {t.lemma_.lower() for t in tokens if t.pos_ in ("NOUN", "PROPN") and t.is_alpha}


def denied(claim: str, source: str, parser: Parser | None = None) -> str | None:
    """The source's main clause is negated, or it reports a "No", while the claim affirms: "Microsoft offers a
    version for Apple machines" from "A tool for Apple machines is not available"; "Ellsmore agreed that ..." from
    "'That is not the case,' said Ellsmore"; "Hague said he had not ruled it out" from "Hague replied: 'No.'".
    The negated clause must share a noun with the claim, or be a short denial of whatever was said."""
    claim_doc, source_doc = (parser or shared_parser()).parse_many([claim, source])
    if _limited(claim_doc) or _limited(source_doc):
        return None
    negated_there = frozenset(t.head.lemma_.lower() for t in source_doc if t.dep_ == "neg")
    if _replies_no(source_doc) and _affirms(claim_doc, negated_there):
        return "the source answers no to what the claim affirms"
    if not _affirms(claim_doc):
        return None
    claim_nouns = _content(claim_doc)
    for predicate in _main_predicates(source_doc):
        if not negated(predicate):
            continue
        clause = list(predicate.subtree)
        if len(clause) <= SHORT_DENIAL or _content(clause) & claim_nouns:
            return f"the source denies what the claim affirms ('{predicate.lemma_.lower()}')"
    return None


def speakers(text: str, parser: Parser | None = None) -> set[str]:
    """Lower-case proper-noun words of who speaks in `text`: the subjects of its verbs of speech ("said Ellsmore")."""
    doc = (parser or shared_parser()).parse(text)
    found: set[str] = set()
    for verb in (t for t in doc if t.lemma_.lower() in _REPORTING):
        for subject in (c for c in verb.children if c.dep_ == "nsubj"):
            found.update(t.lower_ for t in subject.subtree if t.pos_ == "PROPN")
    return found
