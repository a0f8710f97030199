"""Turn answers into Discord messages that always fit Discord's limits.

Discord rejects a whole message (HTTP 400) when one limit is exceeded, and the user then sees nothing. Every function
here is pure (no I/O, no client) so the limits are unit tested: message content 2,000 characters; per embed a title
of 256, a description of 4,096, 25 fields whose names hold 256 and values 1,024, a footer of 2,048; per message 10
embeds totalling 6,000 characters. Long text is split at paragraph, line, sentence or word boundaries, in that order
of preference, and only cut mid-word when a single word is longer than the limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import discord

from retrieval.answer import Answer, Citation

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_PER_EMBED = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
ELLIPSIS = "…"

ANSWER_COLOUR = discord.Colour.blurple()
ABSTAIN_COLOUR = discord.Colour.light_grey()

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")


def shorten(text: str, limit: int, placeholder: str = ELLIPSIS) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, with `placeholder` appended."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(placeholder):
        return text[:limit]
    room = limit - len(placeholder)
    cut = text[:room]
    space = cut.rfind(" ")
    if space >= room * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + placeholder


def _split_units(text: str) -> list[str]:
    """Candidate pieces, coarsest first: paragraphs, then lines, then sentences, then words (with their spacing)."""
    for pattern in (r"(?<=\n\n)", r"(?<=\n)"):
        parts = [p for p in re.split(pattern, text) if p]
        if len(parts) > 1:
            return parts
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if ends:
        # Each sentence keeps its trailing space, so joining the units gives back the original text.
        bounds = [0, *ends, len(text)]
        return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if text[a:b]]
    return [p for p in re.split(r"(?<=\s)", text) if p]


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, preferring paragraph, line, sentence, word breaks.

    No piece is empty, and joining the pieces gives back the text up to whitespace at the cuts, so nothing the user
    should read is lost.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    units = _split_units(text)
    if len(units) == 1:  # one word longer than the limit: cut it
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pieces: list[str] = []
    current = ""
    for unit in units:
        if len(unit) > limit:
            if current.strip():
                pieces.append(current.strip())
            current = ""
            pieces.extend(split_text(unit, limit))
            continue
        if len(current) + len(unit) > limit:
            if current.strip():
                pieces.append(current.strip())
            current = unit
        else:
            current += unit
    if current.strip():
        pieces.append(current.strip())
    return pieces


def pack_lines(lines: Sequence[str], limit: int, separator: str = "\n") -> list[str]:
    """Group whole lines into blocks of at most `limit` characters; a line longer than `limit` is shortened."""
    blocks: list[str] = []
    current = ""
    for line in lines:
        line = shorten(line, limit)
        candidate = f"{current}{separator}{line}" if current else line
        if len(candidate) > limit:
            blocks.append(current)
            current = line
        else:
            current = candidate
    if current:
        blocks.append(current)
    return blocks


def content_messages(text: str) -> list[str]:
    """Plain text as one or more message contents of at most 2,000 characters."""
    return split_text(text, CONTENT_LIMIT) or ["(empty)"]


def _safe_url(url: str | None) -> str | None:
    if url and re.match(r"https?://", url) and not re.search(r"[\s()<>]", url):
        return url
    return None


def source_line(citation: Citation, url: str | None, quote_chars: int = 280) -> str:
    """`**[n]** [Title](url)` then the quote, shortened, as a block quote: a source as the answer embed lists it."""
    title = discord.utils.escape_markdown(shorten(citation.title or citation.article_id, 120))
    link = _safe_url(url)
    head = f"[{title}]({link})" if link else title
    quote = discord.utils.escape_markdown(shorten(" ".join(citation.quote.split()), quote_chars))
    return f"**[{citation.n}]** {head}\n> {quote}"


def _embed(description: str | None = None, *, title: str | None = None, colour: discord.Colour) -> discord.Embed:
    return discord.Embed(
        title=shorten(title, TITLE_LIMIT) if title else None,
        description=description or None,
        colour=colour,
    )


def pack_embeds(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages: at most 10 per message and 6,000 characters in total per message."""
    messages: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if length > EMBED_TOTAL_LIMIT:
            raise ValueError(f"an embed of {length} characters cannot be sent")
        if current and (len(current) >= EMBEDS_PER_MESSAGE or size + length > EMBED_TOTAL_LIMIT):
            messages.append(current)
            current, size = [], 0
        current.append(embed)
        size += length
    if current:
        messages.append(current)
    return messages


def _add_fields(
    embeds: list[discord.Embed], name: str, values: Sequence[str], colour: discord.Colour
) -> list[discord.Embed]:
    """Add one field per value to the last embed, opening new embeds when the field count or total would overflow."""
    for i, value in enumerate(values):
        field_name = name if i == 0 else f"{name} (continued)"
        last = embeds[-1] if embeds else None
        if (
            last is None
            or len(last.fields) >= FIELDS_PER_EMBED
            or len(last) + len(field_name) + len(value) > EMBED_TOTAL_LIMIT
        ):
            last = _embed(colour=colour)
            embeds.append(last)
        last.add_field(name=field_name, value=value, inline=False)
    return embeds


def answer_messages(
    answer: Answer,
    urls: Mapping[str, str | None] | None = None,
    *,
    title: str | None = None,
    quote_chars: int = 280,
) -> list[list[discord.Embed]]:
    """The answer as embeds: the text with its [n] markers, then a "Sources" list (title linked, quote shortened).

    An abstention is one grey embed without sources. A long answer continues over several embeds, and, past 6,000
    characters, over several messages; sources that do not fit one field continue in more fields.
    """
    urls = urls or {}
    colour = ABSTAIN_COLOUR if answer.abstained else ANSWER_COLOUR
    text = answer.answer.strip() or "(no answer)"
    parts = split_text(text, DESCRIPTION_LIMIT)
    embeds = [_embed(part, title=title if i == 0 else None, colour=colour) for i, part in enumerate(parts)]
    if not answer.abstained and answer.citations:
        lines = [source_line(c, urls.get(c.article_id), quote_chars) for c in answer.citations]
        _add_fields(embeds, "Sources", pack_lines(lines, FIELD_VALUE_LIMIT), colour)
    if answer.note:
        embeds[-1].set_footer(text=shorten(answer.note, FOOTER_LIMIT))
    return pack_embeds(embeds)


def sources_messages(
    citations: Sequence[Citation], urls: Mapping[str, str | None] | None = None
) -> list[list[discord.Embed]]:
    """Every source with its full quote, for the "Sources" button; long quotes continue over several embeds."""
    urls = urls or {}
    embeds: list[discord.Embed] = []
    for citation in citations:
        title = f"[{citation.n}] {citation.title or citation.article_id}"
        quote = discord.utils.escape_markdown(citation.quote.strip())
        link = _safe_url(urls.get(citation.article_id))
        meta = " · ".join(x for x in (citation.source, link) if x)
        body = f"{quote}\n\n{discord.utils.escape_markdown(meta)}" if meta else quote
        for i, part in enumerate(split_text(body, DESCRIPTION_LIMIT)):
            embed = _embed(part, title=title if i == 0 else f"{title} (continued)", colour=ANSWER_COLOUR)
            if i == 0 and link:
                embed.url = link
            embeds.append(embed)
    if not embeds:
        embeds.append(_embed("This answer cites no sources.", colour=ABSTAIN_COLOUR))
    return pack_embeds(embeds)


def article_list_pages(lines: Sequence[str], *, title: str, per_page: int = 10) -> list[discord.Embed]:
    """Paginated list embeds (`/articles`): `per_page` lines each, footer "Page i/n"."""
    chunks = [list(lines[i : i + per_page]) for i in range(0, len(lines), per_page)] or [[]]
    pages: list[discord.Embed] = []
    for i, chunk in enumerate(chunks, start=1):
        body = "\n".join(shorten(line, 380) for line in chunk) or "No articles yet."
        embed = _embed(shorten(body, DESCRIPTION_LIMIT), title=title, colour=ANSWER_COLOUR)
        embed.set_footer(text=f"Page {i}/{len(chunks)}")
        pages.append(embed)
    return pages
