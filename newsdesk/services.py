"""The process-wide parts, built once from settings and shared: one model, one Chroma client, one chain.

Front ends (CLI, Discord bot, evaluation, benchmarks) build a `Services` and call its parts; tests build their own
from a `Settings` pointing at a temporary data dir. Everything heavy is created lazily on first use, so
`newsdesk --help`, or a command that fails on its arguments, imports none of it and loads no model.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from newsdesk.settings import Settings

if TYPE_CHECKING:
    from ingest.pipeline import Ingestor
    from retrieval.chain import QAChain
    from retrieval.embeddings import Embedder
    from retrieval.store import ArticleStore


class Services:
    """Lazily built, shared application parts. Pass `embedder=` to reuse one model across several instances."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        if embedder is not None:
            self.__dict__["embedder"] = embedder

    @cached_property
    def embedder(self) -> Embedder:
        """The configured model, loaded on its first real use (see `LazyEmbedder`), not when a part is built."""
        from retrieval.embeddings import LazyEmbedder, make_embedder

        return LazyEmbedder(lambda: make_embedder(self.settings))  # type: ignore[return-value]

    @cached_property
    def store(self) -> ArticleStore:
        from retrieval.store import ArticleStore

        return ArticleStore(self.settings)

    @cached_property
    def ingestor(self) -> Ingestor:
        from ingest.pipeline import Ingestor

        return Ingestor(self.settings, store=self.store, embedder=self.embedder)

    @cached_property
    def chain(self) -> QAChain:
        from retrieval.chain import make_chain

        return make_chain(self.settings, store=self.store, embedder=self.embedder)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
