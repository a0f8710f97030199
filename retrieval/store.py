"""The article store: Chroma is the source of truth, a SQLite catalogue per collection is a local cache of it.

Chroma holds every chunk (vector, text, citation metadata) and a manifest of complete article versions (see
`retrieval.records`); the catalogue adds what Chroma cannot do here (FTS5 lexical search, fast joins) and is
derived from Chroma, so several processes with their own data dirs can share one Chroma server: each catches its
catalogue up on its own (`refresh`, at most every `NEWSDESK_SYNC_INTERVAL_S`), and `reindex` rebuilds it.

Write protocol, so that no article is ever half-stored or mixed, even across processes or if one is killed:
1. record the article in the local `pending` table; 2. upsert its new chunk records into Chroma (ids carry the
content hash, so old and new never collide); 3. swap the local catalogue rows in one transaction; 4. upsert the
manifest record, the commit point for every other process; 5. delete the old version's chunks; 6. change the
manifest generation; 7. clear `pending`. Readers only serve chunk ids their catalogue knows, and a catalogue catches
up an article only when all chunks of the manifest's version are there, so between 2 and 5 a reader serves the old
version or the new one, never both. A leftover `pending` row of a dead process is repaired on the next write.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
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
from retrieval.records import (
    MANIFEST_VECTOR,
    chunk_metadata,
    chunks_name,
    collection_of,
    manifest_metadata,
    manifest_name,
    version_filter,
)
from retrieval.sync import CatchUp, catch_up

log = logging.getLogger(__name__)

CHROMA_BATCH = 4000  # below Chroma's max batch (about 5,400 here)
ID_BATCH = 500  # ids per manifest lookup
GENERATION_KEY = "chroma_generation"  # catalogue meta: the manifest generation the cache last caught up with
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


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


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
        self._checked: dict[str, float] = {}  # collection -> monotonic time of the last catch-up check
        self._sync_locks: dict[str, threading.Lock] = {}

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
        """The chunk collection (created on first use)."""
        with self._lock:
            col = self._collections.get(collection)
            if col is None:
                col = self._chroma_client().get_or_create_collection(
                    chunks_name(collection), metadata={"hnsw:space": "cosine"}, embedding_function=None
                )
                self._collections[collection] = col
            return col

    def _manifest(self, collection: str) -> Any:
        """The manifest collection for writing (created on first use)."""
        key = manifest_name(collection)
        with self._lock:
            col = self._collections.get(key)
            if col is None:
                col = self._chroma_client().get_or_create_collection(key, embedding_function=None)
                self._collections[key] = col
            return col

    def _fresh_manifest(self, collection: str) -> Any | None:
        """The manifest collection read anew (its metadata holds the current generation), or None if absent."""
        from chromadb.errors import NotFoundError

        try:
            return self._chroma_client().get_collection(manifest_name(collection), embedding_function=None)
        except NotFoundError:
            return None

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

    def _catalogue_path(self, collection: str) -> Path:
        return self.data_dir / "catalogue" / f"{validate_collection(collection)}.sqlite3"

    def catalogue(self, collection: str) -> Catalogue:
        validate_collection(collection)
        with self._lock:
            cat = self._catalogues.get(collection)
            if cat is None:
                cat = Catalogue(self._catalogue_path(collection))
                self._catalogues[collection] = cat
            return cat

    def has_collection(self, collection: str) -> bool:
        """Whether the collection exists. A stat when this process has a catalogue for it (the bot asks on its event
        loop); otherwise Chroma is asked, at most once per sync interval, and the catalogue built if it is there."""
        path = self._catalogue_path(collection)
        if not path.exists():
            self.refresh(collection)
        return path.exists()

    def _caught_up(self, collection: str) -> bool:
        """`has_collection` after catching the catalogue up with Chroma if that is due: what every read does."""
        self.refresh(collection)
        return self._catalogue_path(collection).exists()

    def count_articles(self, collection: str) -> int:
        """Articles in `collection` from the catalogue (caught up first): no model is needed to check this."""
        return self.catalogue(collection).count_articles() if self._caught_up(collection) else 0

    def collections(self) -> list[str]:
        """Collections with a local catalogue, and in server mode every newsdesk collection on the server."""
        folder = self.data_dir / "catalogue"
        names = {p.stem for p in folder.glob("*.sqlite3")} if folder.exists() else set()
        if self.settings.chroma_host:
            try:
                listed = self._call("list collections", lambda: self._chroma_client().list_collections())
            except StoreUnavailable as exc:
                log.warning("listing this data dir's collections only: %s", exc)
                listed = []
            names |= {n for n in (collection_of(c.name) for c in listed) if n}
        return sorted(names)

    def close(self) -> None:
        with self._lock:
            for cat in self._catalogues.values():
                cat.close()
            self._catalogues.clear()
            self._collections.clear()
            self._client = None

    # --- keeping the cache caught up ---------------------------------------------------------------------------
    def _chroma_present(self) -> bool:
        """A server is configured, or the embedded store exists (else there is nothing to catch up from)."""
        return bool(self.settings.chroma_host) or (self.data_dir / "chroma").exists()

    def refresh(self, collection: str, force: bool = False) -> CatchUp | None:
        """Catch the local catalogue up with Chroma if the last check is older than the sync interval.

        One call checks the manifest generation; only if another process changed something since does it compare
        hashes and fetch what differs. Another thread already catching up is not waited for unless this process
        has nothing to serve yet. If Chroma is unreachable, a cache that has articles keeps serving them."""
        validate_collection(collection)
        path = self._catalogue_path(collection)
        if not self._chroma_present() or (not self.settings.chroma_host and path.exists() and not force):
            return None  # an embedded store is written together with this catalogue: only a missing one is rebuilt
        now = time.monotonic()
        if not force and now - self._checked.get(collection, -1e18) < self.settings.sync_interval_s:
            return None
        with self._lock:
            lock = self._sync_locks.setdefault(collection, threading.Lock())
        empty = not path.exists() or self.catalogue(collection).count_articles() == 0
        if not lock.acquire(blocking=empty or force):
            return None
        try:
            self._checked[collection] = now
            try:
                return self._catch_up(collection, rebuild=False)
            except StoreUnavailable as exc:
                if empty or force:
                    raise
                log.warning("serving the local catalogue of %s as it was: %s", collection, exc)
                return None
        finally:
            lock.release()

    def _catch_up(self, collection: str, rebuild: bool) -> CatchUp | None:
        manifest = self._call("open manifest", lambda: self._fresh_manifest(collection))
        if manifest is None:
            if self._catalogue_path(collection).exists() and self.catalogue(collection).count_articles():
                with self.write_lock():
                    self._publish_legacy(collection)
            return None
        generation = str((manifest.metadata or {}).get("generation") or "")
        cat = self.catalogue(collection)
        if not rebuild and generation and cat.get_meta(GENERATION_KEY) == generation:
            return None
        chunks = self._call("open collection", lambda: self._chroma(collection))
        report = catch_up(cat, manifest, chunks, self._call, rebuild=rebuild)
        if report.complete and generation:
            cat.set_meta(GENERATION_KEY, generation)
        return report

    def reindex(self, collection: str) -> CatchUp:
        """Rebuild the collection's catalogue from Chroma alone (in one transaction: readers see old or new)."""
        validate_collection(collection)
        if not self._chroma_present():
            raise ValueError(f"no Chroma store to rebuild {collection!r} from (data dir {self.data_dir})")
        with self._lock:
            lock = self._sync_locks.setdefault(collection, threading.Lock())
        with lock:
            manifest = self._call("open manifest", lambda: self._fresh_manifest(collection))
            if manifest is None:
                raise ValueError(f"collection {collection!r} is not in Chroma (nothing was ingested into it)")
            report = self._catch_up(collection, rebuild=True)
            self._checked[collection] = time.monotonic()
        assert report is not None
        return report

    def _publish_legacy(self, collection: str) -> None:
        """A collection written before Chroma held texts: publish the catalogue's articles to Chroma once.

        The caller holds the write lock."""
        if self._call("open manifest", lambda: self._fresh_manifest(collection)) is not None:
            return
        cat = self.catalogue(collection)
        col = self._call("open collection", lambda: self._chroma(collection))
        infos = cat.list_articles()
        log.info("publishing %d article(s) of %s to Chroma (written by an older newsdesk)", len(infos), collection)
        for info in infos:
            article = cat.get_article(info.article_id)
            rows = cat.get_chunks(cat.chunk_ids_of(info.article_id))
            if article is None or not rows:
                continue
            ids = sorted(rows, key=lambda cid: rows[cid].position)
            metas = [
                chunk_metadata(article, info.content_hash, _chunk_of(rows[cid], article.article_id)) for cid in ids
            ]
            docs = [rows[cid].text for cid in ids]
            # With documents but no embeddings Chroma would embed the texts itself: pass the stored vectors along.
            got = self._call("publish", lambda i=ids: col.get(ids=i, include=["embeddings"]))  # type: ignore[misc]
            vectors = dict(zip(got["ids"], got["embeddings"], strict=False))
            if any(cid not in vectors for cid in ids):
                continue  # vectors missing: leave it out, so it is not announced as complete
            embeddings = [vectors[cid] for cid in ids]
            self._call(
                "publish",
                lambda i=ids, e=embeddings, d=docs, m=metas: col.update(  # type: ignore[misc]
                    ids=i, embeddings=e, documents=d, metadatas=m
                ),
            )
            self._publish_manifest(collection, [(article, info.content_hash, len(ids), info.ingested_at)])
        self._bump_generation(collection)

    # --- reads -------------------------------------------------------------------------------------------------
    def list_articles(self, collection: str) -> list[ArticleInfo]:
        if not self._caught_up(collection):
            return []
        return self.catalogue(collection).list_articles()

    def get_article(self, collection: str, article_id: str) -> Article | None:
        if not self._caught_up(collection):
            return None
        return self.catalogue(collection).get_article(article_id)

    def count_chunks(self, collection: str) -> int:
        return self.catalogue(collection).count_chunks() if self._caught_up(collection) else 0

    def dense_search(self, collection: str, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest chunk ids by cosine similarity, with no metadata filter (filters are slow at 100k chunks)."""
        if not self._caught_up(collection):
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
        """Current content hash per article as Chroma records it (Chroma decides what is already ingested)."""
        validate_collection(collection)
        if not self._chroma_present():
            return self.catalogue(collection).hashes(article_ids) if self._catalogue_path(collection).exists() else {}
        self._repair_once(collection)
        manifest = self._call("open manifest", lambda: self._fresh_manifest(collection))
        if manifest is None:
            return self.catalogue(collection).hashes(article_ids)
        remote = self._manifest_metas(manifest, list(article_ids))
        found = {aid: str(meta["content_hash"]) for aid, meta in remote.items()}
        if found and self.catalogue(collection).hashes(list(found)) != found:
            self._checked.pop(collection, None)  # another process ingested these: catch up at the next read
        return found

    def _manifest_metas(self, manifest: Any, article_ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(article_ids), ID_BATCH):
            part = article_ids[i : i + ID_BATCH]
            got = self._call("read manifest", lambda p=part: manifest.get(ids=p, include=["metadatas"]))  # type: ignore[misc]
            for aid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                if meta and meta.get("content_hash"):
                    out[aid] = dict(meta)
        return out

    # --- writes ------------------------------------------------------------------------------------------------
    def write_lock(self) -> FileLock:
        """One writer at a time per data dir (embedded Chroma must not be written by two processes at once).

        Only the store writes are serialised; loading, cleaning and embedding run in parallel outside the lock.
        Writers with other data dirs (one Chroma server) are not serialised: content-hash ids make their writes
        idempotent, and the manifest's last write decides which version is current."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.data_dir / "write.lock"))

    def _bump_generation(self, collection: str) -> None:
        """Tell other processes something changed (after the change, so a reader that saw the old token rechecks)."""
        manifest = self._call("open manifest", lambda: self._manifest(collection))
        self._call("bump generation", lambda: manifest.modify(metadata={"generation": uuid.uuid4().hex}))

    def _publish_manifest(self, collection: str, entries: list[tuple[Article, str, int, str | None]]) -> None:
        """Upsert manifest records: (article, content hash, chunk count, first ingest time)."""
        if not entries:
            return
        manifest = self._call("open manifest", lambda: self._manifest(collection))
        now = _now()
        ids = [a.article_id for a, _, _, _ in entries]
        docs = [a.text for a, _, _, _ in entries]
        metas = [manifest_metadata(a, h, n, first or now, now) for a, h, n, first in entries]
        for i in range(0, len(ids), CHROMA_BATCH):
            self._call(
                "publish",
                lambda i=i: manifest.upsert(  # type: ignore[misc]
                    ids=ids[i : i + CHROMA_BATCH],
                    embeddings=[MANIFEST_VECTOR] * len(ids[i : i + CHROMA_BATCH]),
                    documents=docs[i : i + CHROMA_BATCH],
                    metadatas=metas[i : i + CHROMA_BATCH],
                ),
            )

    def repair(self, collection: str) -> int:
        """Finish what killed writers of this data dir left (see `_repair`)."""
        with self.write_lock():
            return self._repair(collection)

    def _repair_once(self, collection: str) -> None:
        if collection not in self._repaired and self._catalogue_path(collection).exists():
            with self.write_lock():
                if collection not in self._repaired:
                    self._repair(collection)
                    self._repaired.add(collection)

    def _repair(self, collection: str) -> int:
        """Roll each write a dead process left half-done forwards (its catalogue swap committed) or back."""
        cat = self.catalogue(collection)
        stale = cat.stale_pending_items()
        if not stale:
            return 0
        col = self._call("open collection", lambda: self._chroma(collection))
        manifest = self._call("open manifest", lambda: self._manifest(collection))
        current = self._manifest_metas(manifest, [aid for aid, _ in stale])
        local = cat.hashes([aid for aid, _ in stale])
        for article_id, pending in stale:
            published = current.get(article_id, {}).get("content_hash")
            if pending is None:  # a forget
                if article_id not in local:
                    self._call("repair", lambda a=article_id: manifest.delete(ids=[a]))  # type: ignore[misc]
                    self._call("repair", lambda a=article_id: col.delete(where={"article_id": a}))  # type: ignore[misc]
                continue
            if published == pending:
                continue
            if local.get(article_id) == pending:  # the catalogue swap committed: publish it
                article = cat.get_article(article_id)
                times = cat.times(article_id)
                if article is not None:
                    n = len(cat.chunk_ids_of(article_id))
                    self._publish_manifest(collection, [(article, pending, n, times[0] if times else None)])
                    if published:
                        self._delete_version(col, article_id, str(published))
                continue
            self._delete_version(col, article_id, pending)  # never published: drop its chunks
        self._bump_generation(collection)
        cat.clear_pending([aid for aid, _ in stale])
        log.info("repaired %d interrupted article write(s) in %s", len(stale), collection)
        return len(stale)

    def _delete_version(self, col: Any, article_id: str, content_hash: str) -> None:
        where = {"$and": [{"article_id": article_id}, version_filter(content_hash)]}
        self._call("delete", lambda: col.delete(where=where))

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
        if self._call("open manifest", lambda: self._fresh_manifest(collection)) is None and cat.count_articles():
            self._publish_legacy(collection)
        manifest = self._call("open manifest", lambda: self._manifest(collection))
        previous = self._manifest_metas(manifest, [item.article.article_id for item in items])
        changed = [it for it in items if previous.get(it.article.article_id, {}).get("content_hash") != it.content_hash]
        cat.mark_pending([(item.article.article_id, item.content_hash) for item in changed])
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        for item in changed:
            ids.extend(c.chunk_id for c in item.chunks)
            docs.extend(c.text for c in item.chunks)
            metas.extend(chunk_metadata(item.article, item.content_hash, c) for c in item.chunks)
            vectors.append(item.vectors)
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 384), dtype=np.float32)
        for i in range(0, len(ids), CHROMA_BATCH):
            self._call(
                "upsert",
                lambda i=i: col.upsert(  # type: ignore[misc]
                    ids=ids[i : i + CHROMA_BATCH],
                    embeddings=matrix[i : i + CHROMA_BATCH],
                    documents=docs[i : i + CHROMA_BATCH],
                    metadatas=metas[i : i + CHROMA_BATCH],
                ),
            )
        obsolete: list[str] = []
        with cat.transaction() as conn:
            for item in items:  # unchanged ones too: a cache that was behind gets them from the item at hand
                before = previous.get(item.article.article_id, {})
                _, old_ids = cat.replace_article(
                    conn,
                    item.article,
                    item.content_hash,
                    item.chunks,
                    item.sentence_vectors,
                    ingested_at=before.get("ingested_at"),
                )
                obsolete.extend(old_ids)
        self._publish_manifest(
            collection,
            [
                (
                    it.article,
                    it.content_hash,
                    len(it.chunks),
                    previous.get(it.article.article_id, {}).get("ingested_at"),
                )
                for it in changed
            ],
        )
        for item in changed:  # the superseded version, by the manifest (this cache may never have held it)
            old = previous.get(item.article.article_id, {}).get("content_hash")
            if old:
                self._delete_version(col, item.article.article_id, str(old))
        keep = set(ids)
        obsolete = [cid for cid in obsolete if cid not in keep]
        for i in range(0, len(obsolete), CHROMA_BATCH):
            self._call("delete", lambda i=i: col.delete(ids=obsolete[i : i + CHROMA_BATCH]))  # type: ignore[misc]
        if changed:
            self._bump_generation(collection)
        cat.clear_pending([item.article.article_id for item in changed])
        return [
            "unchanged" if it not in changed else ("updated" if it.article.article_id in previous else "added")
            for it in items
        ]

    def forget(self, collection: str, article_id: str) -> bool:
        """Remove an article, its chunks, its index rows and its vectors. Returns False when it was not there."""
        if not self._caught_up(collection):
            return False
        with self.write_lock():
            return self._forget(collection, article_id)

    def _forget(self, collection: str, article_id: str) -> bool:
        cat = self.catalogue(collection)
        manifest = self._call("open manifest", lambda: self._manifest(collection))
        published = bool(self._manifest_metas(manifest, [article_id]))
        cat.mark_pending([(article_id, None)])
        with cat.transaction() as conn:
            existed = cat.delete_article(conn, article_id)
        self._call("forget", lambda: manifest.delete(ids=[article_id]))
        col = self._call("open collection", lambda: self._chroma(collection))
        # Every version's chunks, including those of interrupted earlier writes the catalogue never listed.
        self._call("delete", lambda: col.delete(where={"article_id": article_id}))
        if existed or published:
            self._bump_generation(collection)
        cat.clear_pending([article_id])
        return existed or published

    def vector_count(self, collection: str) -> int:
        col = self._call("open collection", lambda: self._chroma(collection))
        return int(self._call("count", lambda: col.count()))


def _chunk_of(row: ChunkRow, article_id: str) -> Chunk:
    return Chunk(
        chunk_id=row.chunk_id,
        article_id=article_id,
        position=row.position,
        start=row.start,
        end=row.end,
        text=row.text,
        sentences=tuple(row.sentences),
    )
