"""`newsdesk bot` start-up: configuration errors exit with code 2 and a clear message; endpoints; sharding."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import SecretStr

from bot.app import DISCORD_API_BASE, ShardedNewsdeskBot, configure_endpoints, make_bot, shard_option
from bot.runner import EXIT_CONFIG_ERROR, run_bot
from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.fake_discord import FakeDiscord, FakeInThread, running


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`run_bot` configures root logging like the real command does; undo it for the next tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def fake_in_thread() -> Iterator[FakeDiscord]:
    """A fake Discord on its own event loop in a thread, for code (like `run_bot`) that runs its own loop."""
    threaded = FakeInThread(FakeDiscord())
    yield threaded.start()
    threaded.stop()


def test_missing_token_is_a_clear_error_with_exit_code_2(
    settings: Settings, restore_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        assert run_bot(settings) == EXIT_CONFIG_ERROR == 2
    assert "DISCORD_TOKEN is not set" in caplog.text and "Developer Portal" in caplog.text


def test_blank_token_counts_as_missing(settings: Settings, restore_logging: None) -> None:
    assert run_bot(settings.model_copy(update={"discord_token": SecretStr("   ")})) == 2


def test_rejected_token_exits_with_code_2_and_never_logs_it(
    isolated_env: Path, fake_in_thread: FakeDiscord, restore_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-token-" + "x" * 40
    settings = Settings(
        data_dir=isolated_env,
        discord_token=SecretStr(wrong),
        discord_api_base=fake_in_thread.api_base,
        discord_gateway_url=fake_in_thread.gateway_url,
    )
    with caplog.at_level(logging.DEBUG):
        assert run_bot(settings) == 2
    assert "Discord rejected the token" in caplog.text
    assert wrong not in caplog.text
    assert fake_in_thread.calls[0].path == "/users/@me"  # it really asked the configured API


def test_bad_shard_setting_exits_with_code_2(settings: Settings, restore_logging: None) -> None:
    bad = settings.model_copy(update={"discord_token": SecretStr("t" * 30), "discord_shards": "lots"})
    assert run_bot(bad) == 2
    assert shard_option(settings.model_copy(update={"discord_shards": "auto"})) == "auto"
    assert shard_option(settings.model_copy(update={"discord_shards": "4"})) == 4
    assert shard_option(settings) is None


def test_endpoints_come_from_settings_and_fall_back_to_discord(settings: Settings) -> None:
    configure_endpoints(settings.model_copy(update={"discord_api_base": "http://proxy.internal:8080"}))
    assert discord.http.Route.BASE == "http://proxy.internal:8080/api/v10"
    configure_endpoints(settings.model_copy(update={"discord_gateway_url": "ws://gw.internal:7878/"}))
    assert discord.http.Route.BASE == DISCORD_API_BASE
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://gw.internal:7878/"
    configure_endpoints(settings)
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


def test_make_bot_creates_nothing_global(settings: Settings, embedder: Any) -> None:
    services = Services(settings, embedder=embedder)
    one, two = make_bot(settings, services), make_bot(settings, services)
    assert one is not two and one.tree is not two.tree
    assert one.allowed_mentions is not None and one.allowed_mentions.to_dict() == {"parse": []}
    asyncio.run(one.close())
    asyncio.run(two.close())


@pytest.mark.asyncio
async def test_auto_sharded_bot_connects_and_answers(settings: Settings, embedder: Any) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Sharded")
        user = fake.make_user("carol")
        fake.add_member(guild, user)
        configured = settings.model_copy(
            update={
                "discord_api_base": fake.api_base,
                "discord_gateway_url": fake.gateway_url,
                "discord_shards": "auto",
                "discord_guild_ids": [guild.id],
            }
        )
        services = Services(configured, embedder=embedder)
        bot = make_bot(configured, services, guild_ready_timeout=0.05)
        assert isinstance(bot, ShardedNewsdeskBot)
        async with running(bot, fake):
            assert fake.find_calls("GET", r"/gateway/bot")  # asked Discord how many shards to run
            assert fake.identify_payloads[0]["shard"] == [0, 1]
            channel = int(guild.channel("general")["id"])
            interaction = await fake.invoke_command(
                "ask", {"question": "What is new?"}, user=user, channel_id=channel, guild=guild
            )
            await fake.wait_response(interaction, timeout=60)
            assert interaction.ephemeral_callback and "No articles have been added" in interaction.content  # empty
        services.close()


def test_message_content_intent_switched_off_in_the_portal_exits_with_code_2(
    isolated_env: Path, fake_in_thread: FakeDiscord, restore_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    fake_in_thread.message_content_enabled = False
    settings = Settings(
        data_dir=isolated_env,
        discord_token=SecretStr(fake_in_thread.token),
        discord_api_base=fake_in_thread.api_base,
        discord_gateway_url=fake_in_thread.gateway_url,
        discord_guild_ids=[1],
    )
    fake_in_thread.add_guild("One", 1)
    with caplog.at_level(logging.ERROR):
        assert run_bot(settings) == 2
    assert "Message Content intent is not enabled" in caplog.text


def test_newsdesk_bot_command_without_token_exits_2(restore_logging: None, caplog: pytest.LogCaptureFixture) -> None:
    from typer.testing import CliRunner

    from newsdesk.cli import app

    result = CliRunner().invoke(app, ["bot"])
    assert result.exit_code == 2
    assert "DISCORD_TOKEN is not set" in caplog.text
