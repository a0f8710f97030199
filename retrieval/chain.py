"""The answer chain: question -> standalone question -> retrieve -> answer, as a LangChain `Runnable`.

`QAChain` is what every front end calls (CLI, Discord, evaluation), so they all answer the same way, and it is an
ordinary LangChain runnable, so it composes, batches and traces like one:

    chain.invoke("What did the minister say?")                       # -> QAResult
    chain.invoke({"question": "...", "collection": "c1", "k": 3, "history": [turn]})
    async for item in chain.astream("..."):                          # Draft, Draft, ..., then QAResult

Retrieval goes through `HybridRetriever` and the answer through the answerer's chat model with the caller's
`config`, so a callback handler sees the chain, the retriever (with its documents) and every chat-model call as
nested runs. Follow-up questions are made standalone before retrieval: with an LLM answerer, by the LLM; offline, by
carrying the previous question's words along, which is enough for "what else did he say?".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Required, cast

from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic reads input schemas only from this TypedDict on Python 3.11

from newsdesk.settings import Settings
from retrieval.answer import Answer, Draft, QAResult, Turn
from retrieval.answerers import Answerer, make_answerer
from retrieval.embeddings import Embedder
from retrieval.errors import BadQuestion
from retrieval.question import is_follow_up
from retrieval.retriever import HybridRetriever, QueryVectors, chunk_of
from retrieval.store import ArticleStore, validate_collection
from retrieval.types import RetrievedChunk


class QAInput(TypedDict, total=False):
    """The chain's input as a dict; only `question` is required (a plain string is the question alone)."""

    question: Required[str]
    collection: str | None
    k: int | None
    # Earlier exchanges, oldest first: `Turn`s, or {"question", "answer"} mappings, or (question, answer) pairs.
    history: Sequence[Turn | Mapping[str, Any] | tuple[str, str]] | None


QAStreamItem = Draft | QAResult


class QAResultSchema(BaseModel):
    """The JSON schema LangChain tools see for a `QAResult` (its chunks hold numpy arrays, which have none)."""

    question: str = Field(description="the question as asked, cleaned")
    search: str = Field(description="the question retrieval used (a follow-up made standalone)")
    collection: str
    k: int
    answer: dict[str, Any] = Field(description="the public answer object of `newsdesk ask --json`")
    chunks: list[dict[str, Any]] = Field(description="the retrieved passages the answer was built from")


def as_turn(item: Turn | Mapping[str, Any] | Sequence[str]) -> Turn:
    """One history entry as a `Turn`; anything else is a clear `BadQuestion`."""
    if isinstance(item, Turn):
        return item
    if isinstance(item, Mapping) and isinstance(item.get("question"), str):
        cited = tuple(str(c) for c in item.get("cited_chunk_ids") or ())
        return Turn(question=item["question"], answer=str(item.get("answer") or ""), cited_chunk_ids=cited)
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
        question, answer = item
        if isinstance(question, str) and isinstance(answer, str):
            return Turn(question=question, answer=answer)
    raise BadQuestion(f"a history entry must be a Turn, a {{'question', 'answer'}} dict or a pair, got {item!r}")


class QAChain(Runnable[QAInput | str, QAResult]):
    """Retrieval plus an answerer over the shared store; thread-safe (the bot calls it from worker threads)."""

    name = "QAChain"

    def __init__(self, settings: Settings, store: ArticleStore, embedder: Embedder, answerer: Answerer) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.answerer = answerer
        self.vectors = QueryVectors(embedder)
        prepare = RunnableLambda(self._prepare_step).with_config(run_name="prepare")
        retrieve = RunnableLambda(self._retrieve_step).with_config(run_name="retrieve")
        self._answering: Runnable[QAInput | str, QAResult] = (
            prepare | retrieve | RunnableLambda(self._answer_step).with_config(run_name="answer")
        ).with_config(run_name=self.name)
        self._streaming: Runnable[QAInput | str, QAStreamItem] = (
            prepare | retrieve | RunnableLambda(self._astream_answer_step).with_config(run_name="answer")
        ).with_config(run_name=self.name)

    # --- the Runnable interface ----------------------------------------------------------------------------------
    @property
    def InputType(self) -> type[QAInput | str]:  # noqa: N802 - LangChain's name
        return cast(type[QAInput | str], QAInput | str)

    @property
    def OutputType(self) -> type[QAResult]:  # noqa: N802 - LangChain's name
        return QAResult

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        return QAResultSchema

    def invoke(self, input: QAInput | str, config: RunnableConfig | None = None, **kwargs: Any) -> QAResult:
        """Answer one question; raises `BadQuestion` (bad input) or `StoreUnavailable` (Chroma is down)."""
        return self._answering.invoke(input, config, **kwargs)

    async def ainvoke(self, input: QAInput | str, config: RunnableConfig | None = None, **kwargs: Any) -> QAResult:
        return await self._answering.ainvoke(input, config, **kwargs)

    def stream(
        self, input: QAInput | str, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> Iterator[QAResult]:
        """The finished result as one item: drafts need the model's async stream, so use `astream` for them."""
        yield self.invoke(input, config, **kwargs)

    async def astream(  # type: ignore[override]  # drafts first, then the result
        self, input: QAInput | str, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> AsyncGenerator[QAStreamItem, None]:
        """`Draft`s as an LLM answerer writes (none for the extractive one), then exactly one verified `QAResult`."""
        async for item in self._streaming.astream(input, config, **kwargs):
            yield item

    # --- convenience for front ends ------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        collection: str | None = None,
        k: int | None = None,
        history: Sequence[Turn] | None = None,
        config: RunnableConfig | None = None,
    ) -> Answer:
        """`invoke(...).answer`: just the answer, for callers that need nothing else."""
        inputs: QAInput = {"question": question, "collection": collection, "k": k, "history": history}
        return self.invoke(inputs, config).answer

    def retriever(self, collection: str | None = None, k: int | None = None) -> HybridRetriever:
        """A LangChain retriever over one collection (the one this chain uses), for use in other LangChain chains."""
        return HybridRetriever(
            store=self.store,
            vectors=self.vectors,
            collection=validate_collection(collection or self.settings.collection),
            k=k or self.settings.top_k,
        )

    def retrieve(
        self, query: str, collection: str | None = None, k: int | None = None, config: RunnableConfig | None = None
    ) -> list[RetrievedChunk]:
        """The chunks the chain would answer `query` from (no standalone rewrite, no answer), through the retriever."""
        return [chunk_of(doc) for doc in self.retriever(collection, k).invoke(query, config)]

    def clean_question(self, question: str) -> str:
        """Strip and cap a question; an empty one is a `BadQuestion`."""
        if not isinstance(question, str):
            raise BadQuestion(f"the question must be text, got {type(question).__name__}")
        text = " ".join(question.split())
        if not text:
            raise BadQuestion("the question is empty")
        return text[: self.settings.max_question_chars]

    def standalone(self, question: str, history: Sequence[Turn] | None) -> str:
        """The question with what it leans on from earlier turns."""
        if not history or not is_follow_up(question):
            return question
        rewrite = getattr(self.answerer, "rewrite_question", None)
        if callable(rewrite):
            rewritten = rewrite(question, list(history))
            if isinstance(rewritten, str) and rewritten.strip():
                return rewritten.strip()
        return f"{question} {history[-1].question}"

    # --- the steps -----------------------------------------------------------------------------------------------
    def _prepare_step(self, input: QAInput | str) -> dict[str, Any]:
        """Check and fill in the input; every bad value is a `BadQuestion` that says which."""
        started = time.perf_counter()
        if isinstance(input, str):
            input = {"question": input}
        if not isinstance(input, Mapping) or "question" not in input:
            raise BadQuestion("the chain takes a question, or a dict with at least a 'question' key")
        unknown = set(input) - set(QAInput.__annotations__)
        if unknown:
            raise BadQuestion(f"unknown input keys: {', '.join(sorted(unknown))}")
        k = input.get("k")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise BadQuestion(f"k must be a positive whole number, got {k!r}")
        try:
            collection = validate_collection(input.get("collection") or self.settings.collection)
        except ValueError as exc:
            raise BadQuestion(str(exc)) from exc
        return {
            "question": self.clean_question(input["question"]),
            "collection": collection,
            "k": k or self.settings.top_k,
            "history": [as_turn(item) for item in input.get("history") or ()],
            "started": started,
        }

    def _retrieve_step(self, state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        search = self.standalone(state["question"], state["history"])
        retriever = self.retriever(state["collection"], state["k"])
        documents = retriever.invoke(search, config)  # a child run of this step: callbacks see the documents
        chunks = [chunk_of(doc) for doc in documents]
        # Timed from the chain's start, so `retrieve` + `answer` add up to `total` (nothing falls between them).
        retrieved = time.perf_counter()
        return {**state, "search": search, "chunks": chunks, "retrieved": retrieved}

    def _answer_step(self, state: dict[str, Any]) -> QAResult:
        search: str = state["search"]
        answer = self.answerer.answer(search, state["chunks"], state["history"], self.vectors.get(search))
        return self._result(state, answer)

    async def _astream_answer_step(self, state: dict[str, Any]) -> AsyncIterator[QAStreamItem]:
        """The answer step while streaming: the answerer's drafts as they grow, then the verified result."""
        search: str = state["search"]
        chunks: list[RetrievedChunk] = state["chunks"]
        astream = getattr(self.answerer, "astream_answer", None)
        if not callable(astream):  # an answerer that cannot stream answers in one go
            yield await asyncio.to_thread(self._answer_step, state)  # the thread gets this run's context
            return
        shown = ""
        first_draft_ms: float | None = None
        final: Answer | None = None
        # Closed with this step, so a reader that stops early (a cancelled Discord reply) ends the model's stream too.
        async with contextlib.aclosing(astream(search, chunks, state["history"], self.vectors.get(search))) as items:
            async for item in items:
                if isinstance(item, Answer):
                    final = item
                elif isinstance(item, str) and item != shown:
                    if first_draft_ms is None:
                        first_draft_ms = (time.perf_counter() - state["retrieved"]) * 1000
                    delta = item[len(shown) :] if item.startswith(shown) else item
                    shown = item
                    yield Draft(text=item, delta=delta)
        if final is None:
            raise RuntimeError("the answer stream ended without a verified answer")
        yield self._result(state, final, first_draft_ms)

    def _result(self, state: dict[str, Any], answer: Answer, first_draft_ms: float | None = None) -> QAResult:
        done = time.perf_counter()
        started, retrieved = state["started"], state["retrieved"]
        answer.question = state["question"]
        answer.timings_ms = {"retrieve": (retrieved - started) * 1000, "answer": (done - retrieved) * 1000}
        if first_draft_ms is not None:
            answer.timings_ms["first_draft"] = first_draft_ms
        answer.timings_ms["total"] = (done - started) * 1000
        return QAResult(
            question=state["question"],
            search=state["search"],
            collection=state["collection"],
            k=state["k"],
            answer=answer,
            chunks=state["chunks"],
        )


def make_chain(settings: Settings, store: ArticleStore | None = None, embedder: Embedder | None = None) -> QAChain:
    """Build the chain; pass a shared store and embedder to reuse one model and one Chroma client per process."""
    from retrieval.parsing import use_model

    use_model(settings.spacy_model)
    if embedder is None:
        from retrieval.embeddings import make_embedder

        embedder = make_embedder(settings)
    if store is None:
        store = ArticleStore(settings)
    return QAChain(settings, store, embedder, make_answerer(settings, embedder, store))
