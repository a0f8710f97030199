"""Hybrid retrieval: dense (Chroma, cosine) and lexical (SQLite FTS5 BM25), fused by reciprocal rank.

Dense search finds paraphrases; lexical search finds names, numbers and rare words that small embedding models
blur. Reciprocal rank fusion needs no score calibration between the two. `HybridRetriever` is a LangChain
`BaseRetriever`, so it composes with any LangChain chain; `retrieve_chunks` is the typed fast path newsdesk uses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.embeddings import Embedder
from retrieval.store import ArticleStore
from retrieval.types import RetrievedChunk

RRF_K = 60


class QueryVectors:
    """Question embeddings with a small LRU cache: the retriever and the answerer embed the same question."""

    def __init__(self, embedder: Embedder, size: int = 256) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = self.embedder.embed_array([text])[0]
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector


def fuse(rankings: list[list[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(id) = sum over rankings of 1 / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


def retrieve_chunks(
    store: ArticleStore, vectors: QueryVectors, collection: str, query: str, k: int, fetch_k: int | None = None
) -> list[RetrievedChunk]:
    """Top `k` chunks of `collection` for `query`; ids unknown to the catalogue (interrupted writes) are skipped."""
    if not store.has_collection(collection):
        return []
    fetch = fetch_k or max(20, 4 * k)
    dense = store.dense_search(collection, vectors.get(query), fetch)
    lexical = store.lexical_search(collection, query, fetch)
    dense_score = dict(dense)
    lexical_rank = {cid: r for r, (cid, _) in enumerate(lexical, start=1)}
    fused = fuse([[cid for cid, _ in dense], [cid for cid, _ in lexical]])
    rows = store.get_chunks(collection, [cid for cid, _ in fused[: k * 3]])
    out: list[RetrievedChunk] = []
    for cid, score in fused:
        row = rows.get(cid)
        if row is None:
            continue
        out.append(
            RetrievedChunk(
                chunk_id=row.chunk_id,
                article_id=row.article_id,
                title=row.title,
                source=row.source,
                text=row.text,
                start=row.start,
                end=row.end,
                position=row.position,
                score=score,
                dense_score=dense_score.get(cid),
                lexical_rank=lexical_rank.get(cid),
                author=row.author,
                sentences=row.sentences,
                sentence_vectors=row.sentence_vectors,
            )
        )
        if len(out) >= k:
            break
    return out


class HybridRetriever(BaseRetriever):
    """LangChain retriever over one newsdesk collection; documents carry the citation metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    vectors: Any
    collection: str = "default"
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        chunks = retrieve_chunks(self.store, self.vectors, self.collection, query, self.k)
        return [
            Document(
                page_content=c.text,
                id=c.chunk_id,
                metadata={
                    "chunk_id": c.chunk_id,
                    "article_id": c.article_id,
                    "title": c.title,
                    "source": c.source,
                    "start": c.start,
                    "end": c.end,
                    "position": c.position,
                    "score": c.score,
                },
            )
            for c in chunks
        ]
