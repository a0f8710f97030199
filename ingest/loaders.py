"""Load articles from files, folders, JSON Lines, standard input and URLs.

Each input yields `RawArticle`s or `IngestFailure`s; one bad input (or one bad JSONL line) never stops the others.
Article ids are stable across re-ingests: the JSONL `id`, else the file's stem, else a slug of the URL.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from ingest.fetch import FetchError, fetch_url
from ingest.models import IngestFailure, RawArticle
from newsdesk.settings import Settings

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

LoadResult = RawArticle | IngestFailure

_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def slugify(text: str, max_len: int = 80) -> str:
    """A readable, stable id fragment; long inputs keep a hash suffix so distinct inputs stay distinct."""
    slug = _SLUG.sub("-", text).strip("-._")
    if len(slug) > max_len:
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        slug = slug[: max_len - 9].rstrip("-._") + "-" + digest
    return slug


def article_id_from_url(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    for suffix in (".html", ".htm", ".php", ".aspx"):
        path = path.removesuffix(suffix)
    return slugify(f"{parts.hostname or 'url'}{path.replace('/', '-')}") or "url"


def decode_text(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM); binary or undecodable bytes raise ValueError naming the problem."""
    if b"\x00" in data[:8192]:
        raise ValueError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 text (byte {exc.start})") from exc


def raw_from_html(html: str, article_id: str, source: str, url: str | None) -> RawArticle:
    """Main-text extraction with trafilatura: drops navigation, scripts, styles, ads; keeps title, author, date."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise ValueError("no article text found in the HTML page")
    return RawArticle(
        article_id=article_id,
        text=text,
        source=source,
        title=getattr(doc, "title", None) or None,
        author=getattr(doc, "author", None) or None,
        published=getattr(doc, "date", None) or None,
        url=url,
        pre_extracted=True,
    )


def _jsonl_articles(text: str, source: str) -> Iterator[LoadResult]:
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source} line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield IngestFailure(where, f"invalid JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            yield IngestFailure(where, "expected a JSON object")
            continue
        article_id = str(obj.get("id") or "").strip()
        body = obj.get("text")
        if not article_id:
            yield IngestFailure(where, "missing 'id'")
            continue
        if not isinstance(body, str) or not body.strip():
            yield IngestFailure(where, f"article {article_id!r} has no 'text'")
            continue
        if article_id in seen:
            yield IngestFailure(where, f"duplicate id {article_id!r} (the first one was kept)")
            continue
        seen.add(article_id)
        url = obj.get("url") or None
        yield RawArticle(
            article_id=article_id,
            text=body,
            source=str(url or f"{source}#{article_id}"),
            title=(str(obj["title"]).strip() or None) if obj.get("title") else None,
            author=str(obj["author"]) if obj.get("author") else None,
            published=str(obj["published"]) if obj.get("published") else None,
            url=str(url) if url else None,
            pre_extracted=bool(obj.get("title")),
        )


def load_bytes(name: str, data: bytes, settings: Settings, *, source: str | None = None) -> Iterator[LoadResult]:
    """Load an uploaded or read file by its name's suffix (used for files and Discord attachments)."""
    source = source or name
    suffix = Path(name).suffix.lower()
    if len(data) > settings.max_article_bytes:
        yield IngestFailure(source, f"file is larger than the {settings.max_article_bytes:,}-byte limit")
        return
    if suffix not in SUPPORTED_SUFFIXES:
        yield IngestFailure(source, f"unsupported file type {suffix or '(none)'!r}; use .txt, .md, .html or .jsonl")
        return
    try:
        text = decode_text(data, name)
    except ValueError as exc:
        yield IngestFailure(source, str(exc))
        return
    if not text.strip():
        yield IngestFailure(source, "empty file")
        return
    if suffix in JSONL_SUFFIXES:
        yield from _jsonl_articles(text, source)
        return
    article_id = slugify(Path(name).stem) or "article"
    if suffix in HTML_SUFFIXES:
        try:
            yield raw_from_html(text, article_id, source, None)
        except ValueError as exc:
            yield IngestFailure(source, str(exc))
        return
    yield RawArticle(article_id=article_id, text=text, source=source)


def _load_path(path: Path, settings: Settings) -> Iterator[LoadResult]:
    source = str(path)
    if not path.exists():
        yield IngestFailure(source, "no such file or folder")
        return
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not any(s.startswith(".") for s in p.parts)
        )
        if not files:
            yield IngestFailure(source, "folder has no .txt, .md, .html or .jsonl files")
        for file in files:
            yield from _load_path(file, settings)
        return
    try:
        size = path.stat().st_size
        if size > settings.max_article_bytes:
            yield IngestFailure(source, f"file is larger than the {settings.max_article_bytes:,}-byte limit")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield IngestFailure(source, f"cannot read: {exc.strerror or exc}")
        return
    yield from load_bytes(path.name, data, settings, source=source)


def _load_url(url: str, settings: Settings) -> Iterator[LoadResult]:
    try:
        fetched = fetch_url(
            url,
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.max_article_bytes,
            allow_private=settings.allow_private_urls,
        )
        text = decode_text(fetched.content, url)
    except (FetchError, ValueError) as exc:
        yield IngestFailure(url, str(exc))
        return
    article_id = article_id_from_url(url)
    if "html" in fetched.content_type:
        try:
            yield raw_from_html(text, article_id, url, url)
        except ValueError as exc:
            yield IngestFailure(url, str(exc))
        return
    if not text.strip():
        yield IngestFailure(url, "empty page")
        return
    yield RawArticle(article_id=article_id, text=text, source=url, url=url)


def _load_stdin(settings: Settings) -> Iterator[LoadResult]:
    data = sys.stdin.buffer.read(settings.max_article_bytes + 1)
    try:
        text = decode_text(data, "stdin")
    except ValueError as exc:
        yield IngestFailure("-", str(exc))
        return
    if len(data) > settings.max_article_bytes:
        yield IngestFailure("-", f"input is larger than the {settings.max_article_bytes:,}-byte limit")
        return
    if not text.strip():
        yield IngestFailure("-", "empty input")
        return
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "stdin")
    yield RawArticle(article_id=slugify(first_line.lower(), 60) or "stdin", text=text, source="stdin")


def load_inputs(inputs: list[str], settings: Settings) -> Iterator[LoadResult]:
    """Expand every input (path, folder, `-`, URL) into raw articles or failures, in order."""
    for item in inputs:
        if item == "-":
            yield from _load_stdin(settings)
        elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", item):
            if item.lower().startswith(("http://", "https://")):
                yield from _load_url(item, settings)
            else:
                yield IngestFailure(item, "only http and https URLs can be ingested")
        else:
            yield from _load_path(Path(item), settings)
