"""LangChain's standard retriever tests (langchain-tests) for `HybridRetriever`, 5 of 5, inside the test suite.

The retriever runs over a real store (embedded Chroma and the SQLite catalogue) holding the sample article, with
the unit layer's tiny embedder; `k` is honoured both on the constructor and per call (`invoke(q, k=2)`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.retriever import HybridRetriever
from tests.paths import SAMPLE


@pytest.fixture(scope="module")
def sample_services(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Iterator[Services]:
    svc = Services(Settings(data_dir=tmp_path_factory.mktemp("retriever") / "data"), embedder=embedder)  # type: ignore[arg-type]
    report = svc.ingestor.ingest([str(SAMPLE)], "default")
    assert report.ok and report.chunks >= 4  # enough chunks for the tests' k=3
    yield svc
    svc.close()


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _store(self, sample_services: Services) -> None:
        self.services = sample_services

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        chain = self.services.chain
        return {"store": chain.store, "vectors": chain.vectors, "collection": "default"}

    @property
    def retriever_query_example(self) -> str:
        return "What did Stoltenberg say about strikes on legitimate military targets in Russia?"


# pytest-asyncio runs in strict mode here: mark LangChain's one async standard test (not a copy of it, which the
# standard tests' own check would count as an override).
pytest.mark.asyncio(RetrieversIntegrationTests.test_ainvoke_returns_documents)
