"""Words for comparing a claim with its source: folding, function words, content-word stems and tokens.

Shared by the verifier and its checks (numbers, polarity, roles, substitutions) so that every check sees the same
words: a claim and a sentence are compared on folded text (typographic quotes, dashes and accents normalised) and
on Porter stems of their content words, never on the raw characters.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass

import newsdesk.text as _text
from retrieval.stemming import porter_stem

# The claim-checking word pattern and function words (not evidence of support when shared, and not names when
# capitalised at a sentence start) come from the one shared text module.
WORD = _text.WORD
STOPWORDS = _text.CLAIM_STOPWORDS
# Prefixes that negate a word: "unlikely", "illegal", "disagree", "nonexistent" (the polarity and substitution
# checks read "unable" against "able").
NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non")
_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def fold(text: str) -> str:
    """Typographic quotes and dashes to ASCII, accents removed, lower case: for comparing, never for quoting."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _bare(word: str) -> str:
    return re.sub(r"'s$", "", word)


def content_stems(text: str) -> set[str]:
    """Porter stems of the content words of `text` (possessives stripped, function words dropped)."""
    stems: set[str] = set()
    for word in WORD.findall(fold(text)):
        word = _bare(word)
        if len(word) > 1 and word not in STOPWORDS:
            stems.add(porter_stem(word))
    return stems


@dataclass(frozen=True)
class Token:
    """One word of a sentence: its folded form, its stem, whether it is a content word or a name, and where."""

    word: str
    stem: str
    content: bool
    name: bool
    index: int
    start: int
    end: int
    initial: bool = False  # first word of a sentence: a name only by the company it keeps
    possessive: bool = False  # "Kuchma's": the owner of what follows
    acronym: bool = False  # "BBC", "O2": a name wherever it stands


_INITIAL = re.compile(r"(?:^|[.!?:\n])[\s\"'“‘(\[]*$")


def name_words(*texts: str) -> set[str]:
    """Folded words written capitalised somewhere other than a sentence start: the names these texts use."""
    found: set[str] = set()
    for text in texts:
        for match in WORD.finditer(text):
            raw = match.group(0)
            if raw[:1].isupper() and not _INITIAL.search(text[max(0, match.start() - 4) : match.start()]):
                found.add(_bare(fold(raw)))
    return found


_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand".split()
)
# Hyphenated compounds are one token ("re-release", "son-in-law"): "out-selling" and "outselling" must align.
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


_ODD_NAME = re.compile(r"[a-z]+[A-Z][\w]*|\d+[a-z]{3,}")  # "eBay", "iPod", "3ami"
_NOT_NAMES = frozenset({"mph", "kmh", "kph"})


def _odd_name(raw: str) -> bool:
    """A brand written without a leading capital ("eBay", "3ami"): a name all the same. Not "10mph" or "1990s"."""
    return bool(_ODD_NAME.fullmatch(raw)) and raw.lstrip("0123456789").lower() not in _NOT_NAMES


def tokens(text: str, names: set[str] | None = None) -> list[Token]:
    """Every word of `text` in order. A capitalised content word is a name; at a sentence start only when `names`
    (see `name_words`) holds it or a name follows it ("Roddick beat Federer", "Tim Howard said"; not "Several
    states")."""
    known = name_words(text) if names is None else names
    out: list[Token] = []
    matches = list(_TOKEN.finditer(text))
    for i, match in enumerate(matches):
        raw = match.group(0)
        folded = fold(raw)
        word = _bare(folded).replace("-", "")
        content = len(word) > 1 and word not in STOPWORDS and not word.isdigit()
        name = content and (raw[:1].isupper() or _odd_name(raw)) and word not in _NUMBER_WORDS
        initial = bool(_INITIAL.search(text[max(0, match.start() - 4) : match.start()]))
        if name and initial and word not in known:
            following = matches[i + 1].group(0) if i + 1 < len(matches) else ""
            name = (raw.isupper() and len(raw) > 1) or _bare(fold(following)) in known
        stem = porter_stem(word) if word.isalpha() else word
        possessive = folded.endswith("'s")
        acronym = content and raw.isupper() and len(raw) > 1
        out.append(Token(word, stem, content, name, i, match.start(), match.end(), initial, possessive, acronym))
    return out


_ACRONYM_SKIP = frozenset({"of", "for", "and", "the", "on", "in", "to", "de"})


def abbreviates(name: str, text: str) -> bool:
    """True when `name` (folded) is the initials of a run of capitalised words in `text`: "dwp" for "Department for
    Work and Pensions", "usada" for "US Anti-Doping Agency". Models abbreviate names the article spells out."""
    if not 2 <= len(name) <= 8 or not name.isalpha():
        return False
    initials = ""
    for word in re.findall(r"[^\W\d_]+", text):
        if word.lower() in _ACRONYM_SKIP and initials:
            continue
        if word[:1].isupper():
            initials += word.lower() if word.isupper() and len(word) <= 4 else word[0].lower()
            if name in initials:
                return True
        else:
            initials = ""
    return False


_NAME_RUN = re.compile(r"(?:[A-Z][^\W\d_]*(?:['’]s)?(?:\s+|-)(?:(?:of|de|von|van|al|bin)\s+)?)+[A-Z][^\W\d_]*")
_TITLES = frozenset("sir lord lady dame baroness baron king queen prince princess pope saint st".split())


def same_entity(a: str, b: str, text: str) -> bool:
    """True when folded names `a` and `b` belong to one name in `text`: "Heath" and "Edward" of "Edward Heath", a
    title ("Sir Edward"), an abbreviation ("DWP" of "Department for Work and Pensions") or a demonym."""
    if a in _TITLES or b in _TITLES or abbreviates(a, text) or abbreviates(b, text):
        return True
    if len(os.path.commonprefix([a, b])) >= 5:  # a demonym or a spelling: "Ukraine" and "Ukrainian"
        return True
    short, long_ = sorted((a.removesuffix("s"), b.removesuffix("s")), key=len)
    if len(short) >= 3 and long_.startswith(short) and short != long_:  # "Lib Dems" for "Liberal Democrats"
        return True
    for run in re.findall(
        r"(?:[A-Z][^\W\d_]*(?:['’]s)?(?:\s+|-)(?:(?:of|de|von|van|al|bin)\s+)?)+[A-Z][^\W\d_]*", text
    ):
        words = {_bare(fold(w)) for w in re.findall(r"[^\W\d_]+(?:['’]s)?", run)}
        words |= {f"{w}s" for w in words}  # "the Two Ronnies star" is Ronnie Corbett
        if a in words and b in words:
            return True
    return False
