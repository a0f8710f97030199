"""Substitutions: the claim says X where its supporting sentence says a different Y in the same place.

Contradictions that share most words with their source ("charged under the Terrorism Act" for "charged under the
Public Order Act", "sales had started to slow" for "sales were accelerating", "every week" for "every month") score
like paraphrases. Two kinds of evidence make a swap of words a contradiction rather than a rewording:

* names: the claim and the sentence are aligned word by word (content stems, in order); where the alignment
  replaces a stretch of the claim holding a name the sentence lacks by a stretch holding a name the claim lacks,
  the claim names the wrong thing. Models rarely paraphrase a name; they do substitute one.
* closed classes of mutually exclusive words (directions, time units, weekdays, months, compass points, win/lose):
  a claim word of a class, absent from the sentence, while the sentence holds a different word of the same class
  that the claim lacks.

Synonyms of ordinary words ("hired" for "turned to") are left to the semantic score: they are far more often
paraphrase than error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import SequenceMatcher

from retrieval.stemming import porter_stem
from retrieval.words import NEGATING_PREFIXES, Token, name_words, same_entity, tokens

# Each group: words that cannot describe the same thing at once. Words within a tuple are one meaning (stems equal).
_EXCLUSIVE: list[list[tuple[str, ...]]] = [
    [
        ("rise", "rose", "risen", "rising", "increase", "increased", "grow", "grew", "growth", "gain", "gained",
         "higher", "climb", "climbed", "jump", "jumped", "surge", "surged", "boost", "boosted", "soar", "soared",
         "lift", "lifted"),
        ("fall", "fell", "fallen", "falling", "decrease", "decreased", "drop", "dropped", "decline",
         "declined", "lower", "shrink", "shrank", "cut", "slump", "slumped", "dip", "dipped", "plunge", "plunged",
         "depress", "depressed", "tumble", "tumbled"),
    ],
    [("accelerate", "accelerating", "speed", "faster", "quicken"), ("slow", "slowing", "slowed", "slower")],
    [("more", "most", "greater", "larger", "largest", "biggest", "bigger", "many", "plenty", "lots", "numerous"),
     ("less", "least", "fewer", "few", "smaller", "smallest")],
    [("best", "better"), ("worst", "worse")],
    [("win", "won", "wins", "winning", "winner", "victory", "beat"), ("lose", "lost", "loses", "losing", "loser",
                                                                      "defeat", "defeated")],
    [("profit", "profits"), ("loss", "losses")],
    # Injuries: "hamstring and back problems" is not "hamstring and shoulder problems".
    [("back",), ("shoulder", "shoulders"), ("knee", "knees"), ("ankle", "ankles"), ("hamstring", "hamstrings"),
     ("groin",), ("foot", "feet"), ("hand", "hands"), ("wrist", "wrists"), ("elbow", "elbows"), ("neck",),
     ("hip", "hips"), ("thigh", "thighs"), ("calf", "calves"), ("achilles",), ("toe", "toes"), ("finger", "fingers")],
    # Currencies: "8.28 to the euro" is not "8.28 to the US dollar".
    [("dollar", "dollars"), ("euro", "euros"), ("pound", "pounds", "sterling"), ("yen",)],
    [("buy", "bought", "buying", "acquire", "acquired"), ("sell", "sold", "selling")],
    [("approve", "approved", "accept", "accepted", "backed", "support", "supported"),
     ("reject", "rejected", "oppose", "opposed", "veto", "vetoed")],
    [("allow", "allowed", "permit", "permitted", "legalise", "legalised"), ("ban", "banned", "forbid", "prohibit",
                                                                              "prohibited")],
    [("strong", "stronger", "strongest"), ("weak", "weaker", "weakest")],
    [("north", "northern"), ("south", "southern"), ("east", "eastern"), ("west", "western")],
    [("minute", "minutes"), ("hour", "hours"), ("day", "days", "daily"), ("night", "nights", "nightly"),
     ("week", "weeks", "weekly"), ("month", "months", "monthly"),
     ("year", "years", "annual", "annually", "annum")],
    [("left",), ("right",)],
    [("ahead", "leading"), ("behind", "trailing", "down")],
    [("large", "big", "huge", "vast", "massive"), ("small", "little", "tiny", "minority")],
    [("often", "frequently", "usually", "regularly", "always"), ("rarely", "seldom", "hardly")],
    [("monday",), ("tuesday",), ("wednesday",), ("thursday",), ("friday",), ("saturday",), ("sunday",)],
    [("january",), ("february",), ("march",), ("april",), ("may",), ("june",), ("july",), ("august",),
     ("september",), ("october",), ("november",), ("december",)],
    [("man", "men", "male", "boy", "boys"), ("woman", "women", "female", "girl", "girls")],
    [("public",), ("private",)],
    [("same", "identical", "similar", "alike"), ("different", "differ", "differs", "distinct")],
    [("good", "well", "strong", "positive", "excellent", "healthy"), ("poor", "poorly", "bad", "badly", "negative",
                                                                      "weak")],
    [("cheap", "cheaper", "cheapest", "inexpensive"), ("expensive", "costly", "dearer")],
    [("easy", "easier", "easiest"), ("hard", "harder", "difficult", "tough", "tougher")],
    [("safe", "safer", "safest"), ("dangerous", "unsafe", "risky")],
    [("success", "successful", "succeeded", "succeed"), ("failure", "failed", "unsuccessful", "fail")],
    [("true", "correct", "accurate"), ("false", "wrong", "incorrect", "inaccurate")],
    [("open", "opened", "opening"), ("close", "closed", "closing", "shut")],
    [("start", "started", "begin", "began", "launch", "launched"), ("end", "ended", "stop", "stopped", "finish",
                                                                      "finished")],
    [("increase", "increased", "raise", "raised"), ("reduce", "reduced", "lower", "lowered")],
    [("agree", "agreed", "agreement"), ("disagree", "disagreed", "disagreement")],
    [("include", "included", "including"), ("exclude", "excluded", "excluding")],
    [("guilty",), ("innocent", "acquitted", "cleared")],
    [("young", "younger", "youngest"), ("old", "older", "oldest")],
    [("early", "earlier", "earliest"), ("late", "later", "latest")],
    [("high", "higher", "highest"), ("low", "lower", "lowest")],
    [("long", "longer", "longest"), ("short", "shorter", "shortest")],
    [("full", "fully"), ("empty", "partly", "partially")],
    [("domestic",), ("foreign", "overseas", "abroad")],
    # Government portfolios: "shadow health secretary" is not the "shadow education secretary".
    [("health",), ("education",), ("defence",), ("transport",), ("environment",), ("culture",), ("treasury",),
     ("justice",)],
]  # fmt: skip
_CLASS: dict[str, tuple[int, int]] = {
    porter_stem(word): (g, m)
    for g, group in enumerate(_EXCLUSIVE)
    for m, meaning in enumerate(group)
    for word in meaning
}


# Function words that belong to a class above (they are not content words elsewhere).
_FUNCTION_MEMBERS = frozenset({"more", "most", "few", "many"})


Slot = Callable[[str, str], bool]


def _any_slot(_mine: str, _theirs: str) -> bool:
    return True


def _exclusive_clash(claim_stems: set[str], source_stems: set[str], slot: Slot = _any_slot) -> str | None:
    """A claim word of a class whose place in the source holds another word of that class. A same-meaning word
    elsewhere in the source does not excuse it ("a slump in sales ... the falling popularity" against "a slump in
    sales ... the growing popularity"); one in the same place does ("sales rose" for "sales grew")."""
    mine = [(s, _CLASS[s]) for s in sorted(claim_stems - source_stems) if s in _CLASS]
    theirs = [(s, _CLASS[s]) for s in sorted(source_stems - claim_stems) if s in _CLASS]
    for word, (group, meaning) in mine:
        if any(_CLASS.get(s) == (group, meaning) and slot(word, s) for s in source_stems):
            continue  # the source says it too, in that place (in other words)
        for other, (g, m) in theirs:
            if g != group or m == meaning or not slot(word, other):
                continue
            if any(_CLASS.get(s) == (g, m) and slot(s, other) for s in claim_stems):
                continue  # the claim says the source's word too, there
            return f"'{word}' where the source says '{other}'"
    return None


def _capitalised(text: str, token: Token) -> bool:
    return token.content and text[token.start : token.start + 1].isupper()


_NEGATING_PREFIXES = (*NEGATING_PREFIXES, "non-")


def _negated_form(claim: str, source: str) -> str | None:
    """A word on one side and its prefixed negation on the other: "likely" and "unlikely", "legal" and "illegal"."""
    claim_words = {w.word: w.stem for w in tokens(claim) if w.content}
    source_words = {w.word: w.stem for w in tokens(source) if w.content}
    for mine, theirs, mine_is_claim in ((claim_words, source_words, True), (source_words, claim_words, False)):
        their_stems = set(theirs.values())
        for word, stem in mine.items():
            if stem in their_stems:
                continue
            for prefix in _NEGATING_PREFIXES:
                base = word[len(prefix) :]
                if word.startswith(prefix) and len(base) >= 4 and porter_stem(base) in their_stems:
                    plain_side = source if mine_is_claim else claim
                    negation = rf"\b(?:not|never|no longer|no|n't)\s+(?:\w+\s+){{0,2}}{re.escape(porter_stem(base))}"
                    if re.search(negation, plain_side, re.I):
                        continue  # "unable" for "would not be able": the same thing
                    negated, plain = (word, base) if mine_is_claim else (base, word)
                    return f"'{negated}' where the source says '{plain}'"
    return None


def _proper(text: str, token: Token) -> bool:
    """A sentence's capitalised first word is a name when the parser tags it a proper noun ("Vodafone offers"),
    not when it is an ordinary word ("Past Oscar winners")."""
    from retrieval.parsing import shared_parser

    doc = shared_parser().parse(text)
    return any(t.idx == token.start and t.pos_ == "PROPN" for t in doc)


def _name_swap(claim: str, source: str, context: str, slot: Slot = _any_slot) -> str | None:
    known = name_words(claim, source, context)
    claim_words = [w for w in tokens(claim, known) if w.content]
    source_words = [w for w in tokens(source, known) if w.content]
    claim_names = {w.stem for w in claim_words if w.name}
    source_stems = {w.stem for w in source_words}
    matcher = SequenceMatcher(None, [w.stem for w in claim_words], [w.stem for w in source_words], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        ours = [
            w
            for w in claim_words[i1:i2]
            if (w.name or _capitalised(claim, w))
            and w.stem not in source_stems
            and (not w.initial or w.acronym or w.word in known or _proper(claim, w))
        ]
        # A capitalised first word is a name only when it is one elsewhere too ("Several states" is no name).
        others = [
            w
            for w in source_words[j1:j2]
            if w.name and (not w.initial or w.acronym or w.word in known) and w.stem not in claim_names
        ]
        clash = [(a, b) for a in ours for b in others if not same_entity(a.word, b.word, context)]
        if ours and others and len(clash) == len(ours) * len(others):
            placed = next(((a, b) for a, b in clash if slot(a.stem, b.stem)), None)
            if placed:
                return f"'{placed[0].word}' where the source says '{placed[1].word}'"
    return None


# Spans of time one side may state in another unit: "within a year" is "in 12 months".
_SPANS = [
    (re.compile(r"\b(?:12|twelve) months\b", re.I), "a year"),
    (re.compile(r"\b(?:52|fifty-two) weeks\b", re.I), "a year"),
    (re.compile(r"\b(?:7|seven) days\b", re.I), "a week"),
    (re.compile(r"\b(?:24|twenty-four) hours\b", re.I), "a day"),
    (re.compile(r"\b(?:60|sixty) minutes\b", re.I), "an hour"),
]


def _spans_as_units(text: str) -> str:
    for pattern, unit in _SPANS:
        text = pattern.sub(unit, text)
    return text


_SYMBOL_WORDS = {"$": "dollar", "£": "pound", "€": "euro", "¥": "yen"}


def substituted(claim: str, source: str, context: str = "", slot: Slot = _any_slot) -> str | None:
    """Why the claim substitutes a word of its source, or None. `context` (the whole cited passage and its title)
    tells which names are one entity ("Edward Heath" makes "Heath" for "Sir Edward" no substitution). `slot(claim
    stem, source stem)` says whether the two words stand in the same place (`retrieval.syntax.same_slot` reads it
    from a parse; by default any place will do)."""
    claim_stems = {w.stem for w in tokens(_spans_as_units(claim)) if w.content or w.word in _FUNCTION_MEMBERS}
    source_stems = {w.stem for w in tokens(_spans_as_units(source)) if w.content or w.word in _FUNCTION_MEMBERS}
    # A currency symbol is its word: "$1.8 trillion" holds "dollars".
    source_stems |= {porter_stem(word) for symbol, word in _SYMBOL_WORDS.items() if symbol in source}
    return (
        _exclusive_clash(claim_stems, source_stems, slot)
        or _negated_form(claim, source)
        or _name_swap(claim, source, f"{context}\n{source}", slot)
    )
