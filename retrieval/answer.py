"""The answer format every answerer produces and every front end (CLI, Discord, evaluation) consumes.

The JSON shape is a public contract (`newsdesk ask --json`, `results.jsonl`):
`{"question", "answer", "abstained", "citations": [{"n", "article_id", "title", "source", "chunk_id", "quote"}],
"timings_ms": {"retrieve", "answer", "total"}}`. Extra, optional keys (`verification`, `note`) only appear when an
LLM answerer sets them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.types import RetrievedChunk

ABSTAIN_TEXT = "The ingested articles do not answer this question."


@dataclass(frozen=True)
class Citation:
    """One numbered source: `quote` is always verbatim text of the article `article_id`."""

    n: int
    article_id: str
    title: str
    source: str
    chunk_id: str
    quote: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """An answer whose sentences carry [n] markers that refer to `citations`."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Set by the LLM answerer only: what verification removed, and a short note for the user on fallbacks.
    verification: dict[str, Any] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.verification is not None:
            data["verification"] = self.verification
        if self.note is not None:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation (chat, a Discord thread), used to understand follow-up questions."""

    question: str
    answer: str
    cited_chunk_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Draft:
    """The LLM's unverified answer so far, streamed by `QAChain.astream` before the verified `QAResult`.

    `delta` is what the model wrote since the previous draft, `text` everything so far. A draft is for showing
    progress only: it is never the last item of a stream, the verified answer always replaces it.
    """

    text: str
    delta: str


@dataclass
class QAResult:
    """What `QAChain.invoke` returns: the answer together with what it was built from.

    `search` is the question retrieval used (a follow-up made standalone), `chunks` the passages the answerer saw,
    in rank order. Front ends need nothing else of retrieval: `urls` gives the cited articles' web addresses.
    """

    question: str
    search: str
    collection: str
    k: int
    answer: Answer
    chunks: list[RetrievedChunk] = field(default_factory=list)

    @property
    def timings_ms(self) -> dict[str, float]:
        """Per-stage milliseconds: `retrieve` (including making a follow-up standalone), `answer`, `total`."""
        return self.answer.timings_ms

    @property
    def urls(self) -> dict[str, str | None]:
        """`article_id -> URL` (None when the article has no web address) for every cited article."""
        known: dict[str, str | None] = {}
        for chunk in self.chunks:
            if chunk.url and not known.get(chunk.article_id):
                known[chunk.article_id] = chunk.url
        return {c.article_id: known.get(c.article_id) for c in self.answer.citations}

    def to_dict(self) -> dict[str, Any]:
        """The public JSON answer (`newsdesk ask --json`), unchanged by the extra fields here."""
        return self.answer.to_dict()
