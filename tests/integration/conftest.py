"""Integration fixtures: the real embedding model (one int8 ONNX build per run) and the fake-Discord bot world."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import NewsdeskBot, make_bot
from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.bot_world import BRIDGE, GUILD_A, GUILD_B, StallWatch, StartWorld, World, check_everything_sent
from tests.fake_discord import PERM_MANAGE_GUILD, FakeDiscord, running
from tests.model_build import RaceBuild, race_build
from tests.paths import SAMPLE


@pytest.fixture(scope="session", autouse=True)
def onnx_build(model_cache: Path) -> RaceBuild:
    """The run's one int8 ONNX build, made the way two `newsdesk` commands started together would make it.

    Autouse, so it happens before any test (or child process of one) could build into the cache on its own; every
    later user (the `embedder` fixture, CLI subprocesses through NEWSDESK_MODEL_CACHE, the benchmark smoke run)
    loads the result.
    """
    return race_build(model_cache)


@pytest.fixture(scope="session")
def embedder(onnx_build: RaceBuild, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real bundled model on the default backend (int8 ONNX), loaded once per session from the run's build."""
    from retrieval.embeddings import make_embedder

    assert onnx_build.returncodes == [0, 0], [err[-2000:] for _, err in onnx_build.outputs]
    data = tmp_path_factory.mktemp("embedder-data")
    return make_embedder(Settings(data_dir=data, model_cache_dir=onnx_build.cache))


@pytest.fixture(scope="session")
def template_data(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """A data dir holding each test server's starting articles, ingested once per session."""
    data = tmp_path_factory.mktemp("bot-template") / "data"
    services = Services(Settings(data_dir=data), embedder=embedder)
    try:
        report = services.ingestor.ingest([str(SAMPLE)], collection=f"guild-{GUILD_A}")
        assert report.ok and report.added, report.summary()
        report = services.ingestor.ingest_bytes("riverside-bridge.txt", BRIDGE.encode(), collection=f"guild-{GUILD_B}")
        assert report.ok and report.added, report.summary()
    finally:
        services.close()
    return data


@pytest_asyncio.fixture
async def start_world(tmp_path: Path, template_data: Path, embedder: Any) -> AsyncIterator[StartWorld]:
    """Start a fake Discord with servers A and B and the bot on a copy of the template data (settings overridable)."""
    stack: list[tuple[FakeDiscord, Any, Services]] = []
    stalls = StallWatch()
    gateway_log = logging.getLogger("discord.gateway")
    gateway_log.addHandler(stalls)

    async def start(**overrides: Any) -> World:
        fake = FakeDiscord(heartbeat_interval_ms=overrides.pop("heartbeat_interval_ms", 41250))
        await fake.start()
        a, b = fake.add_guild("Server A", GUILD_A), fake.add_guild("Server B", GUILD_B)
        users = [fake.make_user(name) for name in ("alice", "bob", "manager")]
        for guild in (a, b):
            fake.add_member(guild, users[0])
            fake.add_member(guild, users[1])
        fake.add_member(a, users[2], permissions=PERM_MANAGE_GUILD)
        fake.add_member(b, users[2])
        data = tmp_path / f"data{len(stack)}"
        shutil.copytree(template_data, data)
        options: dict[str, Any] = {
            "data_dir": data,
            "discord_api_base": fake.api_base,
            "discord_gateway_url": fake.gateway_url,
            "discord_guild_ids": [GUILD_A, GUILD_B],
            "user_cooldown_s": 0,
            "guild_rate_per_minute": 1000,
        }
        options.update(overrides)
        settings = Settings(**options)
        services = Services(settings, embedder=embedder)
        bot = make_bot(settings, services, guild_ready_timeout=0.05)
        assert isinstance(bot, NewsdeskBot)
        runner = running(bot, fake)
        await runner.__aenter__()
        stack.append((fake, runner, services))
        return World(fake, bot, services, settings, a, b, *users)

    yield start

    for fake, runner, services in reversed(stack):
        await runner.__aexit__(None, None, None)
        await fake.close()
        services.close()
        check_everything_sent(fake)
    gateway_log.removeHandler(stalls)
    assert stalls.messages == [], "the event loop was blocked long enough to delay heartbeats"
