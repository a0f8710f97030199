"""Plain data passed from loaders to the pipeline and reported back to the user."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawArticle:
    """An article as loaded, before cleaning: `text` may still carry web cruft."""

    article_id: str
    text: str
    source: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    url: str | None = None
    # Loaders that already extracted the main text (HTML, JSONL) set this so the text cleaner stays conservative.
    pre_extracted: bool = False


@dataclass
class Article:
    """A cleaned article: `text` is what chunks and quotes point into, character for character."""

    article_id: str
    title: str
    text: str
    source: str
    author: str | None = None
    published: str | None = None
    url: str | None = None
    subtitle: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of an article; `start`/`end` are offsets into `Article.text`."""

    chunk_id: str
    article_id: str
    position: int
    start: int
    end: int
    text: str
    # Sentence spans relative to `text`: the units the answerer scores and quotes.
    sentences: tuple[tuple[int, int], ...] = ()


@dataclass
class IngestFailure:
    source: str
    reason: str


@dataclass
class IngestReport:
    """What one ingest run did, per outcome; `failed` carries a one-line reason per input."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"failed {len(self.failed)}, chunks {self.chunks}, {self.seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": [{"source": f.source, "reason": f.reason} for f in self.failed],
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }
