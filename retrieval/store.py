"""The article store: Chroma for vectors, a SQLite catalogue per collection for texts, offsets and lexical search.

Write protocol, so that no article is ever half-stored (even if the process is killed):
1. record the article in `pending`; 2. upsert its new chunk vectors into Chroma (ids carry the content hash, so
old and new never collide); 3. swap the catalogue rows in one transaction; 4. delete the old vectors; 5. clear
`pending`. Readers only trust chunk ids the catalogue knows, so between 2 and 3 the old version is served and after
3 the new one. A leftover `pending` row of a dead process is repaired on the next write to that collection.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from filelock import FileLock

from ingest.models import Article, Chunk
from newsdesk.settings import Settings
from retrieval.catalogue import ArticleInfo, Catalogue, ChunkRow, query_terms
from retrieval.errors import StoreUnavailable

log = logging.getLogger(__name__)

CHROMA_BATCH = 4000  # below Chroma's max batch (about 5,400 here)
_VALID_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
T = TypeVar("T")


def validate_collection(name: str) -> str:
    """Collection names become file and Chroma names: letters, digits, `-` and `_`, at most 63 characters."""
    if not _VALID_COLLECTION.match(name):
        raise ValueError(
            f"invalid collection name {name!r}: use letters, digits, '-' and '_' (start with a letter or digit)"
        )
    return name


@dataclass
class StoreItem:
    """One article version to store: its chunks, one vector per chunk, and optionally per-sentence vectors."""

    article: Article
    content_hash: str
    chunks: list[Chunk]
    vectors: np.ndarray
    sentence_vectors: list[np.ndarray] | None = None


class ArticleStore:
    """Chroma (embedded or server) plus per-collection catalogues; thread-safe and shared per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._catalogues: dict[str, Catalogue] = {}
        self._lock = threading.RLock()
        self._repaired: set[str] = set()

    # --- plumbing ----------------------------------------------------------------------------------------------
    def _chroma_client(self) -> Any:
        with self._lock:
            if self._client is None:
                import chromadb
                from chromadb.config import Settings as ChromaSettings

                chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
                if self.settings.chroma_host:
                    self._client = chromadb.HttpClient(
                        host=self.settings.chroma_host, port=self.settings.chroma_port, settings=chroma_settings
                    )
                else:
                    path = self.data_dir / "chroma"
                    path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            return self._client

    def _chroma(self, collection: str) -> Any:
        with self._lock:
            col = self._collections.get(collection)
            if col is None:
                col = self._chroma_client().get_or_create_collection(
                    f"newsdesk-{collection}", metadata={"hnsw:space": "cosine"}, embedding_function=None
                )
                self._collections[collection] = col
            return col

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run a Chroma call; in server mode turn connection failures into StoreUnavailable and reconnect later."""
        try:
            return fn()
        except Exception as exc:
            if not self.settings.chroma_host:
                raise
            with self._lock:  # drop cached handles so the next call reconnects
                self._client = None
                self._collections.clear()
            where = f"{self.settings.chroma_host}:{self.settings.chroma_port}"
            raise StoreUnavailable(f"knowledge base unavailable: Chroma server at {where} ({what} failed)") from exc

    def catalogue(self, collection: str) -> Catalogue:
        validate_collection(collection)
        with self._lock:
            cat = self._catalogues.get(collection)
            if cat is None:
                cat = Catalogue(self.data_dir / "catalogue" / f"{collection}.sqlite3")
                self._catalogues[collection] = cat
            return cat

    def has_collection(self, collection: str) -> bool:
        return (self.data_dir / "catalogue" / f"{validate_collection(collection)}.sqlite3").exists()

    def count_articles(self, collection: str) -> int:
        """Articles in `collection`, from the SQLite catalogue alone: cheap enough to check before loading a model."""
        return self.catalogue(collection).count_articles() if self.has_collection(collection) else 0

    def collections(self) -> list[str]:
        folder = self.data_dir / "catalogue"
        return sorted(p.stem for p in folder.glob("*.sqlite3")) if folder.exists() else []

    def close(self) -> None:
        with self._lock:
            for cat in self._catalogues.values():
                cat.close()
            self._catalogues.clear()
            self._collections.clear()
            self._client = None

    # --- reads -------------------------------------------------------------------------------------------------
    def list_articles(self, collection: str) -> list[ArticleInfo]:
        if not self.has_collection(collection):
            return []
        return self.catalogue(collection).list_articles()

    def get_article(self, collection: str, article_id: str) -> Article | None:
        if not self.has_collection(collection):
            return None
        return self.catalogue(collection).get_article(article_id)

    def count_chunks(self, collection: str) -> int:
        return self.catalogue(collection).count_chunks() if self.has_collection(collection) else 0

    def dense_search(self, collection: str, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest chunk ids by cosine similarity, with no metadata filter (filters are slow at 100k chunks)."""
        if not self.has_collection(collection):
            return []
        col = self._call("open collection", lambda: self._chroma(collection))
        result = self._call(
            "query",
            lambda: col.query(query_embeddings=[vector.astype(np.float32)], n_results=n, include=["distances"]),
        )
        ids = result["ids"][0] if result["ids"] else []
        dists = result["distances"][0] if result.get("distances") else [0.0] * len(ids)
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, dists, strict=False)]

    def lexical_search(self, collection: str, text: str, n: int) -> list[tuple[str, float]]:
        if not self.has_collection(collection):
            return []
        return self.catalogue(collection).lexical_search(query_terms(text), n)

    def get_chunks(self, collection: str, chunk_ids: list[str]) -> dict[str, ChunkRow]:
        return self.catalogue(collection).get_chunks(chunk_ids)

    def hashes(self, collection: str, article_ids: Sequence[str]) -> dict[str, str]:
        return self.catalogue(collection).hashes(article_ids)

    # --- writes ------------------------------------------------------------------------------------------------
    def write_lock(self) -> FileLock:
        """One writer at a time across processes (embedded Chroma must not be written by two processes at once).

        Only the store writes are serialised; loading, cleaning and embedding run in parallel outside the lock."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.data_dir / "write.lock"))

    def repair(self, collection: str) -> int:
        """Finish what killed writers left: drop vectors of articles whose catalogue version differs."""
        with self.write_lock():
            return self._repair(collection)

    def _repair(self, collection: str) -> int:
        cat = self.catalogue(collection)
        stale = cat.stale_pending()
        if not stale:
            return 0
        current = cat.hashes(stale)
        col = self._call("open collection", lambda: self._chroma(collection))
        for article_id in stale:
            where: dict[str, Any] = {"article_id": article_id}
            if article_id in current:
                version = current[article_id][:12]  # vectors carry the short hash, as in their ids
                where = {"$and": [{"article_id": article_id}, {"content_hash": {"$ne": version}}]}
            self._call("repair", lambda w=where: col.delete(where=w))  # type: ignore[misc]
        cat.clear_pending(stale)
        log.info("repaired %d interrupted article write(s) in %s", len(stale), collection)
        return len(stale)

    def write_articles(
        self,
        collection: str,
        items: list[StoreItem],
    ) -> list[str]:
        """Store several articles atomically each; returns per item "added", "updated" or "unchanged"."""
        if not items:
            return []
        with self.write_lock():
            return self._write_articles(collection, items)

    def _write_articles(self, collection: str, items: list[StoreItem]) -> list[str]:
        cat = self.catalogue(collection)
        if collection not in self._repaired:
            self._repair(collection)
            self._repaired.add(collection)
        col = self._call("open collection", lambda: self._chroma(collection))
        article_ids = [item.article.article_id for item in items]
        cat.mark_pending([(item.article.article_id, item.content_hash) for item in items])
        ids: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        for item in items:
            ids.extend(c.chunk_id for c in item.chunks)
            metas.extend(
                {"article_id": item.article.article_id, "content_hash": item.content_hash[:12], "position": c.position}
                for c in item.chunks
            )
            vectors.append(item.vectors)
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)
        for i in range(0, len(ids), CHROMA_BATCH):
            self._call(
                "upsert",
                lambda i=i: col.upsert(  # type: ignore[misc]
                    ids=ids[i : i + CHROMA_BATCH],
                    embeddings=matrix[i : i + CHROMA_BATCH],
                    metadatas=metas[i : i + CHROMA_BATCH],
                ),
            )
        outcomes: list[str] = []
        obsolete: list[str] = []
        with cat.transaction() as conn:
            for item in items:
                outcome, old_ids = cat.replace_article(
                    conn, item.article, item.content_hash, item.chunks, item.sentence_vectors
                )
                outcomes.append(outcome)
                obsolete.extend(old_ids)
        for i in range(0, len(obsolete), CHROMA_BATCH):
            self._call("delete", lambda i=i: col.delete(ids=obsolete[i : i + CHROMA_BATCH]))  # type: ignore[misc]
        cat.clear_pending(article_ids)
        return outcomes

    def forget(self, collection: str, article_id: str) -> bool:
        """Remove an article, its chunks, its index rows and its vectors. Returns False when it was not there."""
        if not self.has_collection(collection):
            return False
        with self.write_lock():
            return self._forget(collection, article_id)

    def _forget(self, collection: str, article_id: str) -> bool:
        cat = self.catalogue(collection)
        chunk_ids = cat.chunk_ids_of(article_id)
        cat.mark_pending([(article_id, None)])
        with cat.transaction() as conn:
            existed = cat.delete_article(conn, article_id)
        col = self._call("open collection", lambda: self._chroma(collection))
        if chunk_ids:
            self._call("delete", lambda: col.delete(ids=chunk_ids))
        # Also vectors of interrupted earlier versions, which the catalogue never listed.
        self._call("delete", lambda: col.delete(where={"article_id": article_id}))
        cat.clear_pending([article_id])
        return existed

    def vector_count(self, collection: str) -> int:
        col = self._call("open collection", lambda: self._chroma(collection))
        return int(self._call("count", lambda: col.count()))
