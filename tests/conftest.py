"""Shared fixtures: one embedding model per test session, a fresh data dir (and settings) per test.

Like simonw/llm's conftest, an autouse fixture points NEWSDESK_DATA_DIR at a temporary folder and runs every test
from an empty working directory, so no test reads a developer's `.env` or touches real data.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsdesk.services import Services
from newsdesk.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "examples" / "articles"
SAMPLE = SAMPLE_DIR / "zelenskyy-nato-strikes.txt"

_ENV_PREFIXES = ("NEWSDESK_", "CHROMA_", "LLM_", "DISCORD_", "OPENAI_", "ANTHROPIC_")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(data))
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return data


@pytest.fixture(scope="session")
def embedder() -> object:
    """The real bundled model, loaded once per session (the slow part of every test that needs it)."""
    from retrieval.embeddings import make_embedder

    return make_embedder(Settings(data_dir=Path("/nonexistent-unused")))


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
