"""The `Settings` a `newsdesk eval` command runs with, shared by every evaluation sub-command."""

from __future__ import annotations

from typing import Any

import typer


def settings_from(ctx: typer.Context) -> Any:
    """The main CLI may put its `Settings` in `ctx.obj` (or an object with a `settings` attribute, such as
    `Services`); otherwise they are read from the environment and `.env` here, at the entry point."""
    from newsdesk.settings import Settings

    obj = ctx.find_root().obj
    if isinstance(obj, Settings):
        return obj
    if isinstance(getattr(obj, "settings", None), Settings):
        return obj.settings
    return Settings()
