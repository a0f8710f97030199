"""A server's knowledge base: `/ingest` (a URL or an attached file), `/articles`, `/forget`.

Adding and removing articles changes what everyone in the server is told, so `/ingest` and `/forget` are registered
with `default_member_permissions` = Manage Server (Discord shows them only to such members, unless a server's admins
grant them to a role under Server Settings > Integrations), and the bot checks again itself: Manage Server, or the
role named by `NEWSDESK_INGEST_ROLE`; others get an ephemeral refusal. Listing is open to all. Each server only ever
touches its own collection (`guild-<id>`).

Both write commands defer first (ephemerally: progress and results are for the admin who ran them), then wait for
the store's write lock at most `NEWSDESK_WRITE_WAIT_S`, so Discord's 3-second deadline is never missed while an
ingest is writing. `NEWSDESK_INGEST_NOTICE=true` adds a short public "N articles added" in the channel.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.access import can_manage
from bot.answering import BUSY, UNAVAILABLE, apology, new_error_id
from bot.views import Pager
from bot.workers import Busy
from bot.writes import WRITE_BUSY, StoreBusy, wait_for_writer
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.models import IngestReport
from retrieval.errors import StoreUnavailable

if TYPE_CHECKING:
    from bot.app import Bot
    from retrieval.catalogue import ArticleInfo

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
ARTICLES_PER_PAGE = 10
CHOICE_LIMIT = 100  # Discord's limit for an autocomplete choice's name and value


def report_text(name: str, report: IngestReport) -> str:
    """The ingest summary a user reads: what was added, updated, unchanged, and why anything failed."""
    lines = [f"Ingested **{discord.utils.escape_markdown(name)}**: {report.summary()}."]
    if report.added:
        lines.append("Added: " + ", ".join(f"`{a}`" for a in report.added[:20]))
    if report.updated:
        lines.append("Updated: " + ", ".join(f"`{a}`" for a in report.updated[:20]))
    for failure in report.failed[:10]:
        lines.append(f"Failed: {discord.utils.escape_markdown(failure.source)}: {failure.reason}")
    if len(report.failed) > 10:
        lines.append(f"… and {len(report.failed) - 10} more failures.")
    return render.shorten("\n".join(lines), render.CONTENT_LIMIT)


class LibraryCog(commands.Cog):
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def _refusal(self) -> str:
        role = self.bot.settings.ingest_role
        extra = f" or the **{discord.utils.escape_markdown(role)}** role" if role else ""
        return f"Only members with the Manage Server permission{extra} can change this server's articles."

    # ------------------------------------------------------------------ /ingest
    @app_commands.command(name="ingest", description="Add a news article to this server's knowledge base.")
    @app_commands.describe(url="A web page with the article", file="A .txt, .md, .html or .jsonl file")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def ingest(
        self, interaction: discord.Interaction, url: str | None = None, file: discord.Attachment | None = None
    ) -> None:
        """Managers only: fetch the URL or read the file, then show the ingest summary (to the admin only)."""
        if not can_manage(interaction, self.bot.settings.ingest_role):
            await interaction.response.send_message(self._refusal(), ephemeral=True, allowed_mentions=NONE)
            return
        if (url is None) == (file is None):
            await interaction.response.send_message(
                "Give exactly one of `url:` or `file:`.", ephemeral=True, allowed_mentions=NONE
            )
            return
        if file is not None:
            problem = self._check_file(file)
            if problem:
                await interaction.response.send_message(problem, ephemeral=True, allowed_mentions=NONE)
                return
        try:
            ticket = self.bot.work.admit()
        except Busy:
            await interaction.response.send_message(BUSY, ephemeral=True, allowed_mentions=NONE)
            return
        collection = self.bot.collection_for(interaction.guild_id)
        assert collection is not None
        name = render.shorten(file.filename if file is not None else str(url), 200)
        report: IngestReport | None = None
        try:
            if not await _defer(interaction):
                return
            await interaction.edit_original_response(
                content=f"⏳ Ingesting **{discord.utils.escape_markdown(name)}**…", allowed_mentions=NONE
            )
            services = self.bot.services
            await asyncio.to_thread(wait_for_writer, services.store, self.bot.settings.write_wait_s)
            if file is not None:
                data = await file.read()
                filename = file.filename
                # `services.ingestor` is built lazily (it may load the model), so it is touched in the worker only.
                report = await ticket.run(lambda: services.ingestor.ingest_bytes(filename, data, collection))
            else:
                report = await ticket.run(lambda: services.ingestor.ingest([str(url)], collection))
            text = ("✅ " if report.ok else "⚠️ ") + report_text(name, report)
        except StoreBusy:
            text = WRITE_BUSY
        except StoreUnavailable:
            text = UNAVAILABLE
        except Exception:
            error_id = new_error_id()
            log.exception("error %s while ingesting %s", error_id, name)
            text = apology(error_id)
        finally:
            ticket.cancel()  # give the place in the queue back (a no-op once the ticket has run)
        await _edit(interaction, text)
        if report is not None and self.bot.settings.ingest_notice:
            await self._notice(interaction, report)

    async def _notice(self, interaction: discord.Interaction, report: IngestReport) -> None:
        """The optional public line ("2 articles added") for the channel; nothing when nothing changed."""
        text = notice_text(report)
        channel = interaction.channel
        if text is None or channel is None or not isinstance(channel, discord.abc.Messageable):
            return
        try:
            await channel.send(text, allowed_mentions=NONE)
        except discord.HTTPException:
            log.warning("could not post the ingest notice in channel %s", interaction.channel_id, exc_info=True)

    def _check_file(self, file: discord.Attachment) -> str | None:
        suffix = Path(file.filename).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            return f"I can't read `{suffix or 'files without an extension'}` files; use .txt, .md, .html or .jsonl."
        limit = self.bot.settings.max_article_bytes
        if file.size > limit:
            return f"That file is {file.size:,} bytes; the limit is {limit:,} bytes."
        return None

    # ------------------------------------------------------------------ /articles
    @app_commands.command(name="articles", description="List the articles this server's answers come from.")
    @app_commands.guild_only()
    async def articles(self, interaction: discord.Interaction) -> None:
        collection = self.bot.collection_for(interaction.guild_id)
        assert collection is not None
        try:
            infos = await asyncio.to_thread(self._list, collection)
        except StoreUnavailable:
            await interaction.response.send_message(UNAVAILABLE, ephemeral=True, allowed_mentions=NONE)
            return
        lines = [self._article_line(info) for info in infos]
        title = f"{len(infos)} article{'s' if len(infos) != 1 else ''} in this server"
        pages = render.article_list_pages(lines, title=title, per_page=ARTICLES_PER_PAGE)
        if len(pages) == 1:
            await interaction.response.send_message(embed=pages[0], ephemeral=True, allowed_mentions=NONE)
        else:
            view = Pager(pages, owner_id=interaction.user.id)
            await interaction.response.send_message(embed=pages[0], view=view, ephemeral=True, allowed_mentions=NONE)

    def _list(self, collection: str) -> list[ArticleInfo]:
        if not self.bot.services.store.has_collection(collection):
            return []
        return self.bot.services.store.list_articles(collection)

    @staticmethod
    def _article_line(info: ArticleInfo) -> str:
        title = discord.utils.escape_markdown(render.shorten(info.title or info.article_id, 150))
        url = info.url if info.url and info.url.startswith(("http://", "https://")) else None
        head = f"[{title}]({url})" if url else f"**{title}**"
        return f"{head} · `{info.article_id}` · {info.chunks} chunks"

    # ------------------------------------------------------------------ /forget
    @app_commands.command(name="forget", description="Remove an article from this server's knowledge base.")
    @app_commands.describe(article="The article to remove (start typing its title)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def forget(self, interaction: discord.Interaction, article: str) -> None:
        """Managers only: remove one article; the reply is only shown to the admin."""
        if not can_manage(interaction, self.bot.settings.ingest_role):
            await interaction.response.send_message(self._refusal(), ephemeral=True, allowed_mentions=NONE)
            return
        collection = self.bot.collection_for(interaction.guild_id)
        assert collection is not None
        if not await _defer(interaction):
            return
        shown = discord.utils.escape_markdown(render.shorten(article, 200))
        store = self.bot.services.store
        try:
            await asyncio.to_thread(wait_for_writer, store, self.bot.settings.write_wait_s)
            removed = await asyncio.to_thread(self._forget, collection, article)
        except StoreBusy:
            text = WRITE_BUSY
        except StoreUnavailable:
            text = UNAVAILABLE
        except Exception:
            error_id = new_error_id()
            log.exception("error %s while forgetting %s", error_id, article)
            text = apology(error_id)
        else:
            text = (
                f"🗑️ Removed `{shown}`." if removed else f"There is no article `{shown}` in this server (see /articles)."
            )
        await _edit(interaction, text)

    def _forget(self, collection: str, article_id: str) -> bool:
        if not self.bot.services.store.has_collection(collection):
            return False
        return self.bot.services.store.forget(collection, article_id)

    @forget.autocomplete("article")
    async def _article_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Up to 25 of this server's articles whose title or id contains what was typed."""
        collection = self.bot.collection_for(interaction.guild_id)
        if collection is None:
            return []
        try:
            infos = await asyncio.to_thread(self._list, collection)
        except StoreUnavailable:
            return []
        needle = current.lower().strip()
        choices = []
        for info in infos:
            if len(info.article_id) > CHOICE_LIMIT:
                continue
            if needle and needle not in info.title.lower() and needle not in info.article_id.lower():
                continue
            label = render.shorten(f"{info.title} ({info.article_id})", CHOICE_LIMIT)
            choices.append(app_commands.Choice(name=label, value=info.article_id))
            if len(choices) == 25:
                break
        return choices


def notice_text(report: IngestReport) -> str | None:
    """ "3 articles added" (and updated), for everyone in the channel; None when nothing was added or updated."""
    parts = []
    for count, verb in ((len(report.added), "added"), (len(report.updated), "updated")):
        if count:
            parts.append(f"{count} article{'s' if count != 1 else ''} {verb}")
    if not parts:
        return None
    return "📰 " + " and ".join(parts) + " to this server's knowledge base. Ask about them with /ask."


async def _defer(interaction: discord.Interaction) -> bool:
    """Acknowledge at once, visibly only to the user ("thinking…"); False when Discord no longer accepts it."""
    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
    except discord.HTTPException:
        log.warning(
            "could not defer /%s (interaction expired?)", interaction.command.name if interaction.command else "?"
        )
        return False
    return True


async def _edit(interaction: discord.Interaction, text: str) -> None:
    try:
        await interaction.edit_original_response(content=text, allowed_mentions=NONE)
    except discord.HTTPException:
        log.warning("could not show the result of /%s", interaction.command.name if interaction.command else "?")
