"""Ingestion: load -> clean -> chunk -> embed -> store, in batches, idempotently.

An article's content hash covers everything that ends up stored (text and metadata), so an unchanged article costs
no embedding at all, and a changed one replaces all of its chunks at once (see `retrieval.store`). Chunks of many
articles are embedded together so the model sees full batches of similar length.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ingest.chunking import chunk_article
from ingest.cleaning import clean_article
from ingest.loaders import load_bytes, load_inputs
from ingest.models import Article, Chunk, IngestFailure, IngestReport, RawArticle
from newsdesk.settings import Settings
from retrieval.embeddings import Embedder
from retrieval.errors import StoreUnavailable
from retrieval.store import ArticleStore, StoreItem, validate_collection

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, IngestReport], None]
"""Called after each stored batch with the number of articles processed so far and the running report."""

BATCH_ARTICLES = 128
BATCH_CHUNKS = 2048


def content_hash(article: Article) -> str:
    """Hash of everything stored for an article; equal hashes mean re-ingesting changes nothing."""
    payload = json.dumps(
        [article.title, article.subtitle, article.author, article.published, article.url, article.source, article.text],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


TITLE_WEIGHT = 0.35


def chunk_vectors(
    sentence_vectors: np.ndarray, title_vector: np.ndarray, groups: list[int]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Chunk vectors from sentence vectors: the normalised mean of a chunk's sentences, nudged towards the title.

    Embedding each sentence once serves both retrieval (chunks) and answering (sentences): the answerer then scores
    sentences with dot products instead of running the model at question time.
    """
    chunks: list[np.ndarray] = []
    per_chunk: list[np.ndarray] = []
    offset = 0
    for n in groups:
        sent = sentence_vectors[offset : offset + n]
        offset += n
        vec = sent.mean(axis=0) + TITLE_WEIGHT * title_vector
        chunks.append(vec / (np.linalg.norm(vec) or 1.0))
        per_chunk.append(sent)
    return np.asarray(chunks, dtype=np.float32), per_chunk


@dataclass
class _Prepared:
    article: Article
    content_hash: str
    chunks: list[Chunk]


class Ingestor:
    """Ingests inputs into a collection. Shares the process's store and embedder."""

    def __init__(self, settings: Settings, store: ArticleStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder

    def ingest(
        self, inputs: list[str], collection: str | None = None, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Ingest paths, folders, URLs and `-` (stdin). Failures are reported per input; the rest still lands."""
        return self._run(load_inputs(inputs, self.settings), collection, progress)

    def ingest_bytes(self, filename: str, data: bytes, collection: str | None = None) -> IngestReport:
        """Ingest an uploaded file (a Discord attachment) by its name's suffix."""
        return self._run(load_bytes(filename, data, self.settings), collection, None)

    def ingest_raw(self, raws: Iterable[RawArticle | IngestFailure], collection: str | None = None) -> IngestReport:
        """Ingest already-loaded articles (benchmarks, tests, other front ends)."""
        return self._run(raws, collection, None)

    def _run(
        self,
        items: Iterable[RawArticle | IngestFailure],
        collection: str | None,
        progress: ProgressCallback | None,
    ) -> IngestReport:
        collection = validate_collection(collection or self.settings.collection)
        started = time.perf_counter()
        report = IngestReport()
        batch: list[_Prepared] = []
        batch_chunks = 0
        seen: dict[str, str] = {}
        done = 0
        for item in items:
            if isinstance(item, IngestFailure):
                report.failed.append(item)
                continue
            prepared = self._prepare(item, report, seen)
            done += 1
            if prepared is None:
                continue
            batch.append(prepared)
            batch_chunks += len(prepared.chunks)
            if len(batch) >= BATCH_ARTICLES or batch_chunks >= BATCH_CHUNKS:
                self._flush(collection, batch, report)
                batch, batch_chunks = [], 0
                if progress:
                    progress(done, report)
        self._flush(collection, batch, report)
        report.seconds = time.perf_counter() - started
        if progress:
            progress(done, report)
        return report

    def _prepare(self, raw: RawArticle, report: IngestReport, seen: dict[str, str]) -> _Prepared | None:
        try:
            article = clean_article(raw)
        except ValueError as exc:
            report.failed.append(IngestFailure(raw.source, str(exc)))
            return None
        if article.article_id in seen:
            report.failed.append(
                IngestFailure(
                    raw.source, f"duplicate article id {article.article_id!r} (also {seen[article.article_id]})"
                )
            )
            return None
        seen[article.article_id] = raw.source
        digest = content_hash(article)
        chunks = chunk_article(article, digest, self.settings.chunk_tokens, self.embedder.count_tokens)
        if not chunks:
            report.failed.append(IngestFailure(raw.source, "no sentences found in the article text"))
            return None
        return _Prepared(article, digest, chunks)

    def _flush(self, collection: str, batch: list[_Prepared], report: IngestReport) -> None:
        if not batch:
            return
        try:
            known = self.store.hashes(collection, [p.article.article_id for p in batch])
            todo = [p for p in batch if known.get(p.article.article_id) != p.content_hash]
            report.unchanged.extend(p.article.article_id for p in batch if p not in todo)
            if not todo:
                return
            texts: list[str] = []
            for p in todo:
                texts.append(p.article.title)
                texts.extend(c.text[a:b] for c in p.chunks for a, b in c.sentences)
            vectors = self.embedder.embed_array(texts)
            items = []
            offset = 0
            for p in todo:
                title_vec = vectors[offset]
                groups = [len(c.sentences) for c in p.chunks]
                n = sum(groups)
                chunk_vecs, sentence_vecs = chunk_vectors(vectors[offset + 1 : offset + 1 + n], title_vec, groups)
                offset += 1 + n
                items.append(StoreItem(p.article, p.content_hash, p.chunks, chunk_vecs, sentence_vecs))
            outcomes = self.store.write_articles(collection, items)
        except StoreUnavailable as exc:
            report.failed.extend(IngestFailure(p.article.source, str(exc)) for p in batch)
            return
        for p, outcome in zip(todo, outcomes, strict=True):
            if outcome == "added":
                report.added.append(p.article.article_id)
            elif outcome == "updated":
                report.updated.append(p.article.article_id)
            else:
                report.unchanged.append(p.article.article_id)
            if outcome != "unchanged":
                report.chunks += len(p.chunks)
