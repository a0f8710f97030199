"""`QAChain` as a LangChain `Runnable`: its inputs, its typed result, and the runs a callback handler sees.

A real embedded Chroma and catalogue with the sample article (and a short harbour story that has a web address);
the extractive answerer, so no model. The LLM side (chat-model events, drafts) is tested in
tests/integration/test_providers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from ingest.models import RawArticle
from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.answer import Draft, QAResult, Turn
from retrieval.errors import BadQuestion
from tests.paths import SAMPLE

SELF_DEFENSE = "What did Stoltenberg say about self-defense?"
HARBOUR_URL = "https://news.example.org/2024/harbour-wall"
HARBOUR = (
    "The town council approved a new harbour wall on Monday after storms damaged the old one in March. "
    "The wall will cost 3 million pounds and should be finished within two years, the harbour master said. "
    "Fishing crews welcomed the decision but asked for a temporary breakwater before the winter storms."
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Iterator[Services]:
    svc = Services(Settings(data_dir=tmp_path_factory.mktemp("chain") / "data"), embedder=embedder)  # type: ignore[arg-type]
    assert svc.ingestor.ingest([str(SAMPLE)], "default").ok
    harbour = RawArticle("harbour-wall", HARBOUR, HARBOUR_URL, title="Council approves harbour wall", url=HARBOUR_URL)
    assert svc.ingestor.ingest_raw([harbour], "harbour").ok
    yield svc
    svc.close()


class Recorder(BaseCallbackHandler):
    """Every chain, retriever and chat-model event, with its run id and parent."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, UUID, UUID | None, Any]] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                       **kw: Any) -> None:  # fmt: skip
        self.events.append(("chain_start", kw.get("name"), run_id, parent_run_id, inputs))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kw: Any) -> None:
        self.events.append(("chain_end", None, run_id, parent_run_id, outputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, parent_run_id: UUID | None = None,
                       **kw: Any) -> None:  # fmt: skip
        self.events.append(("chain_error", None, run_id, parent_run_id, error))

    def on_retriever_start(self, serialized: Any, query: str, *, run_id: UUID, parent_run_id: UUID | None = None,
                           **kw: Any) -> None:  # fmt: skip
        self.events.append(("retriever_start", kw.get("name"), run_id, parent_run_id, query))

    def on_retriever_end(self, documents: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kw: Any) -> None:
        self.events.append(("retriever_end", None, run_id, parent_run_id, list(documents)))

    def of(self, kind: str) -> list[tuple[str, str | None, UUID, UUID | None, Any]]:
        return [e for e in self.events if e[0] == kind]

    def ancestors(self, run_id: UUID) -> list[UUID]:
        parents = {e[2]: e[3] for e in self.events if e[0].endswith("_start")}
        out: list[UUID] = []
        while (parent := parents.get(run_id)) is not None:
            out.append(parent)
            run_id = parent
        return out


def test_a_plain_string_is_a_question_and_the_result_carries_chunks_and_timings(loaded: Services) -> None:
    result = loaded.chain.invoke("  What did Stoltenberg   say about self-defense? ")
    assert isinstance(result, QAResult)
    assert result.question == SELF_DEFENSE == result.answer.question
    assert result.collection == "default" and result.k == loaded.settings.top_k
    assert not result.answer.abstained and result.answer.citations
    # The chunks are the passages the answer was built from: every citation quotes one of them.
    assert 1 <= len(result.chunks) <= result.k
    by_id = {c.chunk_id: c for c in result.chunks}
    for citation in result.answer.citations:
        assert citation.quote in by_id[citation.chunk_id].text
    assert set(result.timings_ms) >= {"retrieve", "answer", "total"}
    timings = result.timings_ms
    assert timings["retrieve"] > 0 and timings["answer"] > 0
    assert timings["total"] == pytest.approx(timings["retrieve"] + timings["answer"])  # nothing falls between
    assert result.to_dict() == result.answer.to_dict()
    assert loaded.chain.ask(SELF_DEFENSE).answer == result.answer.answer


def test_a_dict_sets_collection_k_and_history_with_defaults_for_the_rest(loaded: Services) -> None:
    two = loaded.chain.invoke({"question": "How much will the harbour wall cost?", "collection": "harbour", "k": 1})
    assert two.collection == "harbour" and len(two.chunks) == 1
    assert {c.article_id for c in two.answer.citations} == {"harbour-wall"}
    assert two.urls == {"harbour-wall": HARBOUR_URL}  # front ends need no second look-up in the store
    assert loaded.chain.invoke({"question": SELF_DEFENSE}).urls == {"zelenskyy-nato-strikes": None}

    first = loaded.chain.invoke({"question": SELF_DEFENSE, "k": None, "collection": None, "history": None})
    earlier = {"question": SELF_DEFENSE, "answer": first.answer.answer}
    for history in ([earlier], [(SELF_DEFENSE, first.answer.answer)], [Turn(SELF_DEFENSE, first.answer.answer)]):
        follow = loaded.chain.invoke({"question": "What else did he say?", "history": history})
        assert follow.question == "What else did he say?"
        assert "Stoltenberg" in follow.search  # the follow-up was searched with what it leans on
        assert follow.chunks and follow.chunks[0].article_id == "zelenskyy-nato-strikes"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({}, "'question'"),
        ({"question": "   "}, "empty"),
        ({"question": 42}, "must be text"),
        ({"question": "Who?", "k": 0}, "k must be"),
        ({"question": "Who?", "k": "3"}, "k must be"),
        ({"question": "Who?", "collection": "../etc"}, "invalid collection"),
        ({"question": "Who?", "top_k": 3}, "unknown input keys: top_k"),
        ({"question": "Who?", "history": ["just a string"]}, "history entry"),
        (["Who?"], "'question'"),
    ],
)
def test_bad_input_is_a_clear_bad_question(loaded: Services, bad: Any, says: str) -> None:
    with pytest.raises(BadQuestion, match=says):
        loaded.chain.invoke(bad)


def test_callbacks_see_the_chain_and_the_retriever_with_its_documents(loaded: Services) -> None:
    recorder = Recorder()
    result = loaded.chain.invoke({"question": SELF_DEFENSE, "k": 3}, {"callbacks": [recorder], "tags": ["t1"]})
    (top,) = [e for e in recorder.of("chain_start") if e[3] is None]
    assert top[1] == "QAChain" and top[4] == {"question": SELF_DEFENSE, "k": 3}
    (start,) = recorder.of("retriever_start")
    (end,) = recorder.of("retriever_end")
    assert start[1] == "HybridRetriever" and start[4] == SELF_DEFENSE
    assert top[2] in recorder.ancestors(start[2])  # the retrieval is part of this chain run
    documents = end[4]
    assert all(isinstance(d, Document) for d in documents)
    assert [d.page_content for d in documents] == [c.text for c in result.chunks]
    assert documents[0].metadata["article_id"] == "zelenskyy-nato-strikes" and documents[0].metadata["title"]
    (finished,) = [e for e in recorder.of("chain_end") if e[2] == top[2]]
    assert finished[4] is result


def test_a_failing_question_reports_the_error_to_callbacks(loaded: Services) -> None:
    recorder = Recorder()
    with pytest.raises(BadQuestion):
        loaded.chain.invoke("", {"callbacks": [recorder]})
    assert recorder.of("chain_error") and not recorder.of("retriever_start")


def test_the_chain_composes_batches_and_streams_like_any_runnable(loaded: Services) -> None:
    texts = (loaded.chain | RunnableLambda(lambda r: r.answer.answer)).batch(
        [SELF_DEFENSE, {"question": "When will the harbour wall be finished?", "collection": "harbour"}]
    )
    assert "[1]" in texts[0] and "two years" in texts[1]
    (only,) = list(loaded.chain.stream(SELF_DEFENSE))
    assert isinstance(only, QAResult) and only.answer.answer == texts[0]
    # Its schemas say what it takes and gives (what LangServe, agents and tools read).
    schema = loaded.chain.get_input_jsonschema()
    assert schema["$defs"]["QAInput"]["required"] == ["question"] and {"type": "string"} in schema["anyOf"]
    assert {"answer", "chunks", "search"} <= set(loaded.chain.get_output_jsonschema()["properties"])


@pytest.mark.asyncio
async def test_astream_without_an_llm_yields_the_answer_alone(loaded: Services) -> None:
    items = [item async for item in loaded.chain.astream({"question": SELF_DEFENSE, "k": 2})]
    assert not any(isinstance(i, Draft) for i in items)
    (result,) = items
    assert isinstance(result, QAResult) and len(result.chunks) == 2 and result.answer.citations
    again = await loaded.chain.ainvoke(SELF_DEFENSE)
    assert again.answer.answer == loaded.chain.invoke(SELF_DEFENSE).answer.answer


def test_the_retriever_honours_k_at_call_time(loaded: Services) -> None:
    retriever = loaded.chain.retriever(k=4)
    assert len(retriever.invoke("legitimate military targets")) == 4
    assert len(retriever.invoke("legitimate military targets", k=2)) == 2
    assert len(loaded.chain.retriever(collection="harbour").invoke("harbour wall cost", k=1)) == 1
    with pytest.raises(ValueError, match="k must be"):
        retriever.invoke("legitimate military targets", k=0)
