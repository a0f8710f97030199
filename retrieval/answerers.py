"""Choosing the answerer: extractive by default (offline, no LLM); an LLM answerer when a provider is configured."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from newsdesk.settings import Settings
from retrieval.answer import Answer, Turn
from retrieval.embeddings import Embedder
from retrieval.extractive import ExtractiveAnswerer
from retrieval.store import ArticleStore
from retrieval.types import RetrievedChunk


class Answerer(Protocol):
    """Turns retrieved chunks into an `Answer` with citations (timings are added by the chain)."""

    name: str

    def answer(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        history: list[Turn] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Answer: ...


def make_answerer(settings: Settings, embedder: Embedder, store: ArticleStore) -> Answerer:
    """The extractive answerer unless `LLM_PROVIDER` names an LLM; nothing LLM-related is imported otherwise."""
    extractive = ExtractiveAnswerer(embedder)
    if settings.llm_provider == "none":
        return extractive
    from retrieval.llm.answerer import LLMAnswerer  # optional extra; imported only when configured

    return LLMAnswerer(settings, embedder, fallback=extractive)  # type: ignore[arg-type,return-value]
