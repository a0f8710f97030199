"""Secrets (the Discord token, API keys) are never written to logs.

A key in a log file is a leaked key. Libraries are careful, but a traceback, a debug line or an error body that
echoes the key could still carry it, so `RedactSecrets` rewrites each record's message and formatted traceback
before a handler writes it. The CLI and the bot install it on every root handler; the LLM answerer also puts it on
its own logger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from newsdesk.settings import Settings

REDACTED = "[REDACTED]"


class RedactSecrets(logging.Filter):
    """Replace each secret string in a record's message, arguments and traceback with `[REDACTED]`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole; very short strings are ignored
        # because redacting them would mangle ordinary words.
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        merged = set(self.secrets) | {s for s in secrets if s and len(s) >= 8}
        self.secrets = sorted(merged, key=len, reverse=True)

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold."""
    values = [settings.discord_token, settings.openai_api_key, settings.anthropic_api_key]
    return [v.get_secret_value() for v in values if v is not None]


def install_redaction(secrets: Iterable[str], logger: logging.Logger | None = None) -> None:
    """Make every handler of `logger` (default: the root logger) redact `secrets`, adding to what it already hides."""
    logger = logger or logging.getLogger()
    secrets = list(secrets)
    for handler in logger.handlers:
        existing = next((f for f in handler.filters if isinstance(f, RedactSecrets)), None)
        if existing is not None:
            existing.add(secrets)
        else:
            handler.addFilter(RedactSecrets(secrets))
