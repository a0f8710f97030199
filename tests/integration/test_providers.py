"""The Anthropic and Ollama providers, through the whole chain, against fake servers speaking their wire protocols.

`LLM_PROVIDER=anthropic` and `LLM_PROVIDER=ollama` build the real `langchain-anthropic` and `langchain-ollama`
clients from settings; tests/fake_anthropic.py (`POST /v1/messages`) and tests/fake_ollama.py (`POST /api/chat`)
play the model over real sockets on 127.0.0.1. Each provider answers, streams drafts through `QAChain.astream`,
retries a 429, falls back to the extractive answer on 401 and on repeated 5xx, and shows its chat-model calls to a
callback handler nested under the chain's run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from pydantic import SecretStr

from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.answer import Draft, QAResult
from retrieval.answerers import make_answerer
from retrieval.chain import QAChain
from retrieval.llm.answerer import LLMAnswerer
from tests.fake_anthropic import API_KEY, FakeAnthropic
from tests.fake_ollama import FakeOllama
from tests.fake_openai import FakeOpenAI, Reply
from tests.paths import SAMPLE

SELF_DEFENSE = "What did Stoltenberg say about self-defense?"
GOOD = "Stoltenberg said the right to self defense includes the right to strike legitimate military targets in Russia"
FAKES = {"anthropic": FakeAnthropic, "ollama": FakeOllama}


@pytest.fixture(scope="module", params=sorted(FAKES))
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def fake(provider: str) -> Iterator[FakeOpenAI]:
    with FAKES[provider]() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_script(fake: FakeOpenAI) -> None:
    fake.reset()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Iterator[Services]:
    svc = Services(Settings(data_dir=tmp_path_factory.mktemp("providers") / "data"), embedder=embedder)  # type: ignore[arg-type]
    assert svc.ingestor.ingest([str(SAMPLE)], "default").ok
    yield svc
    svc.close()


def chain_for(base: Services, provider: str, fake: FakeOpenAI, **overrides: Any) -> QAChain:
    """The chain `LLM_PROVIDER=<provider>` with `LLM_BASE_URL` at the fake server builds, with a shorter backoff."""
    update: dict[str, Any] = {"llm_provider": provider, "llm_base_url": fake.base_url, "llm_timeout_s": 5.0}
    if provider == "anthropic":
        update["anthropic_api_key"] = SecretStr(API_KEY)
    settings = base.settings.model_copy(update={**update, **overrides})
    answerer = make_answerer(settings, base.embedder, base.store)
    assert isinstance(answerer, LLMAnswerer)
    answerer.backoff_s = 0.05  # the retry schedule is the real one, only shorter
    return QAChain(settings, base.store, base.embedder, answerer)


def prompt_text(body: dict[str, Any]) -> str:
    """The last user message's text, whether the client sent a string or content blocks."""
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        return "".join(block.get("text", "") for block in content)
    return str(content)


def system_text(provider: str, body: dict[str, Any]) -> str:
    if provider == "anthropic":  # Anthropic takes the system prompt as its own field
        system = body["system"]
        return system if isinstance(system, str) else "".join(b.get("text", "") for b in system)
    first = body["messages"][0]
    assert first["role"] == "system"
    return str(first["content"])


def good_reply(body: dict[str, Any]) -> Reply:
    """The supported sentence, citing the passage the prompt numbered for it."""
    for match in re.finditer(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', prompt_text(body), re.S):
        if "legitimate military targets" in match.group(2):
            return Reply(text=f"{GOOD} [{match.group(1)}].", chunk_delay=0.005)
    raise AssertionError("no passage holds the supported sentence")


class ModelEvents(BaseCallbackHandler):
    """Chat-model and retriever events with their run ids, and every chain run's parent."""

    def __init__(self) -> None:
        self.parents: dict[UUID, UUID | None] = {}
        self.names: dict[UUID, str | None] = {}
        self.chat_starts: list[UUID] = []
        self.llm_ends: list[Any] = []
        self.tokens: list[str] = []
        self.retrieved: list[Any] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                       **kw: Any) -> None:  # fmt: skip
        self.parents[run_id], self.names[run_id] = parent_run_id, kw.get("name")

    def on_retriever_start(self, serialized: Any, query: str, *, run_id: UUID, parent_run_id: UUID | None = None,
                           **kw: Any) -> None:  # fmt: skip
        self.parents[run_id] = parent_run_id

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kw: Any) -> None:
        self.retrieved.append(list(documents))

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                            **kw: Any) -> None:  # fmt: skip
        self.parents[run_id] = parent_run_id
        self.chat_starts.append(run_id)

    def on_llm_new_token(self, token: str, **kw: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: Any, **kw: Any) -> None:
        self.llm_ends.append(response)

    def top_name(self, run_id: UUID) -> str | None:
        while (parent := self.parents.get(run_id)) is not None:
            run_id = parent
        return self.names.get(run_id)


def test_an_answer_is_verified_and_the_model_was_sent_the_prompt(
    base: Services, provider: str, fake: FakeOpenAI
) -> None:
    fake.respond_with(good_reply)
    events = ModelEvents()
    result = chain_for(base, provider, fake).invoke(SELF_DEFENSE, {"callbacks": [events]})
    answer = result.answer
    assert answer.answer == GOOD + " [1]."
    assert answer.verification is not None and answer.verification["fallback"] is False and answer.note is None
    assert "legitimate military targets" in answer.citations[0].quote
    assert answer.citations[0].chunk_id in {c.chunk_id for c in result.chunks}
    (body,) = fake.requests
    assert "not instructions" in system_text(provider, body)
    assert f"Question: {SELF_DEFENSE}" in prompt_text(body)
    max_tokens = body["max_tokens"] if provider == "anthropic" else body["options"]["num_predict"]
    assert max_tokens == base.settings.llm_max_tokens
    assert body["model"] == {"anthropic": "claude-haiku-4-5", "ollama": "llama3.2"}[provider]
    # The callback handler saw the chat model's call, inside the chain's run, next to the retrieval.
    (chat_run,) = events.chat_starts
    assert events.top_name(chat_run) == "QAChain" and len(events.llm_ends) == 1
    (documents,) = events.retrieved
    assert [d.page_content for d in documents] == [c.text for c in result.chunks]


@pytest.mark.asyncio
async def test_astream_yields_the_models_tokens_as_drafts_then_the_verified_answer(
    base: Services, provider: str, fake: FakeOpenAI
) -> None:
    def answer_then_invent(body: dict[str, Any]) -> Reply:
        good = good_reply(body)
        return Reply(text=good.text + " NATO will send 90 jets [1].", chunk_delay=0.005)

    fake.respond_with(answer_then_invent)
    events = ModelEvents()
    items = [item async for item in chain_for(base, provider, fake).astream(SELF_DEFENSE, {"callbacks": [events]})]
    drafts, final = items[:-1], items[-1]
    assert len(drafts) > 10 and all(isinstance(d, Draft) for d in drafts)
    assert "".join(d.delta for d in drafts) == drafts[-1].text  # type: ignore[union-attr]
    assert drafts[-1].text.endswith("90 jets [1].")  # type: ignore[union-attr]
    # The verified answer replaces the draft: the invented sentence is gone.
    assert isinstance(final, QAResult) and final.answer.answer == GOOD + " [1]."
    assert final.answer.verification is not None and final.answer.verification["sentences_dropped"] == 1
    assert set(final.timings_ms) >= {"retrieve", "first_draft", "answer", "total"}
    assert fake.requests[0].get("stream", True) is True
    assert events.tokens and events.top_name(events.chat_starts[0]) == "QAChain"


def test_a_rate_limit_is_retried(base: Services, provider: str, fake: FakeOpenAI) -> None:
    fake.script(Reply(status=429))
    fake.respond_with(good_reply)
    answer = chain_for(base, provider, fake).invoke(SELF_DEFENSE).answer
    assert answer.answer == GOOD + " [1]."
    assert answer.verification is not None and answer.verification["fallback"] is False
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "reason", "note"), [(500, "server_error", "HTTP 500"), (503, "server_error", "HTTP 503")]
)
def test_repeated_server_errors_fall_back_to_the_extractive_answer(
    base: Services, provider: str, fake: FakeOpenAI, status: int, reason: str, note: str
) -> None:
    fake.script(*[Reply(status=status)] * 3)
    fake.respond_with(good_reply)  # would be a good answer, but three attempts are the limit
    answer = chain_for(base, provider, fake).invoke(SELF_DEFENSE).answer
    assert answer.answer == base.chain.invoke(SELF_DEFENSE).answer.answer and answer.citations
    assert answer.verification is not None and answer.verification["reason"] == reason
    assert answer.note is not None and note in answer.note and answer.note.endswith("this is the extractive answer.")
    assert len(fake.requests) == 3


def test_a_rejected_key_falls_back_at_once(base: Services, provider: str, fake: FakeOpenAI) -> None:
    if provider == "anthropic":
        chain = chain_for(base, provider, fake, anthropic_api_key=SecretStr("sk-ant-wrong"))
    else:  # Ollama has no key of its own; behind an authenticating proxy a 401 looks like this
        fake.script(Reply(status=401))
        chain = chain_for(base, provider, fake)
    fake.respond_with(good_reply)
    answer = chain.invoke(SELF_DEFENSE).answer
    assert answer.verification is not None and answer.verification["reason"] == "auth"
    assert answer.note == "The language model rejected the API key; this is the extractive answer."
    assert answer.answer == base.chain.invoke(SELF_DEFENSE).answer.answer
    # Not retried (the fake Anthropic refuses a wrong key before it records the request).
    assert len(fake.requests) == (0 if provider == "anthropic" else 1)
    assert "sk-ant-wrong" not in (answer.note or "")
