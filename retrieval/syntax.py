"""Who did what to whom, read from a dependency parse: names that trade roles around the verb claim and source share.

A claim that swaps roles in the article's own words ("Roddick beat Federer" cited to "Federer, who has not had a
coach since May, beat Roddick") shares every word with its source, so embeddings and word overlap both call it a
paraphrase. Word order is a poor guide (side clauses, passives, participle clauses), the parse is a good one: for
every verb claim and source share (by lemma), we collect who fills each of its places, with passives mapped to
active roles ("Roddick was beaten by Federer": Federer is the agent):

* agent: the subject of an active verb, the object of a passive's "by" (a relative clause's "who" is the noun it
  hangs on; a participle or infinitive clause without a subject inherits its governing verb's: "..., beating X");
* patient: the direct object, the subject of a passive, an indirect object;
* "to", "for", "against", ...: the object of each preposition attached to the verb.

A name (a proper noun, with its compound parts: "Orson Welles") that fills one place of the verb in the claim and
another place of the same verb in the source, and not the claim's place there too, has changed roles
(`role_swap`). Two places of two shared verbs that trade their fillers between claim and source are a swap too,
common nouns included ("The Lords proposed ..., but ministers over-ruled them" from "Ministers proposed ..., but the
Lords over-ruled this"). A verb the source uses more than once counts as agreeing when any of its uses agrees.
Two clauses about two parties that trade what is said of them ("X meets her on Friday, while Y meets her on
Thursday" from the reverse) and agent and patient reversed through another verb ("Cohen attacked Wood" from "Wood
slated Cohen"), the two sides of a comparison traded ("the richest 20% pay more than the poorest 20%" from the
reverse), and a "respectively" list paired otherwise are swaps too.

Only what the parse really puts in those places counts: a reworded claim with other verbs aligns with nothing, and
a pronoun or a name the source sentence does not hold fills no comparable place, so true rewordings are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from retrieval.parsing import Parser, shared_parser
from retrieval.stemming import porter_stem

if TYPE_CHECKING:  # spaCy loads lazily (retrieval.parsing): `newsdesk --help` never imports it
    from spacy.tokens import Doc, Token

AGENT = "agent"
PATIENT = "patient"
_SUBJECTS = frozenset({"nsubj", "csubj"})
_PATIENTS = frozenset({"dobj", "nsubjpass", "dative", "obj", "iobj"})
_RELATIVE = frozenset({"who", "which", "that", "whom"})
# Verbs that hold nobody's role: "X is Y", "X has Y", "X said Y", "X went on to Y".
_LIGHT = frozenset({"be", "have", "do", "go", "get", "make", "take", "become"})
# Clauses whose missing subject is their governing verb's: "Federer beat Roddick, winning his fifth title".
_INHERITS = frozenset({"xcomp", "advcl", "conj", "acl"})
# Preposition places that are roles (not time or place adjuncts): "lost to X", "played for X", "voted against X".
_ROLE_PREPOSITIONS = frozenset({"to", "for", "from", "over", "of", "with"})
# Places shared by both parties: "X worked with Y" is "Y worked with X", so moving between the subject and "with"
# changes no role.
WITH = "with"


@dataclass(frozen=True)
class _Use:
    """One use of a verb: its lemma and, for each place, the name keys (and noun lemmas) that fill it."""

    lemma: str
    names: dict[str, frozenset[str]]
    nouns: dict[str, frozenset[str]]
    inherited: frozenset[str] = frozenset()  # places filled from a governing verb (a parse guess, not a reading)


# Titles are capitalised but name nobody: "MP George Galloway" and "MP Oona King" share no one.
_TITLES = frozenset(
    "mr mrs ms miss dr sir lord lady dame mp mps president minister prime chancellor secretary shadow".split()
)


def _name_keys(token: Token) -> frozenset[str]:
    """Lower-case proper-noun words of the phrase headed by `token` and its conjuncts ("Murphy and Stringer"), and
    of a common noun's owner ("Foster's shares rose" is about Foster)."""
    keys: set[str] = set()
    for head in (token, *token.conjuncts):
        owners = [c for c in head.children if c.dep_ == "poss"] if head.pos_ == "NOUN" else []
        for part in (
            head,
            *(c for c in head.children if c.dep_ in ("compound", "flat", "appos")),
            *(p for o in owners for p in (o, *(c for c in o.children if c.dep_ in ("compound", "flat")))),
        ):
            if part.pos_ == "PROPN" and part.is_alpha and len(part.text) > 1 and part.lower_ not in _TITLES:
                keys.add(part.text.lower())
    return frozenset(keys)


def _noun_keys(token: Token) -> frozenset[str]:
    return frozenset(h.lemma_.lower() for h in (token, *token.conjuncts) if h.pos_ in ("NOUN", "PROPN") and h.is_alpha)


_OBJECT_PRONOUNS = frozenset({"him", "her"})


def _resolve(token: Token) -> Token:
    """A relative pronoun stands for the noun its clause hangs on ("Federer, who beat Roddick"); "him" or "her" as
    an object stands for the named subject of a clause above its own ("Brown found Wright-Phillips difficult when
    the winger embarrassed him": him is Brown), since an object pronoun never means its own clause's subject; not
    when an earlier name is an object, which "her" may mean as well ("X meets Furse, while Y meets her")."""
    if token.lower_ in _RELATIVE and token.head.dep_ == "relcl":
        return token.head.head
    if token.lower_ in _OBJECT_PRONOUNS and token.dep_ in ("dobj", "dative", "pobj"):
        clause = token.head.head if token.dep_ == "pobj" else token.head
        if any(t.pos_ == "PROPN" and t.dep_ in ("dobj", "dative", "pobj") for t in token.doc[: token.i]):
            return token  # an earlier object may be who "her" is ("X meets Furse, while Y meets her"): unknown
        for verb in clause.ancestors:
            if any(c.dep_ == "aux" and c.lower_ == "to" for c in verb.children):
                continue  # "found X to be ...": X is a small clause's subject, not the one "him" can mean
            subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subject is not None and subject.pos_ == "PROPN" and _name_keys(subject):
                return subject
    return token


def _places(verb: Token, depth: int = 0, inherited_places: set[str] | None = None) -> dict[str, list[Token]]:
    """Place name -> the tokens that fill it, with passives mapped to active roles (`inherited_places` collects the
    places filled from a governing verb)."""
    places: dict[str, list[Token]] = {}
    for child in verb.children:
        if child.dep_ in _SUBJECTS:
            places.setdefault(AGENT, []).append(_resolve(child))
        elif child.dep_ in _PATIENTS:
            places.setdefault(PATIENT, []).append(_resolve(child))
        elif child.dep_ == "agent":
            places.setdefault(AGENT, []).extend(c for c in child.children if c.dep_ == "pobj")
        elif child.dep_ == "prep" and child.lower_ in _ROLE_PREPOSITIONS:
            places.setdefault(child.lower_, []).extend(c for c in child.children if c.dep_ == "pobj")
    own_subject = any(c.dep_ in ("nsubj", "nsubjpass", "csubj", "csubjpass") for c in verb.children)
    if not own_subject and depth < 3:
        # No subject of its own: "Federer beat Roddick, winning ...", "she was arrested and beheaded".
        inherited: list[Token] = []
        if verb.dep_ == "acl":  # "a deal signed by X" / "the man beating X": the noun is the subject
            inherited = [verb.head]
        elif verb.dep_ in _INHERITS and verb.head.pos_ in ("VERB", "AUX", "ADJ"):
            governor = verb.head
            if governor.pos_ == "ADJ" and governor.dep_ == "acomp":  # "X was likely to sue Y"
                governor = governor.head
            inherited = [_resolve(c) for c in governor.children if c.dep_ in ("nsubj", "nsubjpass")]
            if not inherited and governor.pos_ != "ADJ":
                inherited = _places(governor, depth + 1).get(AGENT, [])
        if inherited:
            role = PATIENT if _is_passive(verb) else AGENT
            places.setdefault(role, []).extend(inherited)
            if inherited_places is not None:
                inherited_places.add(role)
                if verb.dep_ == "acl":
                    inherited_places.add("acl")  # "the danger facing nations": a guess at who acts
    return places


def _is_passive(verb: Token) -> bool:
    """ "was beaten", and the second verb of "was arrested and beheaded"; "a man nominated for" (an acl)."""
    if any(c.dep_ in ("nsubjpass", "auxpass") for c in verb.children):
        return True
    if verb.tag_ != "VBN":
        return False
    return verb.dep_ == "acl" or (verb.dep_ == "conj" and _is_passive(verb.head))


# Light verbs that still have a doer when a name fills it: "Blackburn made a bid", "Smith took charge".
_LIGHT_WITH_DOER = frozenset({"make", "take", "get", "have"})


def _uses(doc: Doc, light: bool = False) -> list[_Use]:
    """Each verb's places; with `light`, also the light verbs that have a doer (`_LIGHT_WITH_DOER`)."""
    uses = []
    for token in doc:
        lemma = token.lemma_.lower()
        if token.pos_ != "VERB" or token.dep_ == "amod":
            continue  # "the sitting MP" describes, it does not act
        if lemma in _LIGHT and not (light and lemma in _LIGHT_WITH_DOER):
            continue
        inherited: set[str] = set()
        places = _places(token, inherited_places=inherited)
        uses.append(
            _Use(
                token.lemma_.lower(),
                {p: frozenset().union(*(_name_keys(t) for t in ts)) for p, ts in places.items()},
                {p: frozenset().union(*(_noun_keys(t) for t in ts)) for p, ts in places.items()},
                frozenset(inherited),
            )
        )
    return uses


def _moved(mine: _Use, theirs: Iterable[_Use]) -> str | None:
    """A name in one place of the claim's verb that every use of the source's verb puts in another place."""
    theirs = list(theirs)
    for place, keys in mine.names.items():
        for key in sorted(keys):
            if any(key in use.names.get(place, frozenset()) for use in theirs):
                continue
            # Where the source holds the name must be the parse's own reading, not a subject guessed from a
            # governing verb ("X was forced off and Y came on": a misattached Y leaves "came" to X).
            elsewhere = [
                other
                for use in theirs
                for other, held in use.names.items()
                if other != place and key in held and other not in use.inherited
            ]
            if not elsewhere or not {AGENT, PATIENT} & {place, elsewhere[0]} or WITH in (place, elsewhere[0]):
                continue
            # Another name must take part: the claim puts one where the source had this one, or the source puts
            # one where the claim has it. A lone name in a misparsed clause is no swap.
            others_there = mine.names.get(elsewhere[0], frozenset()) - {key}
            others_here = frozenset().union(*(use.names.get(place, frozenset()) for use in theirs)) - {key}
            if others_there or others_here:
                return f"{key} is the {place} of '{mine.lemma}' in the claim, the {elsewhere[0]} in the source"
    return None


def _traded(claim_uses: list[_Use], source_uses: list[_Use]) -> str | None:
    """Agents, or patients, of two shared verbs traded: X does A and Y does B in the claim, Y does A and X does B in
    the source ("to conceal soaring revenue and inflate expenses" from "to conceal soaring expenses and inflate
    revenue")."""
    shared = [u for u in claim_uses if any(s.lemma == u.lemma for s in source_uses)]
    for i, first in enumerate(shared):
        for second in shared[i + 1 :]:
            if first.lemma == second.lemma:
                continue
            for place in (AGENT, PATIENT):
                for keys in ("names", "nouns"):
                    a1 = getattr(first, keys).get(place, frozenset())
                    a2 = getattr(second, keys).get(place, frozenset())
                    for s1 in (s for s in source_uses if s.lemma == first.lemma):
                        for s2 in (s for s in source_uses if s.lemma == second.lemma):
                            b1 = getattr(s1, keys).get(place, frozenset())
                            b2 = getattr(s2, keys).get(place, frozenset())
                            x, y = (a1 - b1) & b2, (a2 - b2) & b1
                            if x and y and not a1 & b1 and not a2 & b2:
                                return (
                                    f"{min(x)} and {min(y)} trade '{first.lemma}' and '{second.lemma}' between "
                                    "claim and source"
                                )
    return None


def _clauses(doc: Doc) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Each clause with a subject of its own: (who it is about: the subject's name keys and noun lemmas, the
    content words of the clause, without those of clauses inside it that have subjects of their own)."""
    heads = [t for t in doc if any(c.dep_ in ("nsubj", "nsubjpass") for c in t.children)]
    head_ids = {t.i for t in heads}
    found = []
    for head in heads:
        subjects = [c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")]
        about = frozenset().union(*(_name_keys(_resolve(c)) | _noun_keys(_resolve(c)) for c in subjects))
        words: set[str] = set()
        stack = [c for c in head.children if c.dep_ not in ("nsubj", "nsubjpass")]
        while stack:
            token = stack.pop()
            if token.i in head_ids:
                continue  # a clause of its own
            if token.pos_ in ("NOUN", "PROPN", "ADJ", "NUM") and token.text[:1].isalnum():
                words.add(token.lemma_.lower())
            stack.extend(token.children)
        if about:
            found.append((about, frozenset(words)))
    return found


def crossed_clauses(claim: str, source: str, parser: Parser | None = None) -> str | None:
    """`_crossed_clauses` of two texts: the source may be a whole passage (the claim's two clauses may draw on
    sentences that do not support it together). The passage is parsed only for a claim with two clauses about
    different parties, the only claims the check can catch."""
    parser = parser or shared_parser()
    claim_doc = parser.parse(claim)
    clauses = _clauses(claim_doc)
    if not any(not a & b for n, (a, _) in enumerate(clauses) for b, _ in clauses[n + 1 :]):
        return None
    return _crossed_clauses(claim_doc, parser.parse(source))


def _crossed_clauses(claim_doc: Doc, source_doc: Doc) -> str | None:
    """Two clauses about two parties that trade what is said of them: "Seifert meets Furse on Friday, while
    Theodore meets her on Thursday" from "Theodore is to meet Furse on Friday. Seifert is meeting Ms Furse on
    Thursday"; "rivals use AAC, while Apple uses MP3" from "the rivals use MP3 while Apple uses AAC". Each claim
    clause must hold a word that the source says only of the other party, both ways round."""
    claim_clauses, source_clauses = _clauses(claim_doc), _clauses(source_doc)
    for n, (x_keys, x_words) in enumerate(claim_clauses):
        for y_keys, y_words in claim_clauses[n + 1 :]:
            if x_keys & y_keys:
                continue
            for x in sorted(x_keys):
                for y in sorted(y_keys):
                    of_x = [w for about, w in source_clauses if x in about and y not in about]
                    of_y = [w for about, w in source_clauses if y in about and x not in about]
                    if not of_x or not of_y:
                        continue
                    said_x, said_y = frozenset().union(*of_x), frozenset().union(*of_y)
                    given_x = (x_words - y_words) & (said_y - said_x) - {x, y}
                    given_y = (y_words - x_words) & (said_x - said_y) - {x, y}
                    if given_x and given_y:
                        return f"{x} and {y} trade '{min(given_x)}' and '{min(given_y)}' between claim and source"
    return None


def _reversed(claim_uses: list[_Use], source_uses: list[_Use]) -> str | None:
    """Who acts on whom reversed through another verb: "Cohen attacked Wood" from "Wood slated Cohen". Two names
    the claim puts as agent and patient of a verb that some verb of the source puts the other way round, while no
    verb of the source has them the claim's way. Only places the parse reads itself count, not guessed subjects."""

    def pairs(use: _Use) -> set[tuple[str, str]]:
        if AGENT in use.inherited or PATIENT in use.inherited:
            return set()
        agents, patients = use.names.get(AGENT, frozenset()), use.names.get(PATIENT, frozenset())
        return {(a, p) for a in agents for p in patients if a != p}

    theirs = set().union(*(pairs(u) for u in source_uses)) if source_uses else set()
    for use in claim_uses:
        for agent, patient in sorted(pairs(use)):
            if (patient, agent) in theirs and (agent, patient) not in theirs:
                return f"{agent} acts on {patient} ('{use.lemma}') in the claim, the other way round in the source"
    return None


def _described(tokens: Iterable[Token]) -> frozenset[str]:
    """Lemmas (and forms: "failed" is a verb's or an adjective's) of the words that say which thing a phrase is:
    nouns, names, numbers and modifiers."""
    words = [t for t in tokens if t.pos_ in ("NOUN", "PROPN", "ADJ", "NUM") or t.dep_ in ("amod", "nummod")]
    return frozenset(w.lemma_.lower() for w in words) | frozenset(w.lower_ for w in words)


def _comparisons(doc: Doc) -> list[tuple[str, frozenset[str], frozenset[str]]]:
    """Each "A is more/less ... than B": (the comparative word, A's words, B's words)."""
    found = []
    for than in (t for t in doc if t.lower_ == "than" and t.dep_ == "prep"):
        compared = [c for c in than.children if c.dep_ == "pobj"]
        if not compared:
            continue
        clause = next((a for a in than.ancestors if any(c.dep_ in ("nsubj", "nsubjpass") for c in a.children)), None)
        if clause is None:
            continue
        subjects = [c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")]
        comparative = next(
            (t.lower_ for t in clause.subtree if t.tag_ in ("JJR", "RBR") or t.lower_ in ("more", "less", "fewer")),
            "",
        )
        first = _described(t for s in subjects for t in s.subtree)
        second = _described(t for c in compared for t in c.subtree)
        found.append((comparative, first, second))
    return found


def _compared_the_other_way(claim_doc: Doc, source_doc: Doc) -> str | None:
    """The two sides of a comparison traded, with the same comparative: "failed states pose less of a problem than
    rogue states" from "rogue states are less of a problem than failed states"; "the richest 20% pay more than the
    poorest 20%" from the reverse. ("A is less than B" for "B is more than A" changes the comparative: no swap.)"""
    for word, first, second in _comparisons(claim_doc):
        for other_word, other_first, other_second in _comparisons(source_doc):
            if word != other_word:
                continue
            moved_down = (first - second) & (other_second - other_first)
            moved_up = (second - first) & (other_first - other_second)
            if moved_down and moved_up:
                return f"'{min(moved_down)}' and '{min(moved_up)}' trade sides of '{word} than'"
    return None


def _member_keys(token: Token) -> frozenset[str]:
    """Words of one member of a list: the word, its lemma and its compound parts ("Derek Wanless")."""
    parts = (token, *(c for c in token.children if c.dep_ in ("compound", "flat")))
    return frozenset(p.lower_ for p in parts) | frozenset(p.lemma_.lower() for p in parts)


def _respectively(doc: Doc) -> list[tuple[frozenset[str], frozenset[str]]]:
    """What "respectively" pairs: "Wanless and Tomlinson, who led reviews on health and education respectively"
    gives (Wanless, health) and (Tomlinson, education). The first list of its sentence with the last one before it,
    when the two are as long."""
    found: list[tuple[frozenset[str], frozenset[str]]] = []
    for word in (t for t in doc if t.lower_ == "respectively"):
        groups = [
            (t, *t.conjuncts)
            for t in word.sent
            if t.i < word.i and t.dep_ != "conj" and t.pos_ in ("NOUN", "PROPN") and t.conjuncts
        ]
        if len(groups) >= 2 and len(groups[0]) == len(groups[-1]) and groups[0][0] is not groups[-1][0]:
            found.extend(
                (_member_keys(a), _member_keys(b))
                for a, b in zip(
                    sorted(groups[0], key=lambda t: t.i), sorted(groups[-1], key=lambda t: t.i), strict=True
                )
            )
    return found


def _unpaired(claim_doc: Doc, source_doc: Doc) -> str | None:
    """A claim clause about one member of a "respectively" list that says the other list's member paired with
    another: "Tomlinson carried out a review of health" from "Wanless and Tomlinson, who undertook reviews on
    health and education respectively"."""
    pairs = _respectively(source_doc)
    if not pairs:
        return None
    for about, words in _clauses(claim_doc):
        for who, what in pairs:
            if not about & who or words & what:
                continue
            other = next((w for k, w in pairs if w != what and words & w and not k & about), None)
            if other:
                return f"{min(about & who)} is paired with '{min(words & other)}', the source pairs it otherwise"
    return None


def _names_traded(claim_doc: Doc, source_doc: Doc, claim_uses: list[_Use], source_uses: list[_Use]) -> str | None:
    """`_traded` for names only, over uses that include light verbs with a doer (`_uses(doc, light=True)`):
    "Blackburn confirmed that Birmingham made a bid" from "Birmingham confirmed Blackburn made a bid". A name is a
    word either text capitalises inside a sentence (the parser may take a sentence's first word for a common
    noun)."""
    caps = {t.lower_ for doc in (claim_doc, source_doc) for t in doc if t.text[:1].isupper() and t.i > t.sent.start}

    def names_only(uses: list[_Use]) -> list[_Use]:
        return [
            replace(u, names={p: k | (u.nouns.get(p, frozenset()) & caps) for p, k in u.names.items()}, nouns={})
            for u in uses
        ]

    return _traded(names_only(claim_uses), names_only(source_uses))


def _bindings(claim_uses: list[_Use], source_uses: list[_Use]) -> str | None:
    """Who acts on whom, common nouns included, for verbs both texts use: "the comedian was likely to sue her
    client" from "her client was likely to sue the comedian" (agent and patient traded), and "the voting age
    affects only politicians, while candidacy affects millions" from "Candidacy affects only politicians. The voting
    age affects millions" (each agent bound to the other's patient)."""
    for mine in claim_uses:
        theirs = [s for s in source_uses if s.lemma == mine.lemma]
        if not theirs or "acl" in mine.inherited or any("acl" in s.inherited for s in theirs):
            continue
        for x in sorted(mine.nouns.get(AGENT, frozenset())):
            for y in sorted(mine.nouns.get(PATIENT, frozenset()) - {x}):
                together = any(x in s.nouns.get(AGENT, ()) and y in s.nouns.get(PATIENT, ()) for s in theirs)
                if together:
                    continue
                traded = any(y in s.nouns.get(AGENT, ()) and x in s.nouns.get(PATIENT, ()) for s in theirs)
                rebound = (
                    len(theirs) > 1
                    and any(x in s.nouns.get(AGENT, ()) for s in theirs)
                    and any(y in s.nouns.get(PATIENT, ()) for s in theirs)
                )
                if traded or rebound:
                    return f"{x} {mine.lemma}s {y} in the claim, not in the source"
    return None


OWNER = "owner"
_OWNER_PREPOSITIONS = frozenset({"of", "by", "from"})


def _nominal_uses(doc: Doc) -> list[_Use]:
    """Common nouns with the names they belong to: "Gethin's experience", "the son-in-law of Viktor Pinchuk"."""
    uses = []
    for token in doc:
        if token.pos_ != "NOUN":
            continue
        owners: list[Token] = [c for c in token.children if c.dep_ == "poss" or (c.dep_ == "compound")]
        for prep in (c for c in token.children if c.dep_ in ("prep", "agent") and c.lower_ in _OWNER_PREPOSITIONS):
            owners.extend(c for c in prep.children if c.dep_ == "pobj")
        keys = frozenset().union(*(_name_keys(t) for t in owners))
        # Common-noun owners only through "'s", "by" and "of" ("the bid by defence lawyers"), not compounds.
        nouns = frozenset().union(*(_noun_keys(t) for t in owners if t.dep_ != "compound"))
        if keys or nouns:
            uses.append(_Use(token.lemma_.lower(), {OWNER: keys} if keys else {}, {OWNER: nouns} if nouns else {}))
    return uses


_Places = dict[str, set[tuple[str, str]]]


def _places_of(uses: Iterable[_Use]) -> _Places:
    """Name key -> the (word, place) pairs it fills."""
    found: _Places = {}
    for use in uses:
        for place, keys in use.names.items():
            for key in keys:
                found.setdefault(key, set()).add((use.lemma, place))
    return found


def _replaced(mine: _Use, theirs: list[_Use], claim_places: _Places, source_places: _Places) -> str | None:
    """A place of a shared word the claim fills with one name X and the source with another Y, where the claim
    also puts Y where the source puts X: the two traded places ("Murphy latched onto a pass from Hickie" from
    "Hickie latched onto a pass from Murphy"; "King is standing against Galloway")."""
    for place, keys in mine.names.items():
        held = [use.names.get(place, frozenset()) for use in theirs]
        if place == WITH or not keys or not all(held) or any(keys & h for h in held):
            continue
        for x in sorted(keys):
            for y in sorted(k for h in held for k in h):
                evidence = claim_places.get(y, set()) & source_places.get(x, set())
                if evidence - {(mine.lemma, WITH)}:  # "X worked with Y" is "Y worked with X"
                    return f"{x} and {y} trade places ('{mine.lemma}', {place})"
    return None


# Prepositions of direction: what comes from where and goes to whom ("shifting power from individuals into the
# hands of institutions" against "from institutions and into the hands of the individual").
_DIRECTIONS = frozenset({"from", "to", "into", "onto", "toward", "towards"})


def _direction(token: Token) -> str | None:
    """The preposition of direction a noun stands under, through "of" ("into the hands of institutions": into)."""
    while token.dep_ in ("pobj", "conj"):
        if token.dep_ == "conj":
            token = token.head
            continue
        prep = token.head
        if prep.lower_ == "of" and prep.head.pos_ in ("NOUN", "PROPN"):
            token = prep.head
            continue
        return prep.lower_ if prep.lower_ in _DIRECTIONS else None
    return None


def _directions(doc: Doc) -> dict[str, set[str]]:
    """Noun lemma -> the prepositions of direction it stands under."""
    found: dict[str, set[str]] = {}
    for token in doc:
        if token.pos_ in ("NOUN", "PROPN") and token.is_alpha:
            where = _direction(token)
            if where:
                found.setdefault(token.lemma_.lower(), set()).add(where)
    return found


def _directions_traded(claim_doc: Doc, source_doc: Doc) -> str | None:
    """Two nouns that trade prepositions of direction: "from individuals into the hands of institutions" from
    "from institutions and into the hands of the individual"; "moved from Leeds to Bristol" from the reverse."""
    mine, theirs = _directions(claim_doc), _directions(source_doc)
    shared = sorted(k for k in mine.keys() & theirs.keys() if len(mine[k]) == 1 and len(theirs[k]) == 1)
    for n, a in enumerate(shared):
        for b in shared[n + 1 :]:
            if mine[a] != mine[b] and mine[a] == theirs[b] and mine[b] == theirs[a]:
                return f"'{a}' and '{b}' trade '{min(mine[a])}' and '{min(mine[b])}' between claim and source"
    return None


_DESCRIBING = frozenset({"relcl", "appos"})


def _descriptions(doc: Doc) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(who, content lemmas) for each relative clause or apposition hung on a name: "Sfar, who got a point penalty
    for swearing" gives ({sfar}, {point, penalty, swear, ...})."""
    found = []
    for token in doc:
        if token.dep_ not in _DESCRIBING or token.head.pos_ != "PROPN":
            continue
        who = _name_keys(token.head)
        words = frozenset(
            t.lemma_.lower()
            for t in token.subtree
            if t.pos_ in ("NOUN", "VERB", "ADJ", "NUM") and t.is_alpha and t.lemma_.lower() not in _LIGHT
        )
        if who and words:
            found.append((who, words))
    return found


DESCRIPTION_OVERLAP = 2  # content words a description must share to be "the same" description


def _description_moved(claim_doc: Doc, source_doc: Doc) -> str | None:
    """A description the source hangs on one name, hung on another in the claim: "Likhovtseva, who was given a point
    penalty for swearing, ... saw off Sfar" from "Likhovtseva ... saw off Sfar, who got a point penalty for
    swearing". The claim's name must be in the source too, with no such description of its own."""
    source_names = frozenset(t.lower_ for t in source_doc if t.pos_ == "PROPN")
    theirs = _descriptions(source_doc)
    for who, words in _descriptions(claim_doc):
        if not who & source_names:
            continue
        same = [(w, ws) for w, ws in theirs if len(words & ws) >= DESCRIPTION_OVERLAP]
        if same and not any(w & who for w, _ in same):
            other = min(next(iter(w for w, _ in same)))
            return f"the claim says of {min(who)} what the source says of {other}"
    return None


def _slots(uses: Iterable[_Use]) -> dict[str, set[tuple[str, str]]]:
    """Name key or noun lemma -> the (word, place) slots it fills in the parse's own reading (no guessed subjects,
    no symmetric "with")."""
    found: dict[str, set[tuple[str, str]]] = {}
    for use in uses:
        for table in (use.names, use.nouns):
            for place, keys in table.items():
                if place == WITH or place in use.inherited:
                    continue
                for key in keys:
                    found.setdefault(key, set()).add((use.lemma, place))
    return found


def _slots_traded(claim_uses: list[_Use], source_uses: list[_Use]) -> str | None:
    """Two parties that trade slots of two words, verbs or nouns: "Associated Press argued against the bid by
    defence lawyers" from "Defence lawyers argued against the bid by Associated Press" (agent of "argue" and owner
    of "bid" traded). The claim puts X where the source puts Y, and Y where the source puts X, and the source
    never has X or Y in the claim's slot for them."""
    mine, theirs = _slots(claim_uses), _slots(source_uses)
    keys = sorted(mine.keys() & theirs.keys())
    for n, x in enumerate(keys):
        for y in keys[n + 1 :]:
            for slot_x in sorted(mine[x] - theirs[x] - mine[y]):
                if slot_x not in theirs[y]:
                    continue
                for slot_y in sorted(mine[y] - theirs[y] - mine[x]):
                    if slot_y != slot_x and slot_y in theirs[x]:
                        return f"{x} and {y} trade places ('{slot_x[0]}' {slot_x[1]}, '{slot_y[0]}' {slot_y[1]})"
    return None


# "A rather than B", "A instead of B": the two sides traded are a swap ("to examine applications thoroughly rather
# than to be efficient" from "to be efficient, rather than to do a thorough examination of an application").
_CONTRAST = re.compile(
    r"\b(?:rather than|instead of)\b"
    r"|\b(?:favou?r\w*|prefer\w*|choose|chose|pick\w*)\b(?:\s+\S+){0,3}?\s+(?P<over>over)\b",
    re.IGNORECASE,
)


def _sides(doc: Doc) -> tuple[frozenset[str], frozenset[str]] | None:
    """Content lemmas before and after the first "rather than" / "instead of" of a text, within its sentence."""
    match = _CONTRAST.search(doc.text)
    if not match:
        return None
    start, end = match.span("over") if match.group("over") else match.span()
    pivot = next((t for t in doc if t.idx >= start), None)
    if pivot is None:
        return None
    sentence = pivot.sent

    def words(tokens: Iterable[Token]) -> frozenset[str]:
        return frozenset(
            t.lemma_.lower().removesuffix("ly")
            for t in tokens
            if t.pos_ in ("NOUN", "PROPN", "ADJ", "VERB", "ADV") and t.is_alpha and t.lemma_.lower() not in _LIGHT
        )

    before = words(t for t in sentence if t.idx < start)
    after = words(t for t in sentence if t.idx >= end)
    return before, after


def _contrast_traded(claim_doc: Doc, source_doc: Doc) -> str | None:
    mine, theirs = _sides(claim_doc), _sides(source_doc)
    if mine is None or theirs is None:
        return None
    (claim_before, claim_after), (source_before, source_after) = mine, theirs
    went_back = (claim_after - claim_before) & (source_before - source_after)
    came_forward = (claim_before - claim_after) & (source_after - source_before)
    if went_back and came_forward:
        return f"'{min(came_forward)}' and '{min(went_back)}' trade sides of the contrast"
    return None


def role_swap(claim: str, source: str, parser: Parser | None = None) -> str | None:
    """Why the claim gives a name another role than the source does around a verb both use, or None."""
    claim_doc, source_doc = (parser or shared_parser()).parse_many([claim, source])
    # One reading of each text's verbs, light ones with a doer included (`_names_traded` reads those too).
    claim_all, source_all = _uses(claim_doc, light=True), _uses(source_doc, light=True)
    claim_uses = [u for u in claim_all if u.lemma not in _LIGHT]
    source_uses = [u for u in source_all if u.lemma not in _LIGHT]
    claim_nominal, source_nominal = _nominal_uses(claim_doc), _nominal_uses(source_doc)
    claim_places, source_places = _places_of(claim_uses + claim_nominal), _places_of(source_uses + source_nominal)
    for mine, theirs in ((claim_uses, source_uses), (claim_nominal, source_nominal)):
        same: dict[str, list[_Use]] = {}
        for use in theirs:
            same.setdefault(use.lemma, []).append(use)
        for use in mine:
            if use.lemma in same:
                reason = _replaced(use, same[use.lemma], claim_places, source_places)
                if reason:
                    return reason
    by_lemma: dict[str, list[_Use]] = {}
    for use in source_uses:
        by_lemma.setdefault(use.lemma, []).append(use)
    for use in claim_uses:
        if use.lemma in by_lemma:
            reason = _moved(use, by_lemma[use.lemma])
            if reason:
                return reason
    return (
        _traded(claim_uses, source_uses)
        or _names_traded(claim_doc, source_doc, claim_all, source_all)
        or _bindings(claim_uses, source_uses)
        or _crossed_clauses(claim_doc, source_doc)
        or _reversed(claim_uses, source_uses)
        or _compared_the_other_way(claim_doc, source_doc)
        or _unpaired(claim_doc, source_doc)
        or _directions_traded(claim_doc, source_doc)
        or _description_moved(claim_doc, source_doc)
        or _slots_traded(claim_uses + claim_nominal, source_uses + source_nominal)
        or _contrast_traded(claim_doc, source_doc)
    )


def _stem_tokens(doc: Doc, stem: str) -> list[Token]:
    return [t for t in doc if t.is_alpha and porter_stem(t.lower_) == stem]


def _tree_distance(a: Token, b: Token) -> int:
    """Edges between two tokens of one parse."""
    up = {a.i: 0}
    for n, ancestor in enumerate(a.ancestors, 1):
        up[ancestor.i] = n
    if b.i in up:
        return up[b.i]
    for n, ancestor in enumerate(b.ancestors, 1):
        if ancestor.i in up:
            return n + up[ancestor.i]
    return len(a.doc)


NEIGHBOURHOOD = 2  # edges within which a word's neighbours are looked for


def _neighbours(token: Token) -> list[Token]:
    return [
        t
        for t in token.doc
        if t.i != token.i
        and t.is_alpha
        and t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM")
        and _tree_distance(token, t) <= NEIGHBOURHOOD
    ]


def same_slot(claim: str, source: str, claim_stem: str, source_stem: str, parser: Parser | None = None) -> bool:
    """True when a claim word (by stem) and a source word stand in the same place of the parse: a word near the
    claim's (within two edges: its head, its dependents, its siblings) is near the source's too ("after China,
    one of the largest creditors, signed up" and "after Japan, one of the biggest creditors, signed up"; "Terrorism
    Act" and "Public Order Act"), or both are their sentence's main predicate. Two words of a class in unrelated
    parts of the sentences ("a defeat by Italy would make ..." and "... favourites to win the Wooden Spoon") are
    no substitution. When a word cannot be found in the parse (tokenised differently), it counts as in place."""
    claim_doc, source_doc = (parser or shared_parser()).parse_many([claim, source])
    mine, theirs = _stem_tokens(claim_doc, claim_stem), _stem_tokens(source_doc, source_stem)
    if not mine or not theirs:
        return True
    for t in mine:
        lemmas = {n.lemma_.lower() for n in _neighbours(t)}
        for u in theirs:
            if t.dep_ == "ROOT" and u.dep_ == "ROOT":
                return True
            if any(n.lemma_.lower() in lemmas for n in _neighbours(u)):
                return True
    return False


# Relations by which a name says which one of a thing is meant: "PCS leader", "Portsmouth's chairman", "the
# chairman of Portsmouth", "cleared by the Greek federation".
_NAMING = frozenset({"compound", "poss", "nmod", "pobj"})


def _naming_names(token: Token) -> dict[str, set[str]]:
    """Relation -> proper-noun words naming `token` (for "pobj", of the preposition "of" or "by" on it)."""
    found: dict[str, set[str]] = {}
    for child in token.children:
        if child.dep_ in ("compound", "poss", "nmod") and child.pos_ == "PROPN":
            found.setdefault("owner", set()).update(_name_keys(child))
        elif child.dep_ in ("prep", "agent") and child.lower_ in ("of", "by"):
            for obj in (c for c in child.children if c.dep_ == "pobj" and c.pos_ == "PROPN"):
                found.setdefault(child.lower_, set()).update(_name_keys(obj))
    return found


def renamed(
    claim: str, source: str, same: Callable[[str, str], bool] | None = None, parser: Parser | None = None
) -> str | None:
    """A word both texts share, named by one name in the claim and another in the source: "Unison leader Mark
    Serwotka" from "PCS leader Mark Serwotka", "cleared by the IAAF" from "cleared by the Greek Athletics Federation
    (Segas)". The claim's name must be absent from the source sentence, and the source's from the claim, and
    `same(claim name, source name)` must not call them one entity (an abbreviation, an alias)."""
    claim_doc, source_doc = (parser or shared_parser()).parse_many([claim, source])
    claim_words = {t.lower_ for t in claim_doc}
    source_words = {t.lower_ for t in source_doc}
    theirs: dict[str, list[dict[str, set[str]]]] = {}
    for token in source_doc:
        if token.pos_ in ("NOUN", "VERB") and token.is_alpha:
            theirs.setdefault(token.lemma_.lower(), []).append(_naming_names(token))
    for token in claim_doc:
        if token.pos_ not in ("NOUN", "VERB") or token.lemma_.lower() not in theirs:
            continue
        for relation, keys in _naming_names(token).items():
            new = {k for k in keys if k not in source_words}
            if not new:
                continue
            for names in theirs[token.lemma_.lower()]:
                other = {k for k in names.get(relation, set()) if k not in claim_words}
                if not other or keys & names.get(relation, set()):
                    continue
                if same is not None and any(same(a, b) for a in new for b in other):
                    continue
                return f"'{min(new)}' where the source says '{min(other)}' ({token.lemma_.lower()})"
    return None


def roles_agree(claim: str, source: str, stems: Iterable[str], parser: Parser | None = None) -> bool:
    """True when the parse puts each named word (by stem) that it gives a role in the same place of a word both
    texts share, and in no other place of it (and gives at least one of them a role): a word-order check that calls
    them swapped has been misled (a passive participle, a possessive). Used to veto `retrieval.roles`, which cannot
    see the parse."""
    claim_doc, source_doc = (parser or shared_parser()).parse_many([claim, source])
    claim_places = _stemmed(_places_of(_uses(claim_doc) + _nominal_uses(claim_doc)))
    source_places = _stemmed(_places_of(_uses(source_doc) + _nominal_uses(source_doc)))
    agreeing = 0
    for stem in stems:
        mine, theirs = claim_places.get(stem, set()), source_places.get(stem, set())
        if not mine and not theirs:
            continue  # the parse gives it no role on either side ("Tehran's airport"): no evidence either way
        if not mine & theirs:
            return False
        shared_words = {word for word, _ in mine} & {word for word, _ in theirs}
        if {p for p in mine if p[0] in shared_words} != {p for p in theirs if p[0] in shared_words}:
            return False
        agreeing += 1
    return agreeing > 0


def _stemmed(places: _Places) -> _Places:
    """Places by the stem of the name, with "with" read as the subject (see WITH)."""
    found: _Places = {}
    for key, held in places.items():
        found.setdefault(porter_stem(key), set()).update((w, AGENT if p == WITH else p) for w, p in held)
    return found


def one_name(text: str, first: str, second: str) -> bool:
    """True when two name words (by stem) stand next to each other in `text`: parts of one name."""
    words = [porter_stem(w.strip(".,;:'\"’()").lower()) for w in re.sub(r"['’]s\b", " ", text).split()]
    return any({a, b} == {first, second} for a, b in zip(words, words[1:], strict=False))
