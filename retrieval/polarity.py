"""Polarity, both ways: a negated source does not support an affirmative claim, and an affirmative one does not
support a negated claim.

Why per word and not per sentence: a true claim often leaves out a negated side clause of its source ("Federer, who
has not had a coach since May, beat Roddick" supports "Federer beat Roddick"), while a false one affirms exactly what
the source negates ("there was not a huge amount of rugby played" does not support "a huge amount of rugby was
played"). So every content word gets a polarity: negative when it lies in the scope of a negation cue (the words
after "not", "no", "never", "without", "denied", "lack", ... up to the end of the clause), positive otherwise. When
most of the words one side negates appear affirmed on the other, polarity conflicts; when both negate a shared word,
they agree (word order differs between rewordings). A negated claim needs some negation in its source at all.
"Did not ... until 2001" is affirmative (it did, in 2001), and so are "no doubt", "not only" and their kin.
"""

from __future__ import annotations

import re

from retrieval.stemming import porter_stem
from retrieval.words import NEGATING_PREFIXES, Token, fold, tokens

# Cue words, folded. "n't" endings are cues too ("didn't", "wasn't").
_CUES = frozenset(
    """not no never nor neither none nobody nothing nowhere without cannot lack lacked lacking lacks unable
    fail failed fails failing refuse refused refuses refusing reject rejected rejects rejecting deny denied denies
    denying absence absent shortage shortages scarcity insufficient unlikely no-one noone""".split()
)
# Affirmative despite a cue word: "no doubt", "not only", "no matter", "not least", "nothing but".
_IDIOMS = re.compile(
    r"\b(?:no doubt|not only|no matter|not least|nothing but|no less than|no fewer than|not just|never mind"
    r"|if not|whether or not|no shortage|no lack|no absence|not fail|never fail|not as|\w+n't as|not so)\b"
)
# A negation's scope ends at the end of its clause.
# A quotation mark opens or closes someone's words: "a party not trusted with the economy to 'the only party
# trusted with the economy'" negates only the first "trusted".
_CLAUSE_END = re.compile(r"[,;:.!?()\"“”]|\s-\s|\b(?:but|while|whereas|although|though|yet|however|because)\b")
SCOPE_WORDS = 8
_UNTIL = re.compile(r"\b(?:until|till|unless)\b")


def _is_cue(token: Token) -> bool:
    return token.word in _CUES or token.word.endswith("n't")


def _scope_end(folded: str, start: int) -> int:
    """Where a negation starting at `start` ends: the end of its clause. "Not yet" is one cue, not a clause end."""
    boundary = _CLAUSE_END.search(folded, start)
    if boundary and boundary.group(0) == "yet" and not folded[start : boundary.start()].strip():
        boundary = _CLAUSE_END.search(folded, boundary.end())
    while boundary and boundary.group(0) == '"':
        scare = _SCARE_QUOTE.match(folded, boundary.start())
        if not scare:
            break
        boundary = _CLAUSE_END.search(folded, scare.end())  # 'does not have to be "trained"': one word quoted
    return boundary.start() if boundary else len(folded)


# A word or two in quotation marks inside a clause is a scare quote, not someone else's words beginning.
_SCARE_QUOTE = re.compile(r'"[^"\s]+(?:\s[^"\s]+)?"')


_TITLE_CUE = re.compile(r"\b(?:No|Not|Never|Nothing|None|Nobody|Without|Don't|Can't|Won't|Ain't)(?=\s+[A-Z0-9])")


def _without_titles(text: str) -> str:
    """`text` with capitalised cue words inside a title blanked ("Boys Don't Cry", "released No More"): a title
    negates nothing. A capitalised cue that opens a sentence, a quote or a reply ("No. Definitely not.") stays."""

    def blank(match: re.Match[str]) -> str:
        before = text[: match.start()].rstrip(" \"'“‘(")
        return match.group(0) if not before or before[-1] in ".!?:;" else " " * len(match.group(0))

    return _TITLE_CUE.sub(blank, text)


# Phrasal verbs of refusing, read as the cue word they mean: "turned down the offer" is "rejected the offer".
_PHRASAL_CUES = re.compile(r"\b(?:turn|turns|turned|turning) down\b", re.IGNORECASE)


def polarities(text: str) -> dict[str, set[bool]]:
    """Content-word stem -> the polarities it occurs with (True: inside a negation's scope)."""
    text = _PHRASAL_CUES.sub("rejected", _without_titles(text))
    folded = fold(text)
    idioms = [m.span() for m in _IDIOMS.finditer(folded)]
    words = tokens(text)
    negative_until = -1  # character offset where the current negation's scope ends
    scoped = 0
    found: dict[str, set[bool]] = {}
    for token in words:
        if token.start >= negative_until:
            negative_until, scoped = -1, 0
        if _is_cue(token) and not any(s <= token.start < e for s, e in idioms):
            negative_until = _scope_end(folded, token.end)
            if _UNTIL.search(folded, token.end, negative_until):
                negative_until = -1  # "did not score until 2001": it did, in 2001
                continue
            scoped = 0
            continue
        if not token.content:
            continue
        negative = negative_until > token.start and scoped < SCOPE_WORDS
        if negative:
            scoped += 1
        found.setdefault(token.stem, set()).add(negative)
    return found


def is_negated(text: str) -> bool:
    """True when `text` holds a negation cue outside an affirmative idiom (and not of "not ... until")."""
    folded = _IDIOMS.sub(" ", fold(_PHRASAL_CUES.sub("rejected", _without_titles(text))))
    for token in tokens(folded):
        if _is_cue(token):
            if not _UNTIL.search(folded, token.end, _scope_end(folded, token.end)):
                return True
    return False


# Verbs that say "not" in their meaning: a claim that a project "skipped" an assessment, a player "skipped" a
# call-up or a town is "losing" a conference affirms no word its source negates ("did not carry out", "failed to
# answer", "is not to gather"). Their presence on the affirming side leaves the polarity undecided.
_NEGATIVE_MEANING = frozenset(
    """skip skips skipped skipping miss misses missed missing lose loses lost losing avoid avoids avoided avoiding
    ignore ignores ignored ignoring abandon abandons abandoned abandoning scrap scraps scrapped scrapping drop drops
    dropped dropping cancel cancels cancelled cancelling halt halts halted halting stop stops stopped stopping
    quit quits quitting snub snubs snubbed spurn spurned rebuff rebuffed dismiss dismisses dismissed rule ruled
    barred banned blocked denied less fewer""".split()
)
# Cue verbs: both sides refusing the same thing agree, whatever the word order ("the board rejected the offer" and
# "the offer had been rejected by the board"), and refusing is one cue whichever verb says it ("turned down a
# police offer" and "They refuse.").
_CUE_VERBS = {"reject": "refuse", "refus": "refuse", "declin": "refuse", "deni": "deny", "fail": "fail", "lack": "lack"}


def _negative_meaning(text: str, other: str = "") -> bool:
    """A verb of "not" ("skipped", "lacked", "less"), or a prefixed negation of a word the other side uses
    ("unnecessary" against "not necessary")."""
    words = [t.word for t in tokens(_PHRASAL_CUES.sub("rejected", text))]
    if any(w in _NEGATIVE_MEANING for w in words):
        return True
    others = {t.stem for t in tokens(other)}
    return any(
        w.startswith(p) and len(w) - len(p) >= 4 and porter_stem(w[len(p) :]) in others
        for w in words
        for p in NEGATING_PREFIXES
    )


def _same_cue_verb(claim: str, source: str) -> bool:
    def verbs(text: str) -> set[str]:
        return {
            cue
            for t in tokens(_PHRASAL_CUES.sub("rejected", text))
            for stem, cue in _CUE_VERBS.items()
            if t.word.startswith(stem)
        }

    return bool(verbs(claim) & verbs(source))


def conflict(claim: str, source: str, negated_claim_needs_negation: bool = True) -> str | None:
    """Why the claim's polarity contradicts the source's, or None when it does not.

    A shared content word that is negated on one side and affirmed on the other is a contradiction ("was played"
    against "was not played"); a negated claim whose source negates nothing is one too (unless
    `negated_claim_needs_negation` is False: for sentences that are not the claim's support).
    """
    claim_pol, source_pol = polarities(claim), polarities(source)
    shared = claim_pol.keys() & source_pol.keys()
    claim_negated = {s for s in shared if True in claim_pol[s]}
    source_negated = {s for s in shared if True in source_pol[s]}
    if claim_negated & source_negated or _same_cue_verb(claim, source):
        return None  # both negate the same thing (word order may differ: "would not make X easier")
    for negated_side, other in ((source_pol, claim_pol), (claim_pol, source_pol)):
        affirming, negating = (claim, source) if negated_side is source_pol else (source, claim)
        if _negative_meaning(affirming, negating):
            continue  # the affirming side says "not" in a verb's meaning ("skipped" for "did not carry out")
        # The words one side negates: do they mostly appear affirmed on the other side?
        scoped = [s for s in shared if negated_side[s] == {True}]
        flipped = [s for s in scoped if other[s] == {False}]
        if flipped and len(flipped) > len(scoped) - len(flipped):
            side = "negates" if negated_side is source_pol else "affirms"
            return f"the source {side} what the claim {'affirms' if side == 'negates' else 'negates'} ({flipped[0]})"
    if negated_claim_needs_negation and is_negated(claim) and not is_negated(source):
        return "the claim is negated, the source is not"
    return None
