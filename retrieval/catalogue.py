"""The per-collection SQLite catalogue: articles, chunk texts and offsets, and the FTS5 lexical index.

The catalogue is a local cache derived from Chroma (see `retrieval.records` and `retrieval.sync`): a process builds
it from Chroma's manifest and chunk records, and rebuilds it from them at will (`newsdesk reindex`). Within a
process it decides which chunks are served: a chunk counts only when its id is in the catalogue, and the catalogue
switches an article from old chunks to new ones in one transaction, so readers never see a mix. The `pending` table
records Chroma writes in flight so a killed process can be cleaned up.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest.models import Article, Chunk
from newsdesk.text import QUERY_STOPWORDS
from retrieval.stemming import porter_stem

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    subtitle TEXT,
    author TEXT,
    published TEXT,
    url TEXT,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
-- rowid of chunks_fts = chunks.id, so deleting an article's index rows is a primary-key lookup.
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, body, tokenize = 'porter unicode61 remove_diacritics 2'
);
-- One row per sentence of a chunk: its span (relative to the chunk) and its embedding (float16).
CREATE TABLE IF NOT EXISTS sentences (
    chunk_row INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    vec BLOB,
    PRIMARY KEY (chunk_row, idx)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TABLE IF NOT EXISTS pending (
    article_id TEXT PRIMARY KEY,
    content_hash TEXT,
    owner TEXT NOT NULL,
    started REAL NOT NULL
);
-- Small facts about the cache itself, e.g. the Chroma manifest generation it last caught up with.
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

STOPWORDS = QUERY_STOPWORDS  # kept under this name for importers
_TOKEN = re.compile(r"[\w’']+", re.UNICODE)


def query_terms(text: str) -> list[str]:
    """Content words of a question, lower-cased, in order, without duplicates or stopwords."""
    seen: dict[str, None] = {}
    for raw in _TOKEN.findall(text.lower()):
        tok = raw.strip("'’").replace("’", "'")
        if tok.endswith("'s"):
            tok = tok[:-2]
        if len(tok) < 2 or tok in STOPWORDS or "'" in tok:
            continue
        seen.setdefault(tok, None)
    return list(seen)


@dataclass
class ArticleInfo:
    article_id: str
    title: str
    source: str
    url: str | None
    author: str | None
    published: str | None
    chunks: int
    ingested_at: str
    updated_at: str
    content_hash: str

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class ChunkRow:
    chunk_id: str
    article_id: str
    title: str
    source: str
    position: int
    start: int
    end: int
    text: str
    author: str | None = None
    url: str | None = None
    sentences: list[tuple[int, int]] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def owner_tag() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_alive(owner: str) -> bool:
    """Whether the process that wrote a pending row still runs (only knowable on the same host)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Catalogue:
    """One collection's SQLite file. Thread-safe: one connection guarded by a lock (queries are short)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=60.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: writers from several processes queue up instead of interleaving."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # --- reads -------------------------------------------------------------------------------------------------
    def hashes(self, article_ids: Iterable[str]) -> dict[str, str]:
        ids = list(article_ids)
        out: dict[str, str] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                rows = self._conn.execute(
                    f"SELECT article_id, content_hash FROM articles WHERE article_id IN ({marks})", part
                )
                out.update(dict(rows.fetchall()))
        return out

    def list_articles(self) -> list[ArticleInfo]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT article_id, title, source, url, author, published, chunks, ingested_at, updated_at,"
                " content_hash FROM articles ORDER BY updated_at DESC, article_id"
            ).fetchall()
        return [ArticleInfo(*row) for row in rows]

    def count_articles(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    def count_chunks(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def get_article(self, article_id: str) -> Article | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT article_id, title, text, source, author, published, url, subtitle FROM articles"
                " WHERE article_id = ?",
                (article_id,),
            ).fetchone()
        return Article(*row) if row else None

    def get_chunks(self, chunk_ids: list[str]) -> dict[str, ChunkRow]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._conn.execute(
                'SELECT c.chunk_id, c.article_id, a.title, COALESCE(a.url, a.source), c.position, c.start, c."end",'
                " c.text, a.author, a.url FROM chunks c JOIN articles a ON a.article_id = c.article_id"
                f" WHERE c.chunk_id IN ({marks})",
                chunk_ids,
            ).fetchall()
            found = {row[0]: ChunkRow(*row) for row in rows}
            sentence_rows = self._conn.execute(
                'SELECT c.chunk_id, s.start, s."end", s.vec FROM sentences s JOIN chunks c ON c.id = s.chunk_row'
                f" WHERE c.chunk_id IN ({marks}) ORDER BY s.chunk_row, s.idx",
                chunk_ids,
            ).fetchall()
        vectors: dict[str, list[bytes]] = {}
        for chunk_id, start, end, vec in sentence_rows:
            found[chunk_id].sentences.append((start, end))
            if vec is not None:
                vectors.setdefault(chunk_id, []).append(vec)
        for chunk_id, blobs in vectors.items():
            row = found[chunk_id]
            if len(blobs) == len(row.sentences):
                row.sentence_vectors = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(blobs), -1)
        return found

    def chunk_ids_of(self, article_id: str) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT chunk_id FROM chunks WHERE article_id = ?", (article_id,)).fetchall()
        return [r[0] for r in rows]

    # Lexical search cost is the postings it reads: the OR-query scores every chunk holding any kept term. Terms are
    # taken rarest first up to this many postings (and always the rarest one), so a query reads about as much at
    # 100,000 chunks as at 10,000; frequent terms rank little in BM25 and dense search covers their meaning.
    POSTINGS_BUDGET = 8000
    _df_cache: dict[str, int] | None = None  # per instance, see _doc_freqs
    _df_key: tuple[int, int] = (-1, -1)

    def _doc_freqs(self, stems: list[str]) -> tuple[int, dict[str, int]]:
        """(chunks, chunks per stemmed term), cached until this or another connection writes: counting a term's
        chunks reads its whole posting list, as costly as the query itself for a common word."""
        key = (self._conn.total_changes, int(self._conn.execute("PRAGMA data_version").fetchone()[0]))
        if self._df_cache is None or key != self._df_key:
            self._df_cache = {"": int(self._conn.execute("SELECT count(*) FROM chunks").fetchone()[0])}
            self._df_key = key
        cache = self._df_cache
        for stem in stems:
            if stem not in cache:
                row = self._conn.execute("SELECT doc FROM chunks_vocab WHERE term = ?", (stem,)).fetchone()
                cache[stem] = int(row[0]) if row else 0
                if len(cache) > 50_000:
                    self._df_cache = cache = {"": cache[""], stem: cache[stem]}
        return cache[""], {s: cache[s] for s in stems}

    def lexical_search(self, terms: list[str], limit: int, max_df_ratio: float = 0.25) -> list[tuple[str, float]]:
        """BM25 over title and body with FTS5. Terms in more than `max_df_ratio` of chunks are left out (they rank
        nothing and would make the query touch most of the index), and the rest are taken rarest first within
        `POSTINGS_BUDGET`, so cost does not grow with the collection."""
        if not terms:
            return []
        with self._lock:
            stems = [porter_stem(t) for t in terms]
            total, df = self._doc_freqs(stems)
            total = total or 1
            candidates = []
            for term, stem in zip(terms, stems, strict=True):
                n = df[stem]
                if total > 200 and n / total > max_df_ratio:
                    continue  # (0: not in the index under this stem; FTS5 stems it itself, so keep it, at no cost)
                candidates.append((n, term))
            candidates.sort()
            kept: list[str] = []
            used = 0
            for n, term in candidates:
                if kept and used + n > self.POSTINGS_BUDGET:
                    break
                kept.append(term)
                used += n
            if not kept:
                return []
            match = " OR ".join('"' + t.replace('"', "") + '"' for t in kept)
            rows = self._conn.execute(
                "SELECT c.chunk_id, f.score FROM (SELECT rowid, bm25(chunks_fts, 0.5, 1.0) AS score FROM chunks_fts"
                " WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?) f JOIN chunks c ON c.id = f.rowid ORDER BY f.score",
                (match, limit),
            ).fetchall()
        return [(r[0], -float(r[1])) for r in rows]

    # --- writes ------------------------------------------------------------------------------------------------
    def mark_pending(self, items: list[tuple[str, str | None]]) -> None:
        owner = owner_tag()
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO pending(article_id, content_hash, owner, started) VALUES (?, ?, ?, ?)",
                [(aid, h, owner, time.time()) for aid, h in items],
            )

    def clear_pending(self, article_ids: list[str]) -> None:
        with self.transaction() as conn:
            conn.executemany("DELETE FROM pending WHERE article_id = ?", [(a,) for a in article_ids])

    def stale_pending(self) -> list[str]:
        return [aid for aid, _ in self.stale_pending_items()]

    def stale_pending_items(self) -> list[tuple[str, str | None]]:
        """(article id, version being written; None for a forget) of writes whose process is gone."""
        with self._lock:
            rows = self._conn.execute("SELECT article_id, content_hash, owner FROM pending").fetchall()
        return [(aid, digest) for aid, digest, owner in rows if not owner_is_alive(owner)]

    def live_pending(self) -> set[str]:
        """Articles a running process is writing right now: catching up leaves them to that writer."""
        with self._lock:
            rows = self._conn.execute("SELECT article_id, owner FROM pending").fetchall()
        return {aid for aid, owner in rows if owner_is_alive(owner)}

    # --- cache bookkeeping -------------------------------------------------------------------------------------
    def all_hashes(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT article_id, content_hash FROM articles").fetchall())

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def times(self, article_id: str) -> tuple[str, str] | None:
        """(ingested_at, updated_at) of an article, to carry over when it is republished."""
        with self._lock:
            row = self._conn.execute(
                "SELECT ingested_at, updated_at FROM articles WHERE article_id = ?", (article_id,)
            ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    @staticmethod
    def clear(conn: sqlite3.Connection) -> None:
        """Inside a transaction: drop every article, chunk and index row (before a rebuild from Chroma)."""
        for table in ("chunks_fts", "sentences", "chunks", "articles", "meta"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def replace_article(
        self,
        conn: sqlite3.Connection,
        article: Article,
        content_hash: str,
        chunks: list[Chunk],
        sentence_vectors: list[np.ndarray] | None = None,
        ingested_at: str | None = None,
        updated_at: str | None = None,
    ) -> tuple[str, list[str]]:
        """Inside a transaction: swap an article's rows to the new version. Returns (outcome, old chunk ids).

        `ingested_at`/`updated_at` carry the times recorded in Chroma when the cache catches up; by default the
        first ingest time is kept and the update time is now."""
        row = conn.execute(
            "SELECT content_hash, ingested_at FROM articles WHERE article_id = ?", (article.article_id,)
        ).fetchone()
        if row and row[0] == content_hash:
            return "unchanged", []
        old_ids = [
            r[0] for r in conn.execute("SELECT chunk_id FROM chunks WHERE article_id = ?", (article.article_id,))
        ]
        self._delete_rows(conn, article.article_id)
        now = updated_at or _now()
        conn.execute(
            "INSERT INTO articles(article_id, title, subtitle, author, published, url, source, content_hash, text,"
            " chunks, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.article_id,
                article.title,
                article.subtitle,
                article.author,
                article.published,
                article.url,
                article.source,
                content_hash,
                article.text,
                len(chunks),
                ingested_at or (row[1] if row else now),
                now,
            ),
        )
        for i, c in enumerate(chunks):
            cur = conn.execute(
                'INSERT INTO chunks(chunk_id, article_id, position, start, "end", text) VALUES (?, ?, ?, ?, ?, ?)',
                (c.chunk_id, c.article_id, c.position, c.start, c.end, c.text),
            )
            row_id = cur.lastrowid
            conn.execute("INSERT INTO chunks_fts(rowid, title, body) VALUES (?, ?, ?)", (row_id, article.title, c.text))
            vecs = sentence_vectors[i] if sentence_vectors is not None else None
            conn.executemany(
                'INSERT INTO sentences(chunk_row, idx, start, "end", vec) VALUES (?, ?, ?, ?, ?)',
                [
                    (row_id, j, s, e, vecs[j].astype(np.float16).tobytes() if vecs is not None else None)
                    for j, (s, e) in enumerate(c.sentences)
                ],
            )
        return ("updated" if row else "added"), [i for i in old_ids if i not in {c.chunk_id for c in chunks}]

    def delete_article(self, conn: sqlite3.Connection, article_id: str) -> bool:
        exists = conn.execute("SELECT 1 FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        self._delete_rows(conn, article_id)
        return exists is not None

    @staticmethod
    def _delete_rows(conn: sqlite3.Connection, article_id: str) -> None:
        conn.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE article_id = ?)", (article_id,)
        )
        conn.execute(
            "DELETE FROM sentences WHERE chunk_row IN (SELECT id FROM chunks WHERE article_id = ?)", (article_id,)
        )
        conn.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        conn.execute("DELETE FROM articles WHERE article_id = ?", (article_id,))
