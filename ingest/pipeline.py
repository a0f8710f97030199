"""Ingestion: load -> clean -> chunk -> embed -> store, in batches, idempotently, as a three-stage pipeline.

An article's content hash covers everything that ends up stored (text and metadata), so an unchanged article costs
no embedding at all, and a changed one replaces all of its chunks at once (see `retrieval.store`). Sentences of many
articles are embedded together so the model sees full batches of similar length.

Embedding is nearly all of the work (a profile of 400 BBC articles: 87% in onnxruntime), so the other steps run
beside it instead of between its calls: one thread loads, cleans and chunks the next batch, another embeds, and the
calling thread stores the batch before (and reports progress), while Chroma is started in the background. The model
releases the GIL, so the stages really overlap. Queues between stages are short, so memory stays bounded and a
failure stops the run within a batch or two. Store calls never run concurrently from one run (a lock), so every
batch is still written by one `write_articles` call: atomic per article, in input order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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

BATCH_ARTICLES = 64
BATCH_CHUNKS = 1024
FIRST_BATCH_ARTICLES = 16  # a small first batch gets the model busy sooner
QUEUE_BATCHES = 2  # prepared or embedded batches waiting between two stages
T = TypeVar("T")


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


@dataclass
class _Batch:
    """Articles travelling through the stages together, with what happened to them so far."""

    prepared: list[_Prepared]
    failures: list[IngestFailure]  # inputs that failed to load, clean or chunk while this batch was gathered
    done: int  # inputs processed when the batch was cut, for progress
    unchanged: list[str] = field(default_factory=list)
    items: list[StoreItem] = field(default_factory=list)
    error: str | None = None  # the store could not be asked which articles are new


class _Stopped(Exception):
    """The consumer of a stage went away (an error downstream): stop producing."""


_END = object()


class _Stage(Generic[T]):
    """Runs an iterator in a daemon thread and hands its items over through a short queue, in order.

    An exception in the thread is raised in the consumer, at the position it happened; `stop()` (called by the
    consumer on its way out) makes the thread give up at its next hand-over.
    """

    def __init__(self, name: str, source: Iterable[T], stop: threading.Event) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._stop = stop
        self._source = source
        self._thread = threading.Thread(target=self._work, name=f"ingest-{name}", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> None:
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _work(self) -> None:
        try:
            for item in self._source:
                self._put(item)
            self._put(_END)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the consumer, which re-raises it
            try:
                self._put(_Failure(exc))
            except _Stopped:
                pass

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]


@dataclass
class _Failure:
    exc: BaseException


class Ingestor:
    """Ingests inputs into a collection. Shares the process's store and embedder."""

    def __init__(self, settings: Settings, store: ArticleStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self._store_lock = threading.Lock()  # one store call at a time from a run's stages

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
        stop = threading.Event()
        try:
            prepared = _Stage("prepare", self._prepare_batches(items, collection), stop)
            embedded = _Stage("embed", (self._embed(collection, b) for b in prepared), stop)
            for batch in embedded:
                self._store(collection, batch, report)
                if progress:
                    progress(batch.done, report)
        finally:
            stop.set()
        report.seconds = time.perf_counter() - started
        return report

    def _warm_up_store(self, collection: str) -> None:
        """Start Chroma (seconds of imports) while the first batch is prepared; the first batch needs it to learn
        which articles are new. Any error here is the first batch's to report."""
        try:
            import chromadb  # noqa: F401  - the slow part, also when the first write is what opens Chroma

            with self._store_lock:
                self.store.hashes(collection, [])
        except Exception:  # noqa: BLE001 - reported by the batch that hits it again
            log.debug("store warm-up failed", exc_info=True)

    # --- stage 1: load, clean, chunk (own thread) ----------------------------------------------------------------
    def _prepare_batches(self, items: Iterable[RawArticle | IngestFailure], collection: str) -> Iterator[_Batch]:
        """Load, clean and chunk in batches. Chroma is warmed up only once an article has loaded: a command whose
        every input is missing or unreadable must fail fast, without importing Chroma."""
        seen: dict[str, str] = {}
        warmed = False
        batch = _Batch([], [], 0)
        chunks = 0
        limit = FIRST_BATCH_ARTICLES
        for item in items:
            if isinstance(item, IngestFailure):
                batch.failures.append(item)
                continue
            batch.done += 1
            prepared = self._prepare(item, batch.failures, seen)
            if prepared is None:
                continue
            if not warmed:
                warmed = True
                threading.Thread(
                    target=self._warm_up_store, args=(collection,), name="ingest-warm-up", daemon=True
                ).start()
            batch.prepared.append(prepared)
            chunks += len(prepared.chunks)
            if len(batch.prepared) >= limit or chunks >= BATCH_CHUNKS:
                yield batch
                batch, chunks, limit = _Batch([], [], batch.done), 0, BATCH_ARTICLES
        yield batch

    def _prepare(self, raw: RawArticle, failures: list[IngestFailure], seen: dict[str, str]) -> _Prepared | None:
        try:
            article = clean_article(raw)
        except ValueError as exc:
            failures.append(IngestFailure(raw.source, str(exc)))
            return None
        if article.article_id in seen:
            failures.append(
                IngestFailure(
                    raw.source, f"duplicate article id {article.article_id!r} (also {seen[article.article_id]})"
                )
            )
            return None
        seen[article.article_id] = raw.source
        digest = content_hash(article)
        chunks = chunk_article(article, digest, self.settings.chunk_tokens, self.embedder.count_tokens)
        if not chunks:
            failures.append(IngestFailure(raw.source, "no sentences found in the article text"))
            return None
        return _Prepared(article, digest, chunks)

    # --- stage 2: skip unchanged articles, embed the rest (own thread) -------------------------------------------
    def _embed(self, collection: str, batch: _Batch) -> _Batch:
        if not batch.prepared:
            return batch
        try:
            with self._store_lock:
                known = self.store.hashes(collection, [p.article.article_id for p in batch.prepared])
        except StoreUnavailable as exc:
            batch.error = str(exc)
            return batch
        todo = [p for p in batch.prepared if known.get(p.article.article_id) != p.content_hash]
        batch.unchanged = [p.article.article_id for p in batch.prepared if p not in todo]
        if not todo:
            return batch
        texts: list[str] = []
        for p in todo:
            texts.append(p.article.title)
            texts.extend(c.text[a:b] for c in p.chunks for a, b in c.sentences)
        vectors = self.embedder.embed_array(texts)
        offset = 0
        for p in todo:
            title_vec = vectors[offset]
            groups = [len(c.sentences) for c in p.chunks]
            n = sum(groups)
            chunk_vecs, sentence_vecs = chunk_vectors(vectors[offset + 1 : offset + 1 + n], title_vec, groups)
            offset += 1 + n
            batch.items.append(StoreItem(p.article, p.content_hash, p.chunks, chunk_vecs, sentence_vecs))
        return batch

    # --- stage 3: store (the calling thread) ---------------------------------------------------------------------
    def _store(self, collection: str, batch: _Batch, report: IngestReport) -> None:
        report.failed.extend(batch.failures)
        if batch.error is not None:
            report.failed.extend(IngestFailure(p.article.source, batch.error) for p in batch.prepared)
            return
        report.unchanged.extend(batch.unchanged)
        if not batch.items:
            return
        try:
            with self._store_lock:
                outcomes = self.store.write_articles(collection, batch.items)
        except StoreUnavailable as exc:
            report.failed.extend(IngestFailure(item.article.source, str(exc)) for item in batch.items)
            return
        for item, outcome in zip(batch.items, outcomes, strict=True):
            article_id = item.article.article_id
            if outcome == "added":
                report.added.append(article_id)
            elif outcome == "updated":
                report.updated.append(article_id)
            else:
                report.unchanged.append(article_id)
            if outcome != "unchanged":
                report.chunks += len(item.chunks)
