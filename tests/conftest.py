"""Fixtures every layer shares: an isolated environment and data dir per test, settings and services built on it.

Like simonw/llm's conftest, an autouse fixture points NEWSDESK_DATA_DIR at a temporary folder and runs every test
from an empty working directory, so no test reads a developer's `.env` or touches real data. The model cache
(NEWSDESK_MODEL_CACHE) is one folder per run, shared by every test and every child process, so the int8 ONNX model
is built at most once per run.

Which `embedder` the `services` fixture gets depends on the layer: tests/unit/conftest.py provides a tiny
deterministic one (no model), tests/integration/conftest.py the real bundled model.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.paths import ROOT, SAMPLE, SAMPLE_DIR

__all__ = ["ROOT", "SAMPLE", "SAMPLE_DIR"]  # kept importable from here for older test modules

_ENV_PREFIXES = ("NEWSDESK_", "CHROMA_", "LLM_", "DISCORD_", "OPENAI_", "ANTHROPIC_")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache per run: the first test that needs the int8 model builds it, the rest reuse it."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> Path:
    for key in list(os.environ):
        if key.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(data))
    monkeypatch.setenv("NEWSDESK_MODEL_CACHE", str(model_cache))
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return data


@pytest.fixture
def settings(isolated_env: Path) -> Settings:
    return Settings(data_dir=isolated_env)


@pytest.fixture
def services(settings: Settings, embedder: object) -> Iterator[Services]:
    svc = Services(settings, embedder=embedder)  # type: ignore[arg-type]
    yield svc
    svc.close()


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """The sample article copied to a writable place (tests edit it)."""
    target = tmp_path / "articles" / SAMPLE.name
    target.parent.mkdir(parents=True)
    shutil.copy(SAMPLE, target)
    return target


@pytest.fixture
def uses_session_model(monkeypatch: pytest.MonkeyPatch, embedder: object) -> None:
    """CLI commands build their services from the environment as usual, but reuse the session's loaded model."""
    from newsdesk import cli

    monkeypatch.setattr(cli, "_services", lambda: Services(Settings(), embedder=embedder))  # type: ignore[arg-type]
