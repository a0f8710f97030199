"""Running `newsdesk` in-process for tests: the typer app through CliRunner, with the session's loaded model.

`uses_session_model` (a fixture in tests/conftest.py) makes commands build their services from the environment as
usual but reuse the layer's `embedder`, so no test loads a model of its own.
"""

from __future__ import annotations

from typer.testing import CliRunner

from newsdesk import cli

runner = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr
