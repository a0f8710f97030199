"""Buttons: "Sources" and 👍 / 👎 under each answer, and Previous / Next for `/articles`.

Answer buttons are discord.py `DynamicItem`s: their custom id carries the answer id (`nd:src:<id>`), and the answer
itself lives in the feedback store, so buttons keep working after the bot restarts and nothing per message is held
in memory.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot import render

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

ANSWER_ID = r"[0-9a-f]{16}"
CUSTOM_ID = re.compile(rf"nd:(?P<action>src|up|down):(?P<answer_id>{ANSWER_ID})")
NONE = discord.AllowedMentions.none()

_STYLE = {
    "src": (discord.ButtonStyle.secondary, "Sources", "📚"),
    "up": (discord.ButtonStyle.secondary, None, "👍"),
    "down": (discord.ButtonStyle.secondary, None, "👎"),
}


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """One of the three answer buttons; the action and the answer id are parsed back from the custom id."""

    def __init__(self, action: str, answer_id: str) -> None:
        style, label, emoji = _STYLE[action]
        super().__init__(discord.ui.Button(style=style, label=label, emoji=emoji, custom_id=f"nd:{action}:{answer_id}"))
        self.action = action
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnswerButton:
        return cls(match["action"], match["answer_id"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        bot: Bot = interaction.client  # type: ignore[assignment]
        if self.action == "src":
            await self._show_sources(bot, interaction)
        else:
            await self._vote(bot, interaction, 1 if self.action == "up" else -1)

    async def _show_sources(self, bot: Bot, interaction: discord.Interaction) -> None:
        stored = await asyncio.to_thread(bot.feedback.get, self.answer_id)
        if stored is None:
            await interaction.response.send_message(
                "I no longer have the sources of this answer.", ephemeral=True, allowed_mentions=NONE
            )
            return
        pages = render.sources_messages(stored.citations, stored.urls)
        await interaction.response.send_message(embeds=pages[0], ephemeral=True, allowed_mentions=NONE)
        for embeds in pages[1:]:
            await interaction.followup.send(embeds=embeds, ephemeral=True, allowed_mentions=NONE)

    async def _vote(self, bot: Bot, interaction: discord.Interaction, vote: int) -> None:
        recorded = await asyncio.to_thread(bot.feedback.vote, self.answer_id, interaction.user.id, vote)
        if recorded:
            text = "Thanks! Glad it helped. 👍" if vote > 0 else "Thanks for telling us. 👎 We'll use it to improve."
        else:
            text = "I no longer have this answer, so I couldn't record your vote."
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)


def answer_view(answer_id: str, *, sources: bool = True) -> discord.ui.View:
    """The buttons under an answer (persistent: no timeout; the dynamic items are registered on the bot).

    `sources=False` (an answer that cites nothing, such as "the articles do not answer this") leaves out the
    Sources button, which would have nothing to show; 👍 / 👎 stay, because a vote on such an answer is exactly
    what the feedback export turns into an `unanswerable` evaluation question (or a case to review)."""
    view = discord.ui.View(timeout=None)
    for action in ("src", "up", "down") if sources else ("up", "down"):
        view.add_item(AnswerButton(action, answer_id))
    return view


def answer_id_of(message: discord.Message) -> str | None:
    """The answer id in a bot message's buttons, if it has answer buttons."""
    for row in message.components:
        for child in getattr(row, "children", []):
            match = CUSTOM_ID.fullmatch(getattr(child, "custom_id", None) or "")
            if match:
                return match["answer_id"]
    return None


class Pager(discord.ui.View):
    """Previous / Next through prepared page embeds (used by `/articles`, whose replies are ephemeral)."""

    def __init__(self, pages: list[discord.Embed], owner_id: int, timeout: float = 600) -> None:
        super().__init__(timeout=timeout)
        self.pages = pages
        self.owner_id = owner_id
        self.index = 0
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id

    async def _show(self, interaction: discord.Interaction) -> None:
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.pages[self.index], view=self, allowed_mentions=NONE)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, emoji="◀️")
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        self.index = max(0, self.index - 1)
        await self._show(interaction)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, emoji="▶️")
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        self.index = min(len(self.pages) - 1, self.index + 1)
        await self._show(interaction)
