"""The world the bot tests run in: two fake Discord servers, their users, and the checks made after every test.

The fixtures that build it (`template_data`, `start_world`) live in tests/integration/conftest.py; this module holds
what tests import: constants, the `World` handle and the after-test checks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.app import NewsdeskBot
from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.fake_discord import FakeDiscord, FakeInteraction, Guild

GUILD_A = 700000000000000001  # has the sample NATO article
GUILD_B = 700000000000000002  # has a local-news article
BRIDGE = """Riverside Council Approves Cycling Bridge Over the Alder

The Riverside town council voted seven to two on Tuesday to approve a new cycling bridge over the Alder river.

Council leader Maria Okafor said the bridge will cost 4.2 million euros and should open in the spring of 2027.

“People have waited twenty years to cross the river safely by bike,” Ms. Okafor told the meeting.

Two councillors voted against the plan, arguing that the money should go to repairing village roads first.
"""
LIBRARY = """Harbour Museum Reopens After Two-Year Renovation

The Harbour Museum in Port Ellis reopened on Saturday after a renovation that took two years.

Museum director Tomas Lindqvist said the restored lighthouse lens is the centrepiece of the new maritime gallery.

Entry will be free for children under twelve until the end of the summer, the museum said.
"""
SELF_DEFENSE = "What did Stoltenberg say about self-defense?"
A_QUOTE = "The right to self defense includes also the right to strike legitimate military targets"


@dataclass
class World:
    fake: FakeDiscord
    bot: NewsdeskBot
    services: Services
    settings: Settings
    a: Guild
    b: Guild
    alice: dict[str, Any]  # plain member of both servers
    bob: dict[str, Any]  # plain member of both servers
    manager: dict[str, Any]  # Manage Server in server A, plain member of B

    def channel(self, guild: Guild) -> int:
        return int(guild.channel("general")["id"])

    async def ask(
        self, question: str, *, user: dict[str, Any] | None = None, guild: Guild | None = None
    ) -> FakeInteraction:
        guild = guild or self.a
        return await self.fake.invoke_command(
            "ask", {"question": question}, user=user or self.alice, channel_id=self.channel(guild), guild=guild
        )

    async def answered(self, interaction: FakeInteraction, followups: int = 1) -> list[dict[str, Any]]:
        await self.fake.wait_response(interaction, followups=followups, timeout=60)
        return interaction.followups

    def bot_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages.get(channel_id, []) if m["author"]["id"] == str(self.fake.app_id)]


StartWorld = Callable[..., Awaitable[World]]


class StallWatch(logging.Handler):
    """Collects discord.py's "Can't keep up" warnings: the heartbeat thread saw the event loop blocked."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "keep up" in record.getMessage():
            self.messages.append(record.getMessage())


def check_everything_sent(fake: FakeDiscord) -> None:
    """Every interaction was acknowledged within Discord's 3 seconds, every message pinged nobody and fit Discord's
    limits, and every route the client used exists."""
    late = [(i.payload["data"].get("name") or i.payload["data"].get("custom_id"), i.late) for i in fake.unanswered()]
    assert late == [], f"interactions a user saw fail (no answer within Discord's deadline): {late}"
    assert fake.unhandled == [], [(c.method, c.path) for c in fake.unhandled]
    assert fake.invalid == [], [problems for _, problems in fake.invalid]
    for call in fake.message_sends():
        body = call.json.get("data", call.json) if "callback" in call.path else call.json
        mentions = body.get("allowed_mentions")
        assert mentions is not None, f"{call.method} {call.path} sent without allowed_mentions"
        assert mentions.get("parse") == [] and not mentions.get("users") and not mentions.get("roles")
        assert not mentions.get("replied_user")
