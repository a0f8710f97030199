"""Catching a local catalogue up with Chroma: the cache follows what other processes ingested and forgot.

Chroma's manifest (`retrieval.records`) lists every complete article version. Catching up compares it with the
catalogue by article id and content hash, then fetches only what differs: an article another process added or
changed is read back from its manifest record (text, title, source, ...) and its chunk records of exactly that
version (text, offsets, sentence spans), and swapped into the catalogue in one transaction; an article missing from
the manifest is dropped. The cost is one metadata-only listing of the manifest (one row per article, not per chunk)
plus reading what changed, so a process that is one article behind pays for one article.

An article whose chunks are not all there (its writer is still deleting an older version, or died) is left as it
was and retried next time; the catch-up then reports itself incomplete so the generation is not recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ingest.models import Chunk
from retrieval.catalogue import Catalogue
from retrieval.records import StoredArticle, article_from_record, chunk_from_record

log = logging.getLogger(__name__)

T = TypeVar("T")
Call = Callable[[str, Callable[[], T]], T]

LIST_PAGE = 5000  # manifest rows per listing request
FETCH_ARTICLES = 100  # articles read back (with their chunks) per request and per catalogue transaction


@dataclass
class CatchUp:
    """What one catch-up did; `complete` is False when some article has to be retried."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.retry

    @property
    def changed(self) -> int:
        return len(self.added) + len(self.updated) + len(self.removed)

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"to retry {len(self.retry)}, {self.seconds:.2f} s"
        )


def list_manifest(manifest: Any, call: Call[Any]) -> dict[str, dict[str, Any]]:
    """article id -> manifest metadata, metadata only (no texts), in pages."""
    out: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = call(
            "list articles",
            lambda o=offset: manifest.get(include=["metadatas"], limit=LIST_PAGE, offset=o),  # type: ignore[misc]
        )
        for article_id, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
            if meta and meta.get("content_hash"):
                out[article_id] = dict(meta)
        if len(page["ids"]) < LIST_PAGE:
            return out
        offset += LIST_PAGE


def read_versions(
    manifest: Any, chunks: Any, wanted: dict[str, str], call: Call[Any]
) -> dict[str, tuple[StoredArticle, list[Chunk]]]:
    """The given article versions (id -> content hash) with all their chunks, read from Chroma.

    Articles whose manifest moved on, or whose chunks are incomplete, are left out (the caller retries them)."""
    ids = list(wanted)
    got = call("read articles", lambda: manifest.get(ids=ids, include=["documents", "metadatas"]))
    found: dict[str, StoredArticle] = {}
    for article_id, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False):
        if meta and meta.get("content_hash") == wanted.get(article_id):
            found[article_id] = article_from_record(article_id, doc, meta)
    if not found:
        return {}
    hashes = sorted({s.content_hash for s in found.values()} | {s.content_hash[:12] for s in found.values()})
    where = {"$and": [{"article_id": {"$in": list(found)}}, {"content_hash": {"$in": hashes}}]}
    rows = call("read chunks", lambda: chunks.get(where=where, include=["documents", "metadatas"]))
    by_article: dict[str, dict[int, Chunk]] = {}
    for chunk_id, doc, meta in zip(rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=False):
        stored = found.get(str(meta.get("article_id"))) if meta else None
        if stored is None or meta.get("content_hash") not in (stored.content_hash, stored.content_hash[:12]):
            continue
        chunk = chunk_from_record(chunk_id, doc, meta)
        by_article.setdefault(chunk.article_id, {})[chunk.position] = chunk
    out: dict[str, tuple[StoredArticle, list[Chunk]]] = {}
    for article_id, stored in found.items():
        parts = by_article.get(article_id, {})
        if stored.chunks and sorted(parts) == list(range(stored.chunks)):
            out[article_id] = (stored, [parts[i] for i in range(stored.chunks)])
    return out


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def catch_up(catalogue: Catalogue, manifest: Any, chunks: Any, call: Call[Any], rebuild: bool = False) -> CatchUp:
    """Make `catalogue` match Chroma, fetching only what differs (everything, in one transaction, if `rebuild`)."""
    started = time.perf_counter()
    report = CatchUp()
    remote = list_manifest(manifest, call)
    local = {} if rebuild else catalogue.all_hashes()
    busy = set() if rebuild else catalogue.live_pending()
    report.removed = sorted(a for a in local if a not in remote and a not in busy)
    todo = sorted(a for a, meta in remote.items() if local.get(a) != meta["content_hash"] and a not in busy)
    fetched: list[tuple[StoredArticle, list[Chunk]]] = []
    if not rebuild and report.removed:
        with catalogue.transaction() as conn:
            for article_id in report.removed:
                catalogue.delete_article(conn, article_id)
    for part in _batches(todo, FETCH_ARTICLES):
        versions = read_versions(manifest, chunks, {a: remote[a]["content_hash"] for a in part}, call)
        report.retry.extend(a for a in part if a not in versions)
        if rebuild:
            fetched.extend(versions.values())
            continue
        with catalogue.transaction() as conn:
            for stored, parts in versions.values():
                _swap_in(catalogue, conn, stored, parts)
                (report.updated if stored.article.article_id in local else report.added).append(
                    stored.article.article_id
                )
    if rebuild:
        with catalogue.transaction() as conn:
            catalogue.clear(conn)
            for stored, parts in fetched:
                _swap_in(catalogue, conn, stored, parts)
                report.added.append(stored.article.article_id)
    report.seconds = time.perf_counter() - started
    if report.changed or report.retry:
        log.info("caught up with Chroma: %s", report.summary())
    return report


def _swap_in(catalogue: Catalogue, conn: Any, stored: StoredArticle, parts: list[Chunk]) -> None:
    catalogue.replace_article(
        conn,
        stored.article,
        stored.content_hash,
        parts,
        None,  # sentence vectors are not kept in Chroma: the answerer embeds the few sentences it reads
        ingested_at=stored.ingested_at or None,
        updated_at=stored.updated_at or None,
    )
