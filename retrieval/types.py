"""Retrieval results passed from the retriever to answerers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RetrievedChunk:
    """A chunk with what a citation needs: its article, its place in the article text, and its fused score."""

    chunk_id: str
    article_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    position: int
    score: float = 0.0
    dense_score: float | None = None
    lexical_rank: int | None = None
    author: str | None = None
    # The article's web address, when it has one (the bot links citations to it).
    url: str | None = None
    # Sentence spans relative to `text`, and their vectors when stored at ingest (else the answerer embeds them).
    sentences: list[tuple[int, int]] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None
