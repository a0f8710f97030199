"""Load: 50 concurrent `/ask` through the fake Discord, and overload answered with "busy" instead of a crash.

Every callback the bot's event loop runs is timed (asyncio's slow-callback detection, see `_SlowCallbacks`); the
test fails if any takes 100 ms or more, or if discord.py warns that a heartbeat was late. The fake Discord runs on
its own loop in a thread, as the real one runs on other machines. Latencies are printed (`-s`) for the README, not
asserted: speed is measured, not timed, in tests.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.app import make_bot
from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.bot_world import GUILD_A, SELF_DEFENSE, StartWorld, World
from tests.fake_discord import FakeDiscord, FakeInThread, running

QUESTIONS = [
    SELF_DEFENSE,
    "Where and when did Zelenskyy make these remarks?",
    "Which country has been most notable in restricting how Kyiv uses its weapons?",
    "What happened to the children's hospital?",
    "Who won the 1966 football World Cup final?",
]


def _question(i: int) -> str:
    """50 different questions (the chain caches repeated ones, which would make the load unrealistically light)."""
    return f"{QUESTIONS[i % len(QUESTIONS)]} (reader {i})"


class _LogWatch(logging.Handler):
    """Collects warnings whose message contains all of `words`."""

    def __init__(self, *words: str) -> None:
        super().__init__(logging.WARNING)
        self.words = words
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if all(w in message for w in self.words):
            self.messages.append(message)


class _SlowCallbacks:
    """asyncio's slow-callback detection, for the current thread's event loop only.

    It times every callback the loop runs, as `loop.set_debug(True)` with `slow_callback_duration` does, but
    without debug mode's other work: debug mode captures a stack trace (and stats every source file on it) for each
    future and handle it creates, which on a busy 2-core machine alone takes over 100 ms per callback and would
    measure asyncio's debugging rather than the bot.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.slow: list[tuple[float, str]] = []
        self.longest = 0.0
        self.count = 0
        self._original = asyncio.events.Handle._run
        self._thread = threading.get_ident()

    def __enter__(self) -> _SlowCallbacks:
        watch, original = self, self._original

        def timed_run(handle: asyncio.events.Handle) -> None:
            if threading.get_ident() != watch._thread:
                return original(handle)
            started = time.perf_counter()
            try:
                return original(handle)
            finally:
                took = time.perf_counter() - started
                watch.count += 1
                watch.longest = max(watch.longest, took)
                if took >= watch.threshold:
                    watch.slow.append((round(took, 3), repr(handle)[:300]))

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]


def _users(w: World, n: int) -> list[dict[str, object]]:
    users = []
    for i in range(n):
        user = w.fake.make_user(f"reader{i}")
        w.fake.add_member(w.a, user)
        users.append(user)
    return users


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.mark.slow
@pytest.mark.asyncio
async def test_fifty_concurrent_questions_are_all_answered_without_blocking_the_loop(
    tmp_path: Path, template_data: Path, embedder: Any
) -> None:
    # Discord runs elsewhere: the fake gets its own loop and thread, so only the bot's loop is measured.
    threaded = FakeInThread(FakeDiscord(heartbeat_interval_ms=500))
    fake = threaded.start()
    guild = fake.add_guild("Server A", GUILD_A)
    channel = int(guild.channel("general")["id"])
    users = [fake.make_user(f"reader{i}") for i in range(50)]
    for user in users:
        fake.add_member(guild, user)
    data = tmp_path / "data"
    shutil.copytree(template_data, data)
    settings = Settings(
        data_dir=data,
        discord_api_base=fake.api_base,
        discord_gateway_url=fake.gateway_url,
        discord_guild_ids=[GUILD_A],
        user_cooldown_s=0,
        guild_rate_per_minute=1000,
        max_concurrent_answers=2,
        max_queued_answers=60,
    )
    services = Services(settings, embedder=embedder)
    bot = make_bot(settings, services, guild_ready_timeout=0.05)
    stalls = _LogWatch("keep up")
    logging.getLogger("discord.gateway").addHandler(stalls)
    try:
        async with running(bot, fake):
            beats = fake.heartbeats
            with _SlowCallbacks(threshold=0.1) as slow:
                interactions = [
                    await threaded.run(
                        fake.invoke_command("ask", {"question": _question(i)}, user=u, channel_id=channel, guild=guild)
                    )
                    for i, u in enumerate(users)
                ]
                await threaded.run(fake.wait_until(lambda: all(i.followups for i in interactions), timeout=240))
            heartbeats = fake.heartbeats - beats
    finally:
        logging.getLogger("discord.gateway").removeHandler(stalls)
        services.close()
        threaded.stop()
    assert slow.slow == []  # no callback held the bot's event loop for 100 ms or more
    assert stalls.messages == []  # and no heartbeat was late
    assert heartbeats > 0
    assert all(i.deferred for i in interactions)
    assert all(i.followups[0].get("embeds") for i in interactions)  # answers, not apologies
    assert fake.unhandled == [] and fake.invalid == []
    defer = [(i.callback_at or 0) - i.created_at for i in interactions]
    total = [i.followup_at[0] - i.created_at for i in interactions]
    elapsed = max(i.followup_at[0] for i in interactions) - min(i.created_at for i in interactions)
    print(
        f"\n50 concurrent /ask: defer p50 {statistics.median(defer) * 1000:.0f} ms, "
        f"p95 {_percentile(defer, 0.95) * 1000:.0f} ms; answer p50 {statistics.median(total):.2f} s, "
        f"p95 {_percentile(total, 0.95):.2f} s; all 50 in {elapsed:.1f} s; {heartbeats} heartbeats acknowledged; "
        f"longest of {slow.count} loop callbacks {slow.longest * 1000:.0f} ms"
    )


@pytest.mark.slow
@pytest.mark.asyncio
async def test_overload_gets_busy_replies_and_nothing_is_lost(start_world: StartWorld) -> None:
    w = await start_world(max_concurrent_answers=1, max_queued_answers=3)
    users = _users(w, 20)
    interactions = [
        await w.fake.invoke_command("ask", {"question": SELF_DEFENSE}, user=u, channel_id=w.channel(w.a), guild=w.a)
        for u in users
    ]
    await w.fake.wait_until(
        lambda: all(i.followups or (i.callback and i.callback["type"] == 4) for i in interactions), timeout=120
    )
    answered = [i for i in interactions if i.followups]
    busy = [i for i in interactions if not i.followups]
    assert len(answered) >= 4  # one running and three waiting were always admitted
    assert busy, "20 questions at once must overflow a queue of 3"
    for i in busy:
        assert i.ephemeral_callback and "try again" in i.callback["data"]["content"]  # type: ignore[index]
    for i in answered:
        assert i.followups[0]["embeds"]
    assert w.bot.work.in_flight == 0  # every place in the queue was given back
    print(f"\noverload: {len(answered)} answered, {len(busy)} told to try again")
