"""Asking: `/ask`, a mention of the bot (answered in a thread it opens), follow-ups in that thread, and DMs.

Every path checks, in this order and before any work: where the question belongs (a server's collection, the DM
collection, or a polite refusal), that it is a question once Discord's mention codes are turned into readable text
(`bot.mentions`), that the collection has articles at all (an empty one gets how to add some, for admins, or that
nothing was added yet, for members), the rate limits, and room in the work queue. Only then does `/ask` defer
(Discord's 3-second rule), so refusals are instant and ephemeral.

Without the message content intent (`NEWSDESK_MESSAGE_CONTENT=false`) Discord still sends the text of messages
that mention the bot and of DMs, so only follow-ups in a thread must then mention the bot too.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, streaming
from bot.access import can_manage, member_can_manage
from bot.answering import BUSY, EMPTY_QUESTION, NOT_IN_DMS, Reply, answer_question, apology, new_error_id
from bot.mentions import interaction_resolver, message_resolver, readable_question
from bot.views import answer_id_of, answer_view
from bot.workers import Busy
from retrieval.answer import Turn

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
HISTORY_MESSAGES = 30  # messages read back from a thread for context
HISTORY_TURNS = 6
REFUSAL_SECONDS = 20  # refusals in channels (which cannot be ephemeral) delete themselves
EMPTY_FOR_ADMINS = (
    "No articles have been added to this server yet, so there is nothing to answer from. Add one with "
    "`/ingest url:` (a web page) or `/ingest file:` (a .txt, .md, .html or .jsonl file), then ask again."
)
EMPTY_FOR_MEMBERS = (
    "No articles have been added to this server yet, so there is nothing to answer from. "
    "A server admin can add some with /ingest."
)


class AskCog(commands.Cog):
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    # ------------------------------------------------------------------ /ask
    @app_commands.command(name="ask", description="Ask a question about this server's news articles.")
    @app_commands.describe(question="Your question, e.g. What did Stoltenberg say about self-defence?")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        """Answer with cited sources; the reply is public, refusals are only shown to you."""
        collection = self.bot.collection_for(interaction.guild_id)
        if collection is None:
            await interaction.response.send_message(NOT_IN_DMS, ephemeral=True, allowed_mentions=NONE)
            return
        me = self.bot.user
        question = readable_question(question, interaction_resolver(interaction), bot_id=me.id if me else None)
        if not question:
            await interaction.response.send_message(EMPTY_QUESTION, ephemeral=True, allowed_mentions=NONE)
            return
        if await self.bot.article_count(collection) == 0:
            admin = can_manage(interaction, self.bot.settings.ingest_role)
            text = EMPTY_FOR_ADMINS if admin else EMPTY_FOR_MEMBERS
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)
            return
        limited = self.bot.limiter.check(interaction.user.id, interaction.guild_id)
        if limited is not None:
            await interaction.response.send_message(limited.message(), ephemeral=True, allowed_mentions=NONE)
            return
        try:
            ticket = self.bot.work.admit()
        except Busy:
            await interaction.response.send_message(BUSY, ephemeral=True, allowed_mentions=NONE)
            return
        try:
            await interaction.response.defer(thinking=True)
        except discord.HTTPException:
            ticket.cancel()
            log.warning("could not defer /ask (interaction expired?)", exc_info=True)
            return
        draft: streaming.Draft | None = None
        if streaming.enabled(self.bot.settings):
            draft = streaming.Draft(functools.partial(interaction.followup.send, wait=True))
            reply = await streaming.answer_streaming(
                self.bot,
                ticket,
                draft,
                question=question,
                collection=collection,
                user_id=interaction.user.id,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
            )
        else:
            reply = await answer_question(
                self.bot,
                ticket,
                question=question,
                collection=collection,
                user_id=interaction.user.id,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
            )
        try:
            if draft is not None:
                await draft.finish(reply)
            else:
                await self._send_followups(interaction, reply)
        except discord.HTTPException:
            error_id = new_error_id()
            log.exception("error %s while sending the answer to /ask", error_id)
            await interaction.followup.send(apology(error_id), allowed_mentions=NONE)

    async def _send_followups(self, interaction: discord.Interaction, reply: Reply) -> None:
        if not reply.ok:
            await interaction.followup.send(reply.text or "", allowed_mentions=NONE)
            return
        last = len(reply.embeds) - 1
        for i, embeds in enumerate(reply.embeds):
            if i == last and reply.answer_id:
                view = answer_view(reply.answer_id, sources=reply.has_sources)
                await interaction.followup.send(embeds=embeds, view=view, allowed_mentions=NONE)
            else:
                await interaction.followup.send(embeds=embeds, allowed_mentions=NONE)

    # ------------------------------------------------------------------ mentions, threads, DMs
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return
        channel = message.channel
        in_our_thread = isinstance(channel, discord.Thread) and channel.owner_id == me.id
        is_dm = message.guild is None
        mentioned = me in message.mentions
        # Without the message content intent, Discord sends an empty text for a thread message that does not
        # mention the bot: there is nothing to read, so only mentions are answered there.
        follow_up = in_our_thread and self.bot.settings.message_content
        if not (is_dm or mentioned or follow_up):
            return
        question = readable_question(message.content, message_resolver(message), bot_id=me.id)
        try:
            await self._handle(message, question, in_our_thread=in_our_thread)
        except Exception:
            # The last line of defence: whatever went wrong, the bot keeps running and says so.
            error_id = new_error_id()
            log.exception("error %s while handling message %s", error_id, message.id)
            try:
                await message.reply(apology(error_id), mention_author=False, allowed_mentions=NONE)
            except discord.HTTPException:
                log.warning("could not send the apology for error %s", error_id)

    async def _refuse(self, message: discord.Message, text: str) -> None:
        await message.reply(text, mention_author=False, allowed_mentions=NONE, delete_after=REFUSAL_SECONDS)

    async def _handle(self, message: discord.Message, question: str, *, in_our_thread: bool) -> None:
        collection = self.bot.collection_for(message.guild.id if message.guild else None)
        if collection is None:
            await message.reply(NOT_IN_DMS, mention_author=False, allowed_mentions=NONE)
            return
        if not question:
            await self._refuse(message, "Ask me a question after the mention, e.g. “@newsdesk what did NATO decide?”")
            return
        if await self.bot.article_count(collection) == 0:
            admin = member_can_manage(message.author, self.bot.settings.ingest_role)
            text = EMPTY_FOR_ADMINS if admin else EMPTY_FOR_MEMBERS
            await message.reply(text, mention_author=False, allowed_mentions=NONE)
            return
        guild_id = message.guild.id if message.guild else None
        limited = self.bot.limiter.check(message.author.id, guild_id)
        if limited is not None:
            await self._refuse(message, limited.message())
            return
        try:
            ticket = self.bot.work.admit()
        except Busy:
            await self._refuse(message, BUSY)
            return
        draft: streaming.Draft | None = None
        try:  # whatever happens below, the place in the queue is given back (a no-op once the ticket has run)
            target: discord.abc.Messageable = message.channel
            history: list[Turn] | None = None
            if in_our_thread:
                assert isinstance(message.channel, discord.Thread)
                history = await self.thread_history(message.channel, before=message)
            elif isinstance(message.channel, discord.TextChannel):
                try:
                    target = await message.create_thread(
                        name=render.shorten(question, 90) or "Question", auto_archive_duration=1440
                    )
                except discord.HTTPException:  # no permission to create threads here: answer in place
                    log.warning("could not open a thread in channel %s; replying in the channel", message.channel.id)
            reference = None if target is not message.channel else message
            async with target.typing():
                ask: dict[str, Any] = {
                    "question": question,
                    "collection": collection,
                    "user_id": message.author.id,
                    "guild_id": guild_id,
                    "channel_id": getattr(target, "id", message.channel.id),
                    "history": history,
                }
                if streaming.enabled(self.bot.settings):
                    first = {"reference": reference, "mention_author": False} if reference is not None else {}
                    draft = streaming.Draft(target.send, first=first)
                    reply = await streaming.answer_streaming(self.bot, ticket, draft, **ask)
                else:
                    reply = await answer_question(self.bot, ticket, **ask)
        finally:
            ticket.cancel()
        if draft is not None:
            await draft.finish(reply)
        else:
            await self._send_to_channel(target, reply, reference=reference)

    async def _send_to_channel(
        self, target: discord.abc.Messageable, reply: Reply, reference: discord.Message | None
    ) -> None:
        """Send the reply; the first message answers `reference` (when given) without pinging its author."""
        extra: dict[str, Any] = {"reference": reference, "mention_author": False} if reference is not None else {}
        if not reply.ok:
            await target.send(reply.text or "", allowed_mentions=NONE, **extra)
            return
        last = len(reply.embeds) - 1
        for i, embeds in enumerate(reply.embeds):
            if i == last and reply.answer_id:
                extra["view"] = answer_view(reply.answer_id, sources=reply.has_sources)
            await target.send(embeds=embeds, allowed_mentions=NONE, **extra)
            extra.pop("reference", None)

    async def thread_history(self, thread: discord.Thread, before: discord.Message) -> list[Turn]:
        """Earlier turns of a conversation thread, oldest first, read back from Discord itself.

        Each bot answer carries its answer id in its buttons, and the feedback store has the exact question,
        answer and cited chunks for it, so the context survives restarts and never depends on parsing embeds.
        """
        ids: list[str] = []
        async for msg in thread.history(limit=HISTORY_MESSAGES, before=before):
            if self.bot.user is not None and msg.author.id == self.bot.user.id:
                answer_id = answer_id_of(msg)
                if answer_id and answer_id not in ids:
                    ids.append(answer_id)
            if len(ids) >= HISTORY_TURNS:
                break
        return await asyncio.to_thread(self._turns, list(reversed(ids)))  # history() is newest first

    def _turns(self, answer_ids: list[str]) -> list[Turn]:
        turns: list[Turn] = []
        for answer_id in answer_ids:
            stored = self.bot.feedback.get(answer_id)
            if stored is not None:
                cited = tuple(c.chunk_id for c in stored.citations)
                turns.append(Turn(question=stored.question, answer=stored.answer, cited_chunk_ids=cited))
        return turns
