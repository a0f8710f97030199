"""Split a cleaned article into chunks of whole sentences that fit the embedder's token budget.

Chunks never overlap (no duplicated text to embed) and never cut a sentence, unless a single sentence is longer
than the budget; then it is cut at word boundaries. Each chunk keeps its character offsets into the article text so
a citation can quote the exact sentences it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.models import Article, Chunk
from ingest.sentences import split_sentences

TokenCount = Callable[[list[str]], list[int]]

_WORD = re.compile(r"\S+")


def chunk_id_for(article_id: str, content_hash: str, position: int) -> str:
    """Deterministic: the same article text always gives the same ids; a changed text gives new ones."""
    return f"{article_id}::{content_hash[:12]}::{position:04d}"


def _split_long(text: str, start: int, end: int, budget: int, count: TokenCount) -> list[tuple[int, int]]:
    """Cut one over-long sentence into word-aligned pieces of at most `budget` tokens."""
    words = [(s, e) for s, e in ((m.start(), m.end()) for m in _WORD.finditer(text[:end], start))]
    counts = count([text[s:e] for s, e in words])
    pieces: list[tuple[int, int]] = []
    piece_start, used = words[0][0], 0
    last_end = words[0][1]
    for (s, e), n in zip(words, counts, strict=True):
        if used and used + n > budget:
            pieces.append((piece_start, last_end))
            piece_start, used = s, 0
        used += n
        last_end = e
    pieces.append((piece_start, last_end))
    return pieces


def chunk_article(article: Article, content_hash: str, budget: int, count: TokenCount) -> list[Chunk]:
    """Greedy packing of consecutive sentences up to `budget` tokens per chunk."""
    text = article.text
    spans = split_sentences(text)
    if not spans:
        return []
    counts = count([text[s:e] for s, e in spans])
    units: list[tuple[int, int, int]] = []
    for (s, e), n in zip(spans, counts, strict=True):
        if n > budget:
            pieces = _split_long(text, s, e, budget, count)
            units.extend(
                (ps, pe, n2) for (ps, pe), n2 in zip(pieces, count([text[a:b] for a, b in pieces]), strict=True)
            )
        else:
            units.append((s, e, n))
    chunks: list[Chunk] = []
    group: list[tuple[int, int]] = []
    used = 0
    for s, e, n in units:
        if group and used + n > budget:
            chunks.append(_make(article, content_hash, len(chunks), group))
            group, used = [], 0
        group.append((s, e))
        used += n + 1
    chunks.append(_make(article, content_hash, len(chunks), group))
    return chunks


def _make(article: Article, content_hash: str, position: int, sentences: list[tuple[int, int]]) -> Chunk:
    start, end = sentences[0][0], sentences[-1][1]
    return Chunk(
        chunk_id=chunk_id_for(article.article_id, content_hash, position),
        article_id=article.article_id,
        position=position,
        start=start,
        end=end,
        text=article.text[start:end],
        sentences=tuple((s - start, e - start) for s, e in sentences),
    )
