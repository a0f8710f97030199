"""What a server admin and its members meet from the bot's first second: start-up, empty servers, admin commands
that wait for the store, the optional public ingest notice, and running without the message content intent.

The real bot (unmodified discord.py client, real model and store) against the fake Discord, which enforces
Discord's 3-second deadline on every interaction (`check_everything_sent` fails a test with any interaction left
unanswered) and drops the text of un-mentioning server messages when the bot did not ask for message content.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import STARTING_UP, Bot, make_bot
from bot.cogs.ask import EMPTY_FOR_ADMINS, EMPTY_FOR_MEMBERS
from bot.command_sync import RECORD_NAME
from bot.writes import WRITE_BUSY
from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.embeddings import LazyEmbedder
from tests.bot_world import A_QUOTE, GUILD_A, LIBRARY, SELF_DEFENSE, StartWorld, World, check_everything_sent
from tests.fake_discord import CB_MESSAGE, EPHEMERAL, INTENT_MESSAGE_CONTENT, FakeDiscord

SYNC = r"/applications/\d+/guilds/\d+/commands"


def _text(body: dict[str, Any]) -> str:
    return "\n".join(e.get("description") or "" for e in body.get("embeds") or [])


def _public(w: World, channel: int) -> list[dict[str, Any]]:
    return [m for m in w.bot_messages(channel) if not int(m.get("flags") or 0) & EPHEMERAL]


# ------------------------------------------------------------------------------------------------ start-up
class SlowModel:
    """The real model behind `LazyEmbedder`, whose loading takes as long as the test wants (a cold start)."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.gate = threading.Event()

    def load(self) -> Any:
        self.gate.wait(60)
        return self.embedder


@contextlib.asynccontextmanager
async def started_bot(
    fake: FakeDiscord, data: Path, embedder: Any, *, force_sync: bool = False
) -> AsyncIterator[tuple[Bot, SlowModel]]:
    """The bot on `data`, started (not awaited until ready: the test watches its start-up), with a slow model."""
    model = SlowModel(embedder)
    settings = Settings(
        data_dir=data,
        discord_api_base=fake.api_base,
        discord_gateway_url=fake.gateway_url,
        discord_guild_ids=[GUILD_A],
        user_cooldown_s=0,
    )
    services = Services(settings, embedder=LazyEmbedder(model.load))  # type: ignore[arg-type]
    bot = make_bot(settings, services, force_sync=force_sync, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start(fake.token))
    try:
        yield bot, model
    finally:
        model.gate.set()
        await bot.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        services.close()


@pytest.mark.asyncio
async def test_commands_are_registered_only_when_answerable_and_only_when_changed(
    tmp_path: Path, template_data: Path, embedder: Any
) -> None:
    data = tmp_path / "data"
    shutil.copytree(template_data, data)
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Server A", GUILD_A)
        alice = fake.make_user("alice")
        fake.add_member(guild, alice)
        channel = int(guild.channel("general")["id"])

        # First start, the model still loading: connected, but no command registered yet.
        async with started_bot(fake, data, embedder) as (bot, model):
            await fake.wait_ready()
            await asyncio.sleep(0.5)
            assert fake.find_calls("PUT", SYNC) == [] and GUILD_A not in fake.commands
            model.gate.set()
            await asyncio.wait_for(bot.wait_until_serving(), 60)
            assert len(fake.find_calls("PUT", SYNC)) == 1
            first = await fake.invoke_command(
                "ask", {"question": SELF_DEFENSE}, user=alice, channel_id=channel, guild=guild
            )
            await fake.wait_response(first, followups=1, timeout=60)
            assert A_QUOTE in _text(first.followups[0])  # usable from the moment it was registered
        assert (data / RECORD_NAME).exists()

        # Restart with the same commands and a cold model: nothing re-registered; the commands Discord still shows
        # get an ephemeral "starting up" (never "The application did not respond") until the model is loaded.
        async with started_bot(fake, data, embedder) as (bot, model):
            await fake.wait_ready()
            early = await fake.invoke_command(
                "ask", {"question": SELF_DEFENSE}, user=alice, channel_id=channel, guild=guild
            )
            await fake.wait_response(early, timeout=10)
            assert early.callback is not None and early.callback["type"] == CB_MESSAGE
            assert early.ephemeral_callback and early.content == STARTING_UP
            listing = await fake.invoke_command("articles", user=alice, channel_id=channel, guild=guild)
            await fake.wait_response(listing, timeout=10)
            assert "1 article in this server" in listing.callback["data"]["embeds"][0]["title"]  # type: ignore[index]
            model.gate.set()
            await asyncio.wait_for(bot.wait_until_serving(), 60)
            later = await fake.invoke_command(
                "ask", {"question": SELF_DEFENSE}, user=alice, channel_id=channel, guild=guild
            )
            await fake.wait_response(later, followups=1, timeout=60)
            assert A_QUOTE in _text(later.followups[0])
        assert len(fake.find_calls("PUT", SYNC)) == 1

        # `newsdesk bot --sync` registers them again anyway.
        async with started_bot(fake, data, embedder, force_sync=True) as (bot, model):
            model.gate.set()
            await asyncio.wait_for(bot.wait_until_serving(), 60)
        assert len(fake.find_calls("PUT", SYNC)) == 2
        check_everything_sent(fake)


def test_newsdesk_bot_has_a_sync_option() -> None:
    from typer.testing import CliRunner

    from newsdesk.cli import app

    result = CliRunner().invoke(app, ["bot", "--help"])
    assert result.exit_code == 0 and "--sync" in result.output


# ------------------------------------------------------------------------------------------------ empty servers
@pytest.mark.asyncio
async def test_an_empty_server_says_how_to_add_articles(start_world: StartWorld) -> None:
    w = await start_world()
    await asyncio.to_thread(w.services.store.forget, f"guild-{GUILD_A}", "zelenskyy-nato-strikes")
    channel = w.channel(w.a)

    member = await w.ask(SELF_DEFENSE, user=w.alice)
    await w.fake.wait_response(member)
    assert member.ephemeral_callback and member.content == EMPTY_FOR_MEMBERS
    admin = await w.ask(SELF_DEFENSE, user=w.manager)
    await w.fake.wait_response(admin)
    assert admin.ephemeral_callback and admin.content == EMPTY_FOR_ADMINS and "/ingest" in admin.content
    assert not (member.callback or {}).get("data", {}).get("components")  # no Sources or vote buttons

    await w.fake.user_message(channel, w.alice, SELF_DEFENSE, guild=w.a, mention_bot=True)
    await w.fake.wait_until(lambda: _public(w, channel), timeout=30)
    (reply,) = _public(w, channel)
    assert reply["content"] == EMPTY_FOR_MEMBERS and not reply["components"]
    assert not w.fake.find_calls("POST", r"/channels/\d+/messages/\d+/threads")  # no thread for nothing

    # A DM collection nobody ever ingested into: the same, for the member asking.
    w2 = await start_world(dm_collection="never-filled")
    dm = int(w2.fake.dm_channel(w2.alice)["id"])
    await w2.fake.user_message(dm, w2.alice, SELF_DEFENSE)
    await w2.fake.wait_until(lambda: w2.bot_messages(dm), timeout=30)
    assert w2.bot_messages(dm)[0]["content"] == EMPTY_FOR_MEMBERS


# ------------------------------------------------------------------------------------------------ admin commands
@pytest.mark.asyncio
async def test_forget_and_ingest_defer_then_say_busy_while_another_write_holds_the_store(
    start_world: StartWorld,
) -> None:
    w = await start_world(write_wait_s=0.5)
    collection, channel = f"guild-{GUILD_A}", w.channel(w.a)
    lock = w.services.store.write_lock()
    lock.acquire()  # another writer (say `newsdesk ingest` in a cron job) is saving
    try:
        forget = await w.fake.invoke_command(
            "forget", {"article": "zelenskyy-nato-strikes"}, user=w.manager, channel_id=channel, guild=w.a
        )
        attachment = w.fake.add_attachment("harbour-museum.txt", LIBRARY.encode())
        ingest = await w.fake.invoke_command(
            "ingest", {"file": attachment}, user=w.manager, channel_id=channel, guild=w.a
        )
        await w.fake.wait_until(lambda: forget.content == WRITE_BUSY and ingest.content == WRITE_BUSY, timeout=30)
    finally:
        lock.release()
    assert forget.deferred and forget.ephemeral_callback and ingest.deferred and ingest.ephemeral_callback
    assert {a.article_id for a in w.services.store.list_articles(collection)} == {"zelenskyy-nato-strikes"}

    again = await w.fake.invoke_command(
        "forget", {"article": "zelenskyy-nato-strikes"}, user=w.manager, channel_id=channel, guild=w.a
    )
    await w.fake.wait_until(lambda: "Removed" in again.content, timeout=30)
    assert w.services.store.list_articles(collection) == []


@pytest.mark.asyncio
async def test_the_optional_public_ingest_notice(start_world: StartWorld) -> None:
    w = await start_world(ingest_notice=True)
    channel = w.channel(w.a)
    attachment = w.fake.add_attachment("harbour-museum.txt", LIBRARY.encode())
    first = await w.fake.invoke_command("ingest", {"file": attachment}, user=w.manager, channel_id=channel, guild=w.a)
    await w.fake.wait_until(lambda: _public(w, channel), timeout=60)
    (notice,) = _public(w, channel)
    assert notice["content"].startswith("📰 1 article added") and "chunks" not in notice["content"]
    assert first.ephemeral_callback and "added 1" in first.content  # the details stay with the admin

    again = await w.fake.invoke_command("ingest", {"file": attachment}, user=w.manager, channel_id=channel, guild=w.a)
    await w.fake.wait_until(lambda: "unchanged 1" in again.content, timeout=60)
    await asyncio.sleep(0.3)
    assert len(_public(w, channel)) == 1  # nothing new, nothing announced


# ------------------------------------------------------------------------------------------------ intents
@pytest.mark.asyncio
async def test_without_the_message_content_intent_mentions_and_dms_still_work(start_world: StartWorld) -> None:
    w = await start_world(message_content=False, dm_collection=f"guild-{GUILD_A}")
    assert not w.fake.intents & INTENT_MESSAGE_CONTENT  # no privileged intent asked for
    channel = w.channel(w.a)
    question = await w.fake.user_message(channel, w.alice, SELF_DEFENSE, guild=w.a, mention_bot=True)
    thread = int(question["id"])
    await w.fake.wait_until(lambda: w.bot_messages(thread), timeout=60)
    assert A_QUOTE in _text(w.bot_messages(thread)[0])

    # In the thread, a follow-up without a mention arrives without its text: the bot leaves it alone...
    await w.fake.user_message(thread, w.alice, "What more did he say about Ukraine's weapons?", guild=w.a)
    # ...and answers one that mentions it.
    await w.fake.user_message(
        thread, w.bob, "What did Stoltenberg say about self-defense?", guild=w.a, mention_bot=True
    )
    await w.fake.wait_until(lambda: len(w.bot_messages(thread)) >= 2, timeout=60)
    await asyncio.sleep(0.5)
    assert len(w.bot_messages(thread)) == 2 and A_QUOTE in _text(w.bot_messages(thread)[1])

    dm = int(w.fake.dm_channel(w.alice)["id"])
    await w.fake.user_message(dm, w.alice, SELF_DEFENSE)
    await w.fake.wait_until(lambda: w.bot_messages(dm), timeout=60)
    assert A_QUOTE in _text(w.bot_messages(dm)[0])

    slash = await w.ask(SELF_DEFENSE, user=w.manager)
    (followup,) = await w.answered(slash)
    assert A_QUOTE in _text(followup)
