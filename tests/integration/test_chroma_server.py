"""Server mode: the same ingest/ask/forget against a real `chroma run` server, and surviving its restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.errors import StoreUnavailable
from tests.paths import SAMPLE
from tests.servers import ChromaServer


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


def test_ingest_ask_forget_through_a_chroma_server(
    chroma_server: ChromaServer, isolated_env: Path, embedder: object
) -> None:
    settings = Settings(data_dir=isolated_env, chroma_host="127.0.0.1", chroma_port=chroma_server.port)
    svc = Services(settings, embedder=embedder)  # type: ignore[arg-type]
    report = svc.ingestor.ingest([str(SAMPLE)], "c1")
    assert report.added == ["zelenskyy-nato-strikes"]
    assert not (isolated_env / "chroma").exists(), "vectors go to the server, not an embedded store"
    assert svc.store.vector_count("c1") == report.chunks

    answer = svc.chain.ask("What did Stoltenberg say about self-defense?", collection="c1")
    assert "legitimate military targets" in answer.answer

    chroma_server.stop()
    with pytest.raises(StoreUnavailable, match="knowledge base unavailable"):
        svc.chain.ask("What did Stoltenberg say about self-defense?", collection="c1")
    failed = svc.ingestor.ingest([str(SAMPLE)], "c2")
    assert failed.failed and "unavailable" in failed.failed[0].reason

    chroma_server.start()  # same path and port: the data is still there, and the client reconnects by itself
    again = svc.chain.ask("What did Stoltenberg say about self-defense?", collection="c1")
    assert "legitimate military targets" in again.answer

    assert svc.store.forget("c1", "zelenskyy-nato-strikes")
    assert svc.store.vector_count("c1") == 0
    svc.close()
