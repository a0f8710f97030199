"""`newsdesk chat` with the real model: a follow-up is answered from the earlier turn's context.

(In the unit layer the tiny embedder cannot tell whether "what else did he say?" is answerable: the learned
sentence selector's decline threshold is calibrated on the real model's similarities.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run
from tests.paths import SAMPLE

pytestmark = pytest.mark.usefixtures("uses_session_model")


def test_chat_follow_up(isolated_env: Path) -> None:
    run("ingest", str(SAMPLE))
    code, out, _ = run("chat", input="What did Stoltenberg say about self-defense?\nWhat else did he say?\n\n")
    assert code == 0
    assert out.count("Sources") == 2 and "legitimate military targets" in out
