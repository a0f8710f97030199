"""Logging for the bot: readable lines on stderr, and secrets (the Discord token, API keys) never written out.

A token in a log file is a leaked token: anyone who can read the logs can run the bot. discord.py is careful, but a
traceback, a debug line or our own `repr(settings)` could still carry it, so every handler gets `RedactSecrets`,
which rewrites the final message and any formatted traceback before a handler writes them.
"""

from __future__ import annotations

import logging

from newsdesk.redaction import REDACTED, RedactSecrets, install_redaction, settings_secrets
from newsdesk.settings import Settings

__all__ = ["REDACTED", "RedactSecrets", "install_redaction", "settings_secrets", "setup_logging"]


def setup_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Root logging for `newsdesk bot`, at `level` at least, with secrets redacted from every handler.

    When the CLI already configured logging, its handlers are kept (no duplicate lines); otherwise discord.py's
    stderr format is used.
    """
    import discord

    root = logging.getLogger()
    if root.handlers:
        root.setLevel(min(root.level, level) if root.level else level)
    else:
        discord.utils.setup_logging(level=level, root=True)
    install_redaction(settings_secrets(settings))
