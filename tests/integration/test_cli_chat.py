"""`newsdesk chat` with the real model: a follow-up is answered from the earlier turn's context.

(In the unit layer the tiny embedder cannot tell whether "what else did he say?" is answerable: the learned
sentence selector's decline threshold is calibrated on the real model's similarities.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsdesk import cli
from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.paths import SAMPLE

runner = CliRunner()


@pytest.fixture(autouse=True)
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder: object) -> None:
    """Commands build their services from the environment as usual, but reuse the session's loaded model."""
    monkeypatch.setattr(cli, "_services", lambda: Services(Settings(), embedder=embedder))  # type: ignore[arg-type]


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_chat_follow_up(isolated_env: Path) -> None:
    run("ingest", str(SAMPLE))
    code, out, _ = run("chat", input="What did Stoltenberg say about self-defense?\nWhat else did he say?\n\n")
    assert code == 0
    assert out.count("Sources") == 2 and "legitimate military targets" in out
