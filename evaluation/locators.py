"""Evidence stored as locators: an article id, character offsets and a hash, never the article's text.

The BBC corpus is for research use and must not enter the repository, so question sets over it keep
`{"doc": id, "start": s, "end": e, "sha": h}` and resolve the sentence from the corpus file at run time. The hash
(the first 16 hex digits of SHA-256 of the exact span) catches a different or edited corpus file: a locator that
no longer points at the sentence it was written for is an error, not a silent wrong answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HASH_CHARS = 16


class LocatorError(ValueError):
    """A locator that does not resolve: unknown article, offsets out of range, or a hash mismatch."""


def span_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


@dataclass(frozen=True)
class Locator:
    doc: str
    start: int
    end: int
    sha: str

    @classmethod
    def of(cls, doc: str, text: str, start: int, end: int) -> Locator:
        """The locator of `text[start:end]` in article `doc`."""
        return cls(doc, start, end, span_hash(text[start:end]))

    @classmethod
    def find(cls, doc: str, text: str, sentence: str) -> Locator | None:
        """The locator of the first verbatim occurrence of `sentence` in `text`, or None."""
        start = text.find(sentence)
        if start < 0:
            return None
        return cls.of(doc, text, start, start + len(sentence))

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Locator:
        try:
            doc, start, end, sha = obj["doc"], obj["start"], obj["end"], obj["sha"]
        except (KeyError, TypeError):
            raise LocatorError(f"a locator needs doc, start, end and sha, got {obj!r}") from None
        if not (isinstance(doc, str) and isinstance(start, int) and isinstance(end, int) and isinstance(sha, str)):
            raise LocatorError(f"bad locator field types: {obj!r}")
        if not 0 <= start < end:
            raise LocatorError(f"bad offsets {start}..{end} in {obj!r}")
        return cls(doc, start, end, sha)

    def to_dict(self) -> dict[str, Any]:
        return {"doc": self.doc, "start": self.start, "end": self.end, "sha": self.sha}

    def resolve(self, texts: Mapping[str, str]) -> str:
        """The located span, checked against its hash."""
        text = texts.get(self.doc)
        if text is None:
            raise LocatorError(f"article {self.doc!r} is not in the corpus")
        if self.end > len(text):
            raise LocatorError(f"{self.doc}:{self.start}-{self.end} is past the article's end ({len(text)} chars)")
        span = text[self.start : self.end]
        if span_hash(span) != self.sha:
            raise LocatorError(f"{self.doc}:{self.start}-{self.end} does not match its hash (a different corpus file?)")
        return span
