"""Unit layer: no model and no servers. `embedder` is the tiny deterministic one, built once per session."""

from __future__ import annotations

import pytest

from tests.tiny_embedder import TinyEmbedder


@pytest.fixture(scope="session")
def embedder() -> TinyEmbedder:
    return TinyEmbedder()
