"""Sentence boundaries with exact character spans.

Citations quote whole sentences verbatim, so the splitter returns spans into the original text instead of rewritten
strings. It is a small rule-based splitter tuned for news prose (honorifics, initials, U.S.-style abbreviations,
closing quotes after the full stop); it never drops or reorders characters, which the property tests check.
"""

from __future__ import annotations

import re

# Words that end with a full stop without ending the sentence ("Mr. Stoltenberg", "Gen. Smith", "No. 10").
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen sen rep gov lt col capt sgt maj adm cmdr st jr sr rev hon pres supt insp det
    mt ft vs etc e.g i.e inc ltd co corp bros dept univ est approx fig no nos vol pp jan feb mar apr jun jul aug
    sep sept oct nov dec u.s u.k u.n e.u d.c a.m p.m""".split()
)

# A candidate boundary: sentence punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"""([.!?…]+)(["'”’»)\]]*)(\s+)""")
_NEXT_STARTS_SENTENCE = re.compile(r"""["'“‘«(\[]*[A-Z0-9À-ÖØ-Þ]""")
_PARAGRAPH = re.compile(r"\n\s*\n|\n")


def _is_abbreviation(text: str, dot_pos: int) -> bool:
    """True when the full stop at `dot_pos` closes an abbreviation or an initial rather than a sentence."""
    start = dot_pos
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot_pos].lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    # Single initials ("J. K. Rowling") and dotted acronyms ("U.S.", "a.m.").
    return len(word) == 1 or ("." in word and len(word.replace(".", "")) <= 4)


def _split_paragraph(text: str, offset: int, end: int, spans: list[tuple[int, int]]) -> None:
    start = offset
    for match in _BOUNDARY.finditer(text, offset, end):
        punct_end = match.end(2)
        next_pos = match.end(3)
        if next_pos >= end:
            break
        if not _NEXT_STARTS_SENTENCE.match(text, next_pos):
            continue
        if match.group(1) == "." and _is_abbreviation(text, match.start(1)):
            continue
        spans.append((start, punct_end))
        start = next_pos
    # Trim trailing whitespace of the last piece.
    stop = end
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    if stop > start:
        spans.append((start, stop))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return `(start, end)` spans of the sentences of `text`, in order; line breaks always end a sentence.

    Every span is stripped of surrounding whitespace and `text[start:end]` is the sentence verbatim.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in _PARAGRAPH.finditer(text):
        _split_block(text, pos, para.start(), spans)
        pos = para.end()
    _split_block(text, pos, len(text), spans)
    return spans


def _split_block(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    if start < end:
        _split_paragraph(text, start, end, spans)
