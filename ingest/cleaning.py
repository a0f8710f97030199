"""Turn scraped article text into clean prose plus metadata.

Copy-pasted or scraped news pages carry page furniture: a repeated headline, "Updated:" stamps, video player
timestamps ("0:00"), share buttons ("twitter"), "Related Topics". Those lines are dropped; the headline, a subtitle
(standfirst) and a byline become metadata. Everything that reads as prose, including photo captions and the author's
bio, stays in the text so it can be searched and quoted. Cleaning works line by line and never rewrites the inside of
a line, so quotes taken from the cleaned text are verbatim from the source too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ingest.models import Article, RawArticle
from newsdesk.text import BYLINE_NAME_WORD

_CRUFT_LINE = re.compile(
    r"""^(?:
        (?:updated|published|posted|last\ updated|modified)\s*:?.{0,40}
      | \d{1,2}:\d{2}(?::\d{2})?(?:\s*/\s*\d{1,2}:\d{2}(?::\d{2})?)?
      | (?:twitter|x|facebook|linkedin|whatsapp|reddit|telegram|pinterest|email|e-mail|print|share|copy\ link
          |share\ this\ article|share\ on\ \w+|related\ topics|related\ articles|related\ stories|related
          |read\ more|advertisement|comments?|listen\ to\ this\ article|follow\ us|sign\ up|subscribe
          |skip\ to\ (?:main\ )?content|image|video|photo|audio|menu|home|close)
    )\s*:?$""",
    re.IGNORECASE | re.VERBOSE,
)
_BYLINE_PREFIX = re.compile(r"^(?:by|written by|words by)\s+(.{3,80})$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")


@dataclass
class _Header:
    title: str | None = None
    subtitle: str | None = None
    author: str | None = None


def normalize_text(text: str) -> str:
    """Unicode NFC, unified newlines, no control characters, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def is_cruft_line(line: str) -> bool:
    """True for page furniture that is never part of an article's prose."""
    stripped = line.strip()
    return bool(stripped) and bool(_CRUFT_LINE.match(stripped))


def looks_like_name(line: str) -> bool:
    """A byline: two to five capitalised words, no sentence punctuation ("Andrew Thornebrooke")."""
    words = line.strip().split()
    if not 2 <= len(words) <= 5 or line.strip()[-1:] in ".!?:;,":
        return False
    return all(BYLINE_NAME_WORD.match(w) for w in words)


def _is_sentence(line: str) -> bool:
    return len(line.split()) >= 6 and line.rstrip()[-1:] in '.!?"”’)'


def _looks_like_title(line: str) -> bool:
    return 1 <= len(line.split()) <= 30 and len(line) <= 250 and line.rstrip()[-1:] not in ".,;:"


def _strip_markdown_heading(line: str) -> str:
    return _MARKDOWN_HEADING.sub("", line).strip()


def _read_header(lines: list[str], raw: RawArticle) -> tuple[_Header, set[int]]:
    """Find title, subtitle and byline among the first lines; return them and the line numbers they used."""
    header = _Header(title=raw.title, author=raw.author)
    used: set[int] = set()
    candidates = [i for i, line in enumerate(lines[:12]) if line.strip()]
    pos = 0
    if header.title is None and candidates and not raw.pre_extracted:
        first = _strip_markdown_heading(lines[candidates[0]])
        if _looks_like_title(first):
            header.title = first
            used.add(candidates[0])
            pos = 1
    # A standfirst directly under the headline: one sentence-like line, before any byline or body.
    if not raw.pre_extracted and pos == 1 and len(candidates) > 1:
        nxt = lines[candidates[1]].strip()
        if _is_sentence(nxt) and len(nxt) <= 400:
            header.subtitle = nxt
    # A byline among the header lines: a "By ..." line or a bare name, before the body starts.
    for i in candidates:
        line = lines[i].strip()
        if i in used:
            continue
        m = _BYLINE_PREFIX.match(line)
        if m and looks_like_name(m.group(1)):
            header.author = header.author or m.group(1).strip()
            used.add(i)
            break
        if looks_like_name(line) and not _is_sentence(line):
            header.author = header.author or line
            used.add(i)
            break
        if len(line.split()) > 40:  # body text reached
            break
    return header, used


def clean_article(raw: RawArticle) -> Article:
    """Clean a loaded article. Raises ValueError when no prose is left (empty or only page furniture)."""
    text = normalize_text(raw.text)
    lines = text.split("\n")
    header, used = _read_header(lines, raw)
    title_key = (header.title or "").strip().casefold()
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if i in used or is_cruft_line(stripped):
            continue
        if title_key and _strip_markdown_heading(stripped).casefold() == title_key:
            continue  # the headline repeated above the photo
        if header.author and stripped == header.author:
            continue
        kept.append(_strip_markdown_heading(line) if line.lstrip().startswith("#") else line)
    body = normalize_text("\n".join(kept)).strip()
    if not body or not any(ch.isalnum() for ch in body):
        raise ValueError("no article text left after cleaning (empty or only page furniture)")
    title = header.title or _fallback_title(body, raw.article_id)
    return Article(
        article_id=raw.article_id,
        title=title,
        text=body,
        source=raw.source,
        author=header.author,
        published=raw.published,
        url=raw.url,
        subtitle=header.subtitle,
    )


def _fallback_title(body: str, article_id: str) -> str:
    first = body.split("\n", 1)[0].strip()
    if 0 < len(first) <= 120:
        return first
    return article_id.replace("-", " ").replace("_", " ").strip() or "Untitled"
