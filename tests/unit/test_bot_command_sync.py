"""The command-tree hash decides whether the bot registers its commands again."""

from __future__ import annotations

from pathlib import Path

import discord
from discord import app_commands

from bot.command_sync import SyncRecord, tree_hash, tree_payload


def _tree(description: str) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(
        discord.Client(intents=discord.Intents.none())
    )

    @tree.command(name="ask", description=description)
    async def ask(interaction: discord.Interaction, question: str) -> None:  # pragma: no cover - never invoked
        del interaction, question

    @tree.command(name="forget", description="Remove an article.")
    @app_commands.default_permissions(manage_guild=True)
    async def forget(interaction: discord.Interaction, article: str) -> None:  # pragma: no cover
        del interaction, article

    return tree


def test_the_hash_follows_the_payload_discord_would_get() -> None:
    one, same, other = _tree("Ask a question."), _tree("Ask a question."), _tree("Ask about the news.")
    assert tree_hash(tree_payload(one, None)) == tree_hash(tree_payload(same, None))
    assert tree_hash(tree_payload(one, None)) != tree_hash(tree_payload(other, None))
    forget = next(c for c in tree_payload(one, None) if c["name"] == "forget")
    assert forget["default_member_permissions"] == 32


def test_the_record_survives_a_broken_file(tmp_path: Path) -> None:
    record = SyncRecord(tmp_path)
    assert record.load() == {}
    record.save("1:global", "abc")
    record.save("1:guild-2", "def")
    assert SyncRecord(tmp_path).load() == {"1:global": "abc", "1:guild-2": "def"}
    record.path.write_text("{not json", encoding="utf-8")
    assert record.load() == {}  # synced again rather than crashing
