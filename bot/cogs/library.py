"""A server's knowledge base: `/ingest` (a URL or an attached file), `/articles`, `/forget`.

Adding and removing articles changes what everyone in the server is told, so only members with Manage Server, or
with the role named by `NEWSDESK_INGEST_ROLE`, may do it; others get an ephemeral refusal. Listing is open to all.
Each server only ever touches its own collection (`guild-<id>`).
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
from bot.answering import BUSY, UNAVAILABLE, apology, new_error_id
from bot.views import Pager
from bot.workers import Busy
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


def can_manage(interaction: discord.Interaction, ingest_role: str | None) -> bool:
    """Manage Server (Administrator implies it), or a role with the configured name."""
    if interaction.guild is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    roles = getattr(interaction.user, "roles", [])
    return bool(ingest_role) and any(role.name == ingest_role for role in roles)


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
    async def ingest(
        self, interaction: discord.Interaction, url: str | None = None, file: discord.Attachment | None = None
    ) -> None:
        """Managers only: fetch the URL or read the file, then reply with the ingest summary."""
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
        name = file.filename if file is not None else str(url)
        try:
            await interaction.response.send_message(
                f"⏳ Ingesting **{discord.utils.escape_markdown(render.shorten(name, 200))}**…", allowed_mentions=NONE
            )
            services = self.bot.services
            if file is not None:
                data = await file.read()
                filename = file.filename
                # `services.ingestor` is built lazily (it may load the model), so it is touched in the worker only.
                report = await ticket.run(lambda: services.ingestor.ingest_bytes(filename, data, collection))
            else:
                report = await ticket.run(lambda: services.ingestor.ingest([str(url)], collection))
            text = ("✅ " if report.ok else "⚠️ ") + report_text(render.shorten(name, 200), report)
        except StoreUnavailable:
            text = UNAVAILABLE
        except Exception:
            error_id = new_error_id()
            log.exception("error %s while ingesting %s", error_id, name)
            text = apology(error_id)
        finally:
            ticket.cancel()  # give the place in the queue back (a no-op once the ticket has run)
        await interaction.edit_original_response(content=text, allowed_mentions=NONE)

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
    async def forget(self, interaction: discord.Interaction, article: str) -> None:
        if not can_manage(interaction, self.bot.settings.ingest_role):
            await interaction.response.send_message(self._refusal(), ephemeral=True, allowed_mentions=NONE)
            return
        collection = self.bot.collection_for(interaction.guild_id)
        assert collection is not None
        try:
            removed = await asyncio.to_thread(self._forget, collection, article)
        except StoreUnavailable:
            await interaction.response.send_message(UNAVAILABLE, ephemeral=True, allowed_mentions=NONE)
            return
        shown = discord.utils.escape_markdown(render.shorten(article, 200))
        if removed:
            await interaction.response.send_message(f"🗑️ Removed `{shown}`.", allowed_mentions=NONE)
        else:
            await interaction.response.send_message(
                f"There is no article `{shown}` in this server (see /articles).", ephemeral=True, allowed_mentions=NONE
            )

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
