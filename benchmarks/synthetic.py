"""Grow a collection to N chunks quickly, for latency at scale, from an ingested corpus's real sentences and vectors.

Embedding 100,000 chunks for real would take an hour here and measure ingestion again, not asking. Instead the
collection that `newsdesk ingest` just built is the pool: every article's sentences in order, with the sentence
vectors ingestion stored. Each synthetic chunk is a window of 3-6 consecutive sentences of one real article; each
sentence vector is its real vector plus a little noise (cosine about 0.97, so copies are not identical), and the
chunk vector is their normalised mean nudged towards the title vector, as ingestion computes it. So vectors are
clustered like real news (not uniform noise, which would distort HNSW), the lexical index sees real vocabulary
(each real sentence recurs about N / pool-size times), and questions made from the corpus find real matches.
Articles go in through `ArticleStore.write_articles`, the path ingestion uses.

`python -m benchmarks.synthetic SOURCE_DATA_DIR SOURCE_COLLECTION DATA_DIR COLLECTION TOTAL_CHUNKS BACKEND`
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

CHUNKS_PER_ARTICLE = 10
WRITE_ARTICLES = 300  # 3,000 chunks per store write, under Chroma's max batch
NOISE_SIGMA = 0.012  # |noise| ~ 0.23 for 384 dims: cosine to the real sentence vector ~ 0.97


def load_pool(svc: Any, collection: str) -> tuple[list[list[int]], list[str], np.ndarray, list[str], np.ndarray]:
    """Runs of consecutive sentences per article, their texts and vectors, and titles with their vectors."""
    store = svc.store
    cat = store.catalogue(collection)
    runs: list[list[int]] = []
    texts: list[str] = []
    vectors: list[np.ndarray] = []
    missing: list[int] = []
    titles: list[str] = []
    for info in store.list_articles(collection):
        found = store.get_chunks(collection, cat.chunk_ids_of(info.article_id))
        rows = sorted(found.values(), key=lambda r: r.position)
        run: list[int] = []
        for row in rows:
            spans = getattr(row, "sentences", None) or [(0, len(row.text))]
            vecs = getattr(row, "sentence_vectors", None)
            for j, (s, e) in enumerate(spans):
                run.append(len(texts))
                texts.append(row.text[s:e])
                if vecs is not None and len(vecs) == len(spans):
                    vectors.append(np.asarray(vecs[j], dtype=np.float32))
                else:
                    missing.append(len(texts) - 1)
                    vectors.append(np.zeros(svc.embedder.dimension, dtype=np.float32))
        if len(run) >= 3:
            runs.append(run)
            titles.append(info.title)
    matrix = np.asarray(vectors, dtype=np.float32)
    if missing:  # an ingest that stored no sentence vectors: embed those sentences here
        matrix[missing] = svc.embedder.embed_array([texts[i] for i in missing])
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return runs, texts, matrix, titles, svc.embedder.embed_array(titles)


def main(argv: list[str]) -> int:
    source_dir, source_collection, data_dir, collection = Path(argv[0]), argv[1], Path(argv[2]), argv[3]
    total, backend = int(argv[4]), argv[5]
    started = time.perf_counter()

    import ingest.pipeline as pipeline
    from ingest.chunking import chunk_id_for
    from ingest.models import Article, Chunk
    from newsdesk.services import Services
    from newsdesk.settings import Settings
    from retrieval.store import StoreItem

    title_weight = float(getattr(pipeline, "TITLE_WEIGHT", 0.0))
    source = Services(Settings(data_dir=source_dir, embedding_backend=backend, llm_provider="none"))
    runs, pool, pool_vectors, titles, title_vectors = load_pool(source, source_collection)
    source.close()
    settings = Settings(data_dir=data_dir, embedding_backend=backend, llm_provider="none")
    svc = Services(settings, embedder=source.embedder)
    store = svc.store
    have = store.count_chunks(collection)
    rng = random.Random(total)
    nrng = np.random.default_rng(total)
    pool_s = time.perf_counter() - started

    n_article = len(store.list_articles(collection))
    batch: list[StoreItem] = []
    while have < total:
        article_id = f"synth-{n_article:06d}"
        r = rng.randrange(len(runs))
        title = f"{titles[r]} ({n_article})"
        windows = []
        for _ in range(CHUNKS_PER_ARTICLE):
            run = runs[r] if rng.random() < 0.5 else rng.choice(runs)
            size = min(len(run), rng.randint(3, 6))
            first = rng.randrange(0, len(run) - size + 1)
            windows.append(run[first : first + size])
        texts = [" ".join(pool[i] for i in w) for w in windows]
        text = "\n\n".join(texts)
        digest = hashlib.sha256(text.encode()).hexdigest()
        chunks, chunk_vecs, sentence_vecs, offset = [], [], [], 0
        for pos, (w, t) in enumerate(zip(windows, texts, strict=True)):
            spans, cursor = [], 0
            for i in w:
                spans.append((cursor, cursor + len(pool[i])))
                cursor += len(pool[i]) + 1
            chunk_id = chunk_id_for(article_id, digest, pos)
            chunks.append(Chunk(chunk_id, article_id, pos, offset, offset + len(t), t, sentences=tuple(spans)))
            offset += len(t) + 2
            vecs = pool_vectors[w] + nrng.normal(0, NOISE_SIGMA, size=(len(w), pool_vectors.shape[1]))
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            mean = vecs.mean(axis=0) + title_weight * title_vectors[r]
            sentence_vecs.append(vecs.astype(np.float32))
            chunk_vecs.append(mean / np.linalg.norm(mean))
        article = Article(article_id, title, text, source=f"synthetic://{article_id}")
        batch.append(StoreItem(article, digest, chunks, np.asarray(chunk_vecs, dtype=np.float32), sentence_vecs))
        n_article += 1
        have += len(chunks)
        if len(batch) >= WRITE_ARTICLES or have >= total:
            store.write_articles(collection, batch)
            batch = []
    final = store.count_chunks(collection)
    svc.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"chunks": final, "pool_sentences": len(pool), "pool_s": pool_s, "s": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
