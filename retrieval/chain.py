"""The answer chain: question -> retrieve -> answer, as a LangChain Runnable with per-stage timings.

`QAChain.ask` is what every front end calls (CLI, Discord, evaluation), so they all answer the same way. Follow-up
questions are made standalone before retrieval: with an LLM answerer, by the LLM; offline, by carrying the previous
question's words along, which is enough for "what else did he say?".
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from newsdesk.settings import Settings
from retrieval.answer import Answer, Turn
from retrieval.answerers import Answerer, make_answerer
from retrieval.embeddings import Embedder
from retrieval.errors import BadQuestion
from retrieval.question import is_follow_up
from retrieval.retriever import HybridRetriever, QueryVectors, retrieve_chunks
from retrieval.store import ArticleStore, validate_collection
from retrieval.types import RetrievedChunk


class QAChain:
    """Retrieval plus an answerer over the shared store; thread-safe (the bot calls it from worker threads)."""

    def __init__(self, settings: Settings, store: ArticleStore, embedder: Embedder, answerer: Answerer) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.answerer = answerer
        self.vectors = QueryVectors(embedder)
        self.runnable: Runnable[dict[str, Any], Answer] = RunnableLambda(self._retrieve_step).with_config(
            run_name="retrieve"
        ) | RunnableLambda(self._answer_step).with_config(run_name="answer")

    def retriever(self, collection: str | None = None, k: int | None = None) -> HybridRetriever:
        """A LangChain retriever over one collection, for use in other LangChain chains."""
        return HybridRetriever(
            store=self.store,
            vectors=self.vectors,
            collection=validate_collection(collection or self.settings.collection),
            k=k or self.settings.top_k,
        )

    def retrieve(self, question: str, collection: str | None = None, k: int | None = None) -> list[RetrievedChunk]:
        collection = validate_collection(collection or self.settings.collection)
        return retrieve_chunks(self.store, self.vectors, collection, question, k or self.settings.top_k)

    def clean_question(self, question: str) -> str:
        """Strip and cap a question; an empty one is a `BadQuestion`."""
        text = " ".join((question or "").split())
        if not text:
            raise BadQuestion("the question is empty")
        return text[: self.settings.max_question_chars]

    def standalone(self, question: str, history: list[Turn] | None) -> str:
        """The question with what it leans on from earlier turns."""
        if not history or not is_follow_up(question):
            return question
        rewrite = getattr(self.answerer, "rewrite_question", None)
        if callable(rewrite):
            rewritten = rewrite(question, history)
            if isinstance(rewritten, str) and rewritten.strip():
                return rewritten.strip()
        return f"{question} {history[-1].question}"

    def ask(
        self,
        question: str,
        collection: str | None = None,
        k: int | None = None,
        history: list[Turn] | None = None,
    ) -> Answer:
        """Answer one question from one collection; raises BadQuestion or StoreUnavailable."""
        started = time.perf_counter()
        inputs = {
            "question": self.clean_question(question),
            "collection": validate_collection(collection or self.settings.collection),
            "k": k or self.settings.top_k,
            "history": history or [],
            "started": started,
        }
        answer: Answer = self.runnable.invoke(inputs)
        answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return answer

    # --- runnable steps ------------------------------------------------------------------------------------------
    def _retrieve_step(self, inputs: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        search = self.standalone(inputs["question"], inputs["history"])
        chunks = retrieve_chunks(self.store, self.vectors, inputs["collection"], search, inputs["k"])
        return {**inputs, "search": search, "chunks": chunks, "retrieve_ms": (time.perf_counter() - t0) * 1000}

    def _answer_step(self, state: dict[str, Any]) -> Answer:
        t0 = time.perf_counter()
        search: str = state["search"]
        answer = self.answerer.answer(search, state["chunks"], state["history"], self.vectors.get(search))
        answer.question = state["question"]
        answer.timings_ms = {"retrieve": state["retrieve_ms"], "answer": (time.perf_counter() - t0) * 1000}
        return answer


def make_chain(settings: Settings, store: ArticleStore | None = None, embedder: Embedder | None = None) -> QAChain:
    """Build the chain; pass a shared store and embedder to reuse one model and one Chroma client per process."""
    if embedder is None:
        from retrieval.embeddings import make_embedder

        embedder = make_embedder(settings)
    if store is None:
        store = ArticleStore(settings)
    return QAChain(settings, store, embedder, make_answerer(settings, embedder, store))
