"""The one home of the small text rules every part of newsdesk must agree on: stopwords, names, citation markers,
folding.

Before this module there were five stopword lists, three name patterns and three citation-marker patterns in
different modules, and they drifted: the retriever, the verifier and the evaluation each skipped different words.
Every list here is built from one core of English function words, plus a named extension for each use and the
reason for it, so a change to the core reaches every consumer and a difference between two consumers is visible.
Nothing here imports anything heavy: the CLI's fast paths may use it.
"""

from __future__ import annotations

import re
import unicodedata

# --- stopwords -------------------------------------------------------------------------------------------------
FUNCTION_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves""".split()
)
# Words of reporting: every news sentence has them, so they never tell two sentences apart.
REPORTING_WORDS = frozenset("also said say says told according".split())
TITLES = frozenset("mr mrs ms dr".split())

# Retrieval (query terms for SQLite FTS5): a question's words about the corpus itself carry nothing either.
QUERY_STOPWORDS = FUNCTION_WORDS | REPORTING_WORDS | frozenset("tell article articles news story".split())

# Verification (is a claim supported by its quote?): shared function words, titles, contractions and the words a
# model uses to talk about its passages are no evidence; they are not names when capitalised at a sentence start.
CLAIM_STOPWORDS = (
    FUNCTION_WORDS
    | REPORTING_WORDS
    | TITLES
    | frozenset(
        """tells however yes per its it's he's she's they're there's that's one may might must shall still yet
        based passage passages article articles answer""".split()
    )
)

# The evaluation's support metric: a deliberately short list (a published metric must not move when the
# verifier's list is tuned), kept here so the difference from CLAIM_STOPWORDS is in one place.
SUPPORT_METRIC_STOPWORDS = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been being it its this that these those"
    " he she they we you i his her their our your him them us me my mr mrs ms dr said says say has have had do does did"
    " not no will would can could should may might also than then there here which who whom whose what when where why"
    " how so if into about over after before up out".split()
)

# --- words and names -------------------------------------------------------------------------------------------
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")  # letters/digits, with inner apostrophes ("Kyiv's", "don’t")
# A capitalised word (with inner apostrophes): the verifier's unit for "names the article never mentions".
CAPITALISED_WORD = re.compile(r"\b[A-Z][^\W_]*(?:['’][^\W_]+)*")
# A name-like token in a question: also keeps dots and hyphens inside ("U.S.", "Jean-Luc") and single capitals.
NAME_TOKEN = re.compile(r"\b[A-Z][\w’'\-.]*[A-Za-z0-9]|\b[A-Z]\b")
# One word of a byline's name ("By Andrew Thornebrooke", "von der Leyen", "J. Smith"), matched whole.
BYLINE_NAME_WORD = re.compile(r"^(?:[A-Z][a-zA-Z'’\-]+|[A-Z]\.|de|van|von|der|da|di|la|le|bin|al-[A-Z][a-z]+)$")

# --- citation markers ------------------------------------------------------------------------------------------
MARKER = re.compile(r"\[(\d+)\]")  # one marker; group 1 is its number
MARKER_WITH_SPACE = re.compile(r"\s*\[\d+\]")  # one marker and the space before it: what stripping removes
MARKER_RUN = re.compile(r"(?:\s*\[\d+\])+")  # "[1][2]" or "[1] [2]": the markers closing one claim
MARKER_LIST = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")  # models also write "[1, 2]"


def strip_markers(text: str) -> str:
    """`text` without its citation markers (also "[1, 2]"), whitespace collapsed: an earlier answer as plain text."""
    return " ".join(MARKER_LIST.sub("", text).split())


def marker_numbers(text: str) -> list[int]:
    """The citation numbers in `text`, in order of appearance, repeats kept."""
    return [int(n) for n in MARKER.findall(text)]


# --- folding ---------------------------------------------------------------------------------------------------
PUNCTUATION_FOLD = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)
_WS = re.compile(r"\s+")


def fold_punctuation(text: str, *, case: bool = True) -> str:
    """Typographic quotes, dashes, ellipses and no-break spaces to ASCII, whitespace collapsed, case folded.

    For comparing an answer with a reference ("The UK’s" matches "the UK's"); never for quoting.
    """
    folded = _WS.sub(" ", text.translate(PUNCTUATION_FOLD)).strip()
    return folded.casefold() if case else folded


def fold(text: str) -> str:
    """Typographic punctuation to ASCII, accents removed ("Zelénskyy" = "Zelenskyy"), lower case; spaces kept as they
    are. For comparing words of a claim with words of its source; never for quoting."""
    text = unicodedata.normalize("NFKD", text.translate(PUNCTUATION_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


# Month and day names: capitalised, but dates, not the names a question asks for or a claim must find in its source.
MONTH_NAMES = frozenset("january february march april may june july august september october november december".split())
DAY_NAMES = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
CALENDAR_WORDS = MONTH_NAMES | DAY_NAMES
