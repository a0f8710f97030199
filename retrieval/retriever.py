"""Hybrid retrieval: dense (Chroma, cosine) and lexical (SQLite FTS5 BM25), fused by reciprocal rank.

Dense search finds paraphrases; lexical search finds names, numbers and rare words that small embedding models
blur. Reciprocal rank fusion needs no score calibration between the two. `HybridRetriever` is a LangChain
`BaseRetriever`, so it composes with any LangChain chain, and the newsdesk chain retrieves through it too, so
callbacks see every retrieval; `retrieve_chunks` is the typed function underneath.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

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
                # The catalogue gives `source` as the article's URL when it has one.
                url=getattr(row, "url", None) or (row.source if is_web_url(row.source) else None),
                sentences=row.sentences,
                sentence_vectors=row.sentence_vectors,
            )
        )
        if len(out) >= k:
            break
    return out


def is_web_url(text: str | None) -> bool:
    return bool(text) and urlsplit(text or "").scheme in ("http", "https")


class ChunkDocument(Document):
    """A `Document` that keeps the `RetrievedChunk` it was made from (sentence spans and their vectors).

    LangChain code sees an ordinary document; the chain takes the chunk back with `chunk_of` so the answerer does
    not embed every sentence again. The chunk is private: it is not serialised and not part of `metadata`.
    """

    _chunk: RetrievedChunk | None = PrivateAttr(default=None)


def to_document(chunk: RetrievedChunk) -> ChunkDocument:
    """The chunk as a LangChain document; `metadata` holds what a citation needs, all plain JSON values."""
    doc = ChunkDocument(
        page_content=chunk.text,
        id=chunk.chunk_id,
        metadata={
            "chunk_id": chunk.chunk_id,
            "article_id": chunk.article_id,
            "title": chunk.title,
            "source": chunk.source,
            "url": chunk.url,
            "author": chunk.author,
            "start": chunk.start,
            "end": chunk.end,
            "position": chunk.position,
            "score": chunk.score,
            "dense_score": chunk.dense_score,
            "lexical_rank": chunk.lexical_rank,
            "sentences": [list(span) for span in chunk.sentences],
        },
    )
    doc._chunk = chunk
    return doc


def chunk_of(doc: Document) -> RetrievedChunk:
    """The chunk behind a document: the one it carries, else rebuilt from its metadata (any retriever's document)."""
    if isinstance(doc, ChunkDocument) and doc._chunk is not None:
        return doc._chunk
    meta = doc.metadata
    text = doc.page_content
    return RetrievedChunk(
        chunk_id=str(meta.get("chunk_id") or doc.id or ""),
        article_id=str(meta.get("article_id") or ""),
        title=str(meta.get("title") or ""),
        source=str(meta.get("source") or ""),
        text=text,
        start=int(meta.get("start") or 0),
        end=int(meta.get("end") or len(text)),
        position=int(meta.get("position") or 0),
        score=float(meta.get("score") or 0.0),
        dense_score=meta.get("dense_score"),
        lexical_rank=meta.get("lexical_rank"),
        author=meta.get("author"),
        url=meta.get("url"),
        sentences=[(int(a), int(b)) for a, b in meta.get("sentences") or []],
    )


class HybridRetriever(BaseRetriever):
    """LangChain retriever over one newsdesk collection; documents carry the citation metadata.

    `k` set on the retriever is the default; `invoke(query, k=2)` overrides it for one call, as LangChain's standard
    retriever tests expect.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    vectors: Any
    collection: str = "default"
    k: int = Field(default=5, ge=1)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        chunks = retrieve_chunks(self.store, self.vectors, self.collection, query, k or self.k)
        return [to_document(c) for c in chunks]
