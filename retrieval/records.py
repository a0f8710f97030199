"""What newsdesk keeps in Chroma, and how it is read back: Chroma alone holds everything an answer needs.

Per collection `C` there are two Chroma collections:

- `newsdesk-C`: one record per chunk. The id is `article_id::hash12::position`, the embedding is the chunk vector,
  the document is the chunk text, and the metadata carries the citation (`article_id`, `title`, `source`, `url`,
  `author`, `published`), the chunk's offsets in the article (`start`, `end`, `position`), its sentence spans
  relative to the chunk (`sentences`, JSON) and the article version (`content_hash`). A LangChain
  `Chroma(collection_name="newsdesk-C", embedding_function=<the same model>)` therefore returns useful documents.
- `newsdesk-C.articles`: the manifest, one record per article whose current version is complete. The id is the
  article id, the document is the full article text (offsets point into it), the metadata holds the article fields,
  its `content_hash` and number of `chunks`. The collection's own metadata holds `generation`, a token every writer
  changes after a change, so other processes notice with one cheap call. `.` cannot occur in a newsdesk collection
  name, so the two kinds never clash.

Chroma metadata cannot hold None, so absent fields are left out rather than stored empty.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ingest.models import Article, Chunk

MANIFEST_SUFFIX = ".articles"
MANIFEST_VECTOR = [1.0]  # manifest records are looked up by id only; Chroma still wants an embedding


def chunks_name(collection: str) -> str:
    return f"newsdesk-{collection}"


def manifest_name(collection: str) -> str:
    return f"newsdesk-{collection}{MANIFEST_SUFFIX}"


def collection_of(chroma_name: str) -> str | None:
    """The newsdesk collection a Chroma manifest collection belongs to, or None for any other name."""
    if chroma_name.startswith("newsdesk-") and chroma_name.endswith(MANIFEST_SUFFIX):
        return chroma_name[len("newsdesk-") : -len(MANIFEST_SUFFIX)] or None
    return None


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != ""}


def chunk_metadata(article: Article, content_hash: str, chunk: Chunk) -> dict[str, Any]:
    """The metadata of one chunk record: what a citation needs, without a separate lookup."""
    return _present(
        {
            "article_id": article.article_id,
            "title": article.title,
            "source": article.source,
            "url": article.url,
            "author": article.author,
            "published": article.published,
            "start": chunk.start,
            "end": chunk.end,
            "position": chunk.position,
            "sentences": json.dumps([list(span) for span in chunk.sentences]),
            "content_hash": content_hash,
        }
    )


def manifest_metadata(
    article: Article, content_hash: str, chunks: int, ingested_at: str, updated_at: str
) -> dict[str, Any]:
    """The metadata of one manifest record; the record's document is the article text."""
    return _present(
        {
            "title": article.title,
            "subtitle": article.subtitle,
            "author": article.author,
            "published": article.published,
            "url": article.url,
            "source": article.source,
            "content_hash": content_hash,
            "chunks": chunks,
            "ingested_at": ingested_at,
            "updated_at": updated_at,
        }
    )


@dataclass
class StoredArticle:
    """An article version as read back from the manifest."""

    article: Article
    content_hash: str
    chunks: int
    ingested_at: str
    updated_at: str


def _opt(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return str(value) if value is not None and value != "" else None


def article_from_record(article_id: str, document: str | None, meta: Mapping[str, Any]) -> StoredArticle:
    article = Article(
        article_id=article_id,
        title=str(meta.get("title") or article_id),
        text=document or "",
        source=str(meta.get("source") or ""),
        author=_opt(meta, "author"),
        published=_opt(meta, "published"),
        url=_opt(meta, "url"),
        subtitle=_opt(meta, "subtitle"),
    )
    return StoredArticle(
        article=article,
        content_hash=str(meta["content_hash"]),
        chunks=int(meta.get("chunks") or 0),
        ingested_at=str(meta.get("ingested_at") or ""),
        updated_at=str(meta.get("updated_at") or ""),
    )


def chunk_from_record(chunk_id: str, document: str | None, meta: Mapping[str, Any]) -> Chunk:
    spans = json.loads(str(meta.get("sentences") or "[]"))
    return Chunk(
        chunk_id=chunk_id,
        article_id=str(meta["article_id"]),
        position=int(meta["position"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=document or "",
        sentences=tuple((int(s), int(e)) for s, e in spans),
    )


def version_filter(content_hash: str) -> dict[str, Any]:
    """Chunks of one article version: new records carry the full hash, records of older releases the first 12."""
    return {"content_hash": {"$in": [content_hash, content_hash[:12]]}}
