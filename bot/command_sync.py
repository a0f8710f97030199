"""Register slash commands with Discord only when they changed (or when asked to with `newsdesk bot --sync`).

Discord keeps an application's commands between runs, and rate-limits command registration; a global sync can take
a while to reach every server. So each start compares a hash of the command tree (exactly the payload a sync would
send) with the hash stored, per application and scope (global or one server), in
`$NEWSDESK_DATA_DIR/discord-commands.json`, and syncs only the scopes whose hash differs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from discord import app_commands

log = logging.getLogger(__name__)

RECORD_NAME = "discord-commands.json"


def tree_payload(tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
    """What `tree.sync(guild=guild)` sends, in a stable order."""
    commands = tree.get_commands(guild=guild)
    return sorted((command.to_dict(tree) for command in commands), key=lambda c: (c.get("type", 1), c["name"]))


def tree_hash(payload: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class SyncRecord:
    """The hashes of the command trees last synced, by `<application id>:<scope>`, in a small JSON file."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / RECORD_NAME

    def load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("ignoring unreadable %s; commands will be synced again", self.path)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def save(self, key: str, digest: str) -> None:
        """Record one scope (written to a temporary file, then renamed, so a crash never leaves half a file)."""
        data = self.load()
        data[key] = digest
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


async def sync_if_changed(
    tree: app_commands.CommandTree[Any],
    application_id: int,
    guild_ids: list[int],
    record: SyncRecord,
    *,
    force: bool = False,
) -> list[str]:
    """Sync to each of `guild_ids` (commands appear there at once) or, with none, globally; only the scopes whose
    command tree changed since the last sync, or all with `force`. Returns the scopes synced."""
    scopes: list[tuple[str, discord.Object | None]] = []
    if guild_ids:
        for guild_id in guild_ids:
            target = discord.Object(id=guild_id)
            tree.copy_global_to(guild=target)
            scopes.append((f"guild-{guild_id}", target))
    else:
        scopes.append(("global", None))
    known = record.load()
    synced: list[str] = []
    for scope, guild in scopes:
        key = f"{application_id}:{scope}"
        digest = tree_hash(tree_payload(tree, guild))
        if not force and known.get(key) == digest:
            log.info(
                "commands for %s unchanged since the last sync; not syncing (newsdesk bot --sync forces it)", scope
            )
            continue
        commands = await tree.sync(guild=guild)
        record.save(key, digest)
        synced.append(scope)
        log.info("synced %d commands to %s", len(commands), scope)
    return synced
