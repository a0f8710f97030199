"""Secrets never reach the logs: messages, arguments, tracebacks, discord.py's own loggers."""

from __future__ import annotations

import io
import logging

from pydantic import SecretStr

from bot.logs import REDACTED, RedactSecrets, install_redaction, settings_secrets
from newsdesk.settings import Settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.very-secret-token-value_0123456789"


def _capture(secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("redaction-test")
    root.handlers = [handler]
    root.propagate = False
    root.setLevel(logging.DEBUG)
    install_redaction(secrets, root)
    return root, stream


def test_token_is_redacted_everywhere() -> None:
    logger, stream = _capture([TOKEN])
    logger.info("connecting with token %s", TOKEN)
    logger.info(f"headers {{'Authorization': 'Bot {TOKEN}'}}")
    logger.getChild("discord.http").debug("payload %r", {"token": TOKEN, "op": 2})
    try:
        raise RuntimeError(f"login failed for {TOKEN}")
    except RuntimeError:
        logger.exception("error abc123 while answering")
    logger.warning("an ordinary line stays as it is: %d questions", 3)
    out = stream.getvalue()
    assert TOKEN not in out
    assert out.count(REDACTED) >= 4
    assert "RuntimeError: login failed for [REDACTED]" in out
    assert "an ordinary line stays as it is: 3 questions" in out


def test_settings_secrets_and_short_values() -> None:
    settings = Settings(
        data_dir="/tmp/unused",
        discord_token=SecretStr(TOKEN),
        openai_api_key=SecretStr("sk-test-0123456789abcdef"),
    )
    assert set(settings_secrets(settings)) == {TOKEN, "sk-test-0123456789abcdef"}
    assert RedactSecrets(["abc", ""]).secrets == []  # too short to redact safely


def test_settings_repr_does_not_show_the_token() -> None:
    settings = Settings(data_dir="/tmp/unused", discord_token=SecretStr(TOKEN))
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())
