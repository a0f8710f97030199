"""API keys never reach logs or the user, even when the LLM server rejects them or fails."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.answerers import make_answerer
from retrieval.chain import QAChain
from retrieval.llm.answerer import LLMAnswerer
from tests.fake_openai import FakeOpenAI, Reply
from tests.paths import SAMPLE

SECRET = "sk-test-DO-NOT-LOG-4f9a8b7c6d5e"


@pytest.mark.parametrize("status", [401, 500])
def test_api_key_is_not_logged_or_shown(
    status: int, isolated_env: Path, embedder: object, caplog: pytest.LogCaptureFixture
) -> None:
    svc = Services(Settings(data_dir=isolated_env), embedder=embedder)  # type: ignore[arg-type]
    svc.ingestor.ingest([str(SAMPLE)], "default")
    with FakeOpenAI() as fake:
        # the error body echoes the key, as real providers' "Incorrect API key provided: ..." messages do
        fake.script(*[Reply(status=status, raw=f'{{"error": {{"message": "bad key {SECRET}"}}}}'.encode())] * 3)
        settings = svc.settings.model_copy(
            update={"llm_provider": "openai", "llm_base_url": fake.base_url, "openai_api_key": SecretStr(SECRET)}
        )
        answerer = make_answerer(settings, svc.embedder, svc.store)
        assert isinstance(answerer, LLMAnswerer)
        answerer.backoff_s = 0.01
        with caplog.at_level(logging.DEBUG):
            answer = QAChain(settings, svc.store, svc.embedder, answerer).ask(
                "What did Stoltenberg say about self-defense?"
            )
        assert fake.requests, "the model server was really called"
    assert answer.verification is not None and answer.verification["fallback"] is True
    assert SECRET not in (answer.note or "") and SECRET not in repr(answer.to_dict())
    assert SECRET not in caplog.text
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    svc.close()
