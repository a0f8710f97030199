"""What users thought of the answers: stored in SQLite in the data dir, exported as evaluation questions.

Every answer the bot sends is recorded (guild, channel, hashed user id, question, answer, citations, time) so that
its buttons keep working after a restart: "Sources" reads the citations back, 👍 / 👎 add a vote (one per user and
answer; clicking again changes it). User ids are stored only as salted SHA-256 hashes: the salt is random, kept in
the database, and never leaves it, so the hashes cannot be matched against Discord ids (which are public and
enumerable) by anyone who only sees an export.

`export_feedback` turns votes into evaluation questions (the dataset format of `evaluation/dataset.py`), so real use
feeds evaluation; see its docstring for the rules.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsdesk.settings import Settings
from newsdesk.text import marker_numbers, strip_markers
from retrieval.answer import Answer, Citation

FEEDBACK_FILE = "feedback.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    guild_id TEXT,
    channel_id TEXT,
    user_hash TEXT NOT NULL,
    collection TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL,
    urls TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    user_hash TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
);
"""


@dataclass(frozen=True)
class StoredAnswer:
    id: str
    created_at: float
    guild_id: str | None
    channel_id: str | None
    collection: str
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    urls: dict[str, str | None]
    up: int = 0
    down: int = 0


@dataclass(frozen=True)
class ExportResult:
    questions: int
    to_review: int
    path: Path
    review_path: Path


def feedback_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / FEEDBACK_FILE


class FeedbackStore:
    """A small SQLite store, safe to call from worker threads (one connection, one lock; writes are tiny)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        if row is None:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(32),))
            row = self._db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        self._salt: str = row[0]

    @classmethod
    def open(cls, settings: Settings) -> FeedbackStore:
        return cls(feedback_path(settings))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def hash_user(self, user_id: int) -> str:
        return hashlib.sha256(f"{self._salt}:{user_id}".encode()).hexdigest()

    def record_answer(
        self,
        *,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        collection: str,
        answer: Answer,
        urls: dict[str, str | None] | None = None,
    ) -> str:
        """Store an answer the bot is about to send; returns its id (16 hex digits, used in button ids)."""
        answer_id = uuid.uuid4().hex[:16]
        citations = json.dumps([c.to_dict() for c in answer.citations], ensure_ascii=False)
        with self._lock:
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    time.time(),
                    str(guild_id) if guild_id is not None else None,
                    str(channel_id) if channel_id is not None else None,
                    self.hash_user(user_id),
                    collection,
                    answer.question,
                    answer.answer,
                    int(answer.abstained),
                    citations,
                    json.dumps(urls or {}),
                ),
            )
        return answer_id

    def vote(self, answer_id: str, user_id: int, vote: int) -> bool:
        """Record (or change) one user's vote on an answer; False when the answer is unknown."""
        if vote not in (-1, 1):
            raise ValueError("vote must be 1 or -1")
        with self._lock:
            exists = self._db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone()
            if exists is None:
                return False
            self._db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?) ON CONFLICT(answer_id, user_hash) "
                "DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer_id, self.hash_user(user_id), vote, time.time()),
            )
        return True

    def get(self, answer_id: str) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute(_SELECT + " WHERE a.id = ? GROUP BY a.id", (answer_id,)).fetchone()
        return _to_stored(row) if row else None

    def all(self) -> list[StoredAnswer]:
        with self._lock:
            rows = self._db.execute(_SELECT + " GROUP BY a.id ORDER BY a.created_at").fetchall()
        return [_to_stored(r) for r in rows]

    def votes(self, answer_id: str) -> list[tuple[str, int]]:
        """(user hash, vote) pairs; only hashes are stored, never Discord ids."""
        with self._lock:
            return list(self._db.execute("SELECT user_hash, vote FROM votes WHERE answer_id = ?", (answer_id,)))


_SELECT = (
    "SELECT a.id, a.created_at, a.guild_id, a.channel_id, a.collection, a.question, a.answer, a.abstained, "
    "a.citations, a.urls, COALESCE(SUM(v.vote = 1), 0), COALESCE(SUM(v.vote = -1), 0) "
    "FROM answers a LEFT JOIN votes v ON v.answer_id = a.id"
)


def _to_stored(row: tuple[Any, ...]) -> StoredAnswer:
    return StoredAnswer(
        id=row[0],
        created_at=row[1],
        guild_id=row[2],
        channel_id=row[3],
        collection=row[4],
        question=row[5],
        answer=row[6],
        abstained=bool(row[7]),
        citations=[Citation(**c) for c in json.loads(row[8])],
        urls=json.loads(row[9]),
        up=int(row[10]),
        down=int(row[11]),
    )


def _cited_in_order(answer: StoredAnswer) -> list[Citation]:
    """Citations in the order the answer first uses their [n] markers (unreferenced ones last)."""
    by_n = {c.n: c for c in answer.citations}
    order: list[Citation] = []
    for n in marker_numbers(answer.answer):
        citation = by_n.get(n)
        if citation is not None and citation not in order:
            order.append(citation)
    order.extend(c for c in answer.citations if c not in order)
    return order


def _question_row(answer: StoredAnswer) -> dict[str, Any] | None:
    """A 👍 answer as an evaluation question, or None when it cannot make one (no quote to check against)."""
    if answer.abstained:
        return {
            "id": f"feedback-{answer.id}",
            "question": answer.question,
            "answer": None,
            "must_contain": [],
            "doc_id": None,
            "evidence": None,
            "kind": "unanswerable",
        }
    cited = [c for c in _cited_in_order(answer) if c.quote.strip()]
    if not cited:
        return None
    first = cited[0]
    must = list(dict.fromkeys(c.quote.strip() for c in cited if c.article_id == first.article_id))[:3]
    return {
        "id": f"feedback-{answer.id}",
        "question": answer.question,
        "answer": strip_markers(answer.answer),
        "must_contain": must,
        "doc_id": first.article_id,
        "evidence": first.quote.strip(),
        "kind": "fact",
    }


def _review_row(answer: StoredAnswer) -> dict[str, Any]:
    return {
        "id": f"feedback-{answer.id}",
        "question": answer.question,
        "answer": None,
        "must_contain": [],
        "doc_id": None,
        "evidence": None,
        "kind": "fact",
        "review": {
            "bot_answer": answer.answer,
            "abstained": answer.abstained,
            "citations": [c.to_dict() for c in answer.citations],
            "up": answer.up,
            "down": answer.down,
            "collection": answer.collection,
        },
    }


def export_feedback(settings: Settings, out_path: str | Path) -> ExportResult:
    """Write voted answers as evaluation questions (`newsdesk feedback export --out FILE.jsonl`).

    Rules, per answer with at least one vote (the net vote decides; a tie counts as 👎, since someone objected):

    * 👍 on a cited answer -> a `fact` question in `FILE.jsonl`: `answer` is the bot's answer without [n] markers,
      `doc_id` and `evidence` come from the first source the answer cites (its quote is verbatim article text),
      and `must_contain` holds the cited quotes of that article (at most 3): a later answer passes if it quotes
      the same evidence. Reviewers may shorten them to the key words for paraphrasing answerers.
    * 👍 on an abstention -> an `unanswerable` question: users agreed the articles do not answer it.
    * 👎 -> a question to review in `FILE.review.jsonl`: the question with empty `must_contain` and null
      `answer`/`doc_id`/`evidence`, plus a `review` object with what the bot said and the votes. That file is
      deliberately not a valid dataset (the `review` key is rejected by `evaluation.dataset`): a reviewer fills in
      the expected answer (or sets `kind` to `unanswerable`), deletes `review`, and appends the line to a dataset.

    Questions asked several times keep only the most recent answer. Output is UTF-8 JSON Lines; ids are
    `feedback-<answer id>`, stable across exports. No user ids (hashed or not) are written.
    """
    out = Path(out_path)
    review = out.with_name(out.stem + ".review" + (out.suffix or ".jsonl"))
    path = feedback_path(settings)
    answers: list[StoredAnswer] = []
    if path.exists():
        store = FeedbackStore(path)
        try:
            answers = store.all()
        finally:
            store.close()
    latest: dict[str, StoredAnswer] = {}
    for answer in answers:
        if answer.up or answer.down:
            latest[" ".join(answer.question.lower().split())] = answer
    good, bad = [], []
    for answer in latest.values():
        if answer.up > answer.down:
            row = _question_row(answer)
            if row is not None:
                good.append(row)
                continue
        bad.append(_review_row(answer))
    out.parent.mkdir(parents=True, exist_ok=True)
    for target, rows in ((out, good), (review, bad)):
        with target.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return ExportResult(questions=len(good), to_review=len(bad), path=out, review_path=review)
