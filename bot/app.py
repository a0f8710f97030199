"""The bot object: `make_bot(settings, services)` builds it (`bot.runner.run_bot` runs it for `newsdesk bot`).

Nothing is created at import time. The bot holds its dependencies (settings, the shared `Services`, the feedback
store, the work queue, the rate limiter) and its cogs reach them through it, the shape of discord.py's
`examples/advanced_startup.py`. Discord endpoints (`DISCORD_API_BASE`, `DISCORD_GATEWAY_URL`) are applied when the bot
logs in, so the bot can sit behind an HTTP or gateway proxy, and tests point the real client at a fake Discord.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.feedback import FeedbackStore
from bot.limits import RateLimiter
from bot.workers import WorkQueue
from newsdesk.settings import Settings

if TYPE_CHECKING:
    from newsdesk.services import Services

log = logging.getLogger(__name__)

DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"


def bot_intents(settings: Settings | None = None) -> discord.Intents:
    """Guilds (servers, channels, roles), guild and DM messages, and, unless `NEWSDESK_MESSAGE_CONTENT=false`,
    message content.

    Message content is privileged (switched on in the Developer Portal; verified bots need Discord's approval).
    Discord sends the text of messages that mention the bot and of DMs without it, so mentions, DMs and slash
    commands work either way; only follow-ups in the bot's threads that do not mention it need it.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = settings.message_content if settings is not None else True
    return intents


def configure_endpoints(settings: Settings) -> None:
    """Point discord.py at Discord, or at the proxy (or fake Discord) the settings name.

    discord.py keeps both endpoints as class attributes, so this is process-wide; it is called on every login so a
    previous bot's endpoints never leak into the next one.
    """
    base = (settings.discord_api_base or DISCORD_API_BASE).rstrip("/")
    if not re.search(r"/api/v\d+$", base):
        base += "/api/v10"
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url or DISCORD_GATEWAY)


def _before_login(settings: Settings, token: str) -> None:
    """Endpoints from settings, and the token (plus any API key) redacted from every log handler from now on."""
    from bot.logs import install_redaction, settings_secrets

    configure_endpoints(settings)
    install_redaction([token, *settings_secrets(settings)])


STARTING_UP = "I'm starting up (loading the language model). Please try again in a few seconds."
NEEDS_MODEL = frozenset({"ask", "ingest"})  # commands that cannot run before the model is loaded


class NewsdeskTree(app_commands.CommandTree["Bot"]):
    """The command tree, with one global check: commands that need the model get an ephemeral "starting up"
    reply (never silence) while it loads. Commands registered by an earlier run are usable from the moment the
    gateway connects, before this run has warmed up."""

    async def interaction_check(self, interaction: discord.Interaction[Bot], /) -> bool:
        bot = interaction.client
        name = interaction.command.name if interaction.command is not None else None
        if name is None:
            data: dict[str, Any] = dict(interaction.data or {})
            name = str(data.get("name", ""))
        if (
            interaction.type is discord.InteractionType.application_command
            and name in NEEDS_MODEL
            and not bot.warm.is_set()
        ):
            await interaction.response.send_message(
                STARTING_UP, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return False
        return True


class _NewsdeskMixin:
    """What the plain and the auto-sharded bot share (a mixin, because discord.py has two bot base classes)."""

    settings: Settings
    services: Services
    feedback: FeedbackStore
    work: WorkQueue
    limiter: RateLimiter
    warm: asyncio.Event  # the model and the store are loaded: questions can be answered at once
    serving: asyncio.Event  # warm, connected, and the commands registered (or unchanged): fully started
    force_sync: bool

    def __init__(
        self,
        settings: Settings,
        services: Services,
        feedback: FeedbackStore | None = None,
        *,
        force_sync: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(**_bot_options(options, settings))  # the discord.py bot class that follows this mixin
        self._init_newsdesk(settings, services, feedback)
        self.force_sync = force_sync

    async def login(self, token: str) -> None:
        _before_login(self.settings, token)
        await super().login(token)  # type: ignore[misc]

    async def setup_hook(self) -> None:
        await _setup(self)  # type: ignore[arg-type]

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: questions by mention are handled by the Ask cog's listener."""

    async def wait_until_serving(self) -> None:
        """Until start-up is complete: warmed up, connected, commands registered."""
        await self.serving.wait()

    async def close(self) -> None:
        task = self._startup
        if task is not None and not task.done():
            task.cancel()
        await super().close()  # type: ignore[misc]
        self.feedback.close()

    def _init_newsdesk(self, settings: Settings, services: Services, feedback: FeedbackStore | None) -> None:
        self.settings = settings
        self.services = services
        self.feedback = feedback or FeedbackStore.open(settings)
        self.work = WorkQueue(settings.max_concurrent_answers, settings.max_queued_answers)
        self.limiter = RateLimiter(settings.user_cooldown_s, settings.guild_rate_per_minute)
        self.warm = asyncio.Event()
        self.serving = asyncio.Event()
        self._startup: asyncio.Task[None] | None = None

    def collection_for(self, guild_id: int | None) -> str | None:
        """A server's own collection (`guild-<id>`), so servers never see each other's articles; in DMs the
        configured `NEWSDESK_DM_COLLECTION`, or None when DMs are not served."""
        if guild_id is not None:
            return f"guild-{guild_id}"
        return self.settings.dm_collection or None

    async def article_count(self, collection: str) -> int | None:
        """How many articles `collection` holds, or None when that could not be told quickly (then answer as usual).

        Called before a slash command is answered, so it must never take long: a server that never ingested
        anything has no catalogue file (a stat on the loop); otherwise a count in a thread, given one second.
        """
        store = self.services.store
        try:
            if not store.has_collection(collection):
                return 0
            return await asyncio.wait_for(asyncio.to_thread(store.count_articles, collection), 1.0)
        except Exception:
            log.debug("could not count the articles of %s", collection, exc_info=True)
            return None


class NewsdeskBot(_NewsdeskMixin, commands.Bot):
    """One gateway connection: right for bots in fewer than ~1,000 servers."""


class ShardedNewsdeskBot(_NewsdeskMixin, commands.AutoShardedBot):
    """discord.py's AutoShardedBot with the same newsdesk parts (`DISCORD_SHARDS=auto` or a number)."""


Bot = NewsdeskBot | ShardedNewsdeskBot


def _bot_options(options: dict[str, Any], settings: Settings) -> dict[str, Any]:
    options.setdefault("command_prefix", commands.when_mentioned)
    options.setdefault("intents", bot_intents(settings))
    # Articles and questions can contain @everyone or role mentions: nothing the bot sends may ping anyone.
    options.setdefault("allowed_mentions", discord.AllowedMentions.none())
    options.setdefault("help_command", None)
    options.setdefault("tree_cls", NewsdeskTree)
    return options


async def _setup(bot: Bot) -> None:
    """Load the cogs and the persistent buttons, then start warming up while the gateway connects.

    Start-up order, so that no command is ever left unanswered: (1) the gateway connects at once, and while the
    model loads, commands registered by an earlier run get an ephemeral "starting up" reply; (2) the model and the
    store are warmed; (3) only then, once connected, are commands registered, and only if they changed.
    """
    from bot.cogs.ask import AskCog
    from bot.cogs.library import LibraryCog
    from bot.views import AnswerButton

    await bot.add_cog(AskCog(bot))
    await bot.add_cog(LibraryCog(bot))
    bot.add_dynamic_items(AnswerButton)
    bot.tree.on_error = _on_tree_error  # type: ignore[method-assign]
    bot._startup = asyncio.create_task(_start_up(bot), name="newsdesk-start-up")


async def _start_up(bot: Bot) -> None:
    await _warm_up(bot)
    bot.warm.set()
    await bot.wait_until_ready()
    try:
        await sync_commands(bot)
    except discord.HTTPException:
        log.exception("could not register the slash commands; commands registered earlier keep working")
    bot.serving.set()
    log.info("ready: answering questions")


async def _warm_up(bot: Bot) -> None:
    """Load the model and open the store before the first question, in a worker thread (never on the loop).

    Then move everything alive (the model, libraries, caches: millions of long-lived objects) out of the garbage
    collector's reach with `gc.freeze()`. Otherwise each full collection walks them all, which, measured under load,
    paused the event loop for 0.2-0.5 s at random moments; after freezing, collections only see new objects.
    """
    try:
        await asyncio.to_thread(_warm_blocking, bot.services)
    except Exception:
        log.warning("could not prepare the answer chain at start-up; will retry on the first question", exc_info=True)
    gc.collect()
    gc.freeze()


def _warm_blocking(services: Services) -> None:
    """Everything a first question would load: the chain, the embedding model, Chroma and a catalogue.

    With the offline answerer a whole question is answered (it also loads the sentence selector); with an LLM only
    retrieval runs, so no model call is made (and paid for) at start-up, and the parser the citation checks use is
    loaded.
    """
    chain = services.chain
    services.embedder.embed_documents(["warm up"])
    collections = services.store.collections()
    if not collections:
        return
    if services.settings.llm_provider == "none":
        chain.ask("What happened?", collection=collections[0])
    else:
        chain.retrieve("What happened?", collection=collections[0])
        from retrieval.parsing import shared_parser

        shared_parser().warm()  # the citation checks parse every answer; load spaCy before the first one


async def _on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """Anything a command did not handle: log it under an error id and tell the user, ephemerally."""
    from bot.answering import apology, new_error_id

    error_id = new_error_id()
    command = interaction.command.qualified_name if interaction.command else "?"
    log.error("error %s in /%s", error_id, command, exc_info=error)
    text = apology(error_id)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        log.warning("could not tell the user about error %s", error_id)


async def sync_commands(bot: Bot) -> list[str]:
    """Register the commands with `DISCORD_GUILD_IDS` (they appear there at once) or globally (Discord may take a
    while), only where the command tree changed since the last sync, or everywhere with `newsdesk bot --sync`."""
    from bot.command_sync import SyncRecord, sync_if_changed

    assert bot.application_id is not None
    return await sync_if_changed(
        bot.tree,
        bot.application_id,
        list(bot.settings.discord_guild_ids),
        SyncRecord(bot.settings.data_dir),
        force=bot.force_sync,
    )


def shard_option(settings: Settings) -> str | int | None:
    """`DISCORD_SHARDS` read: None (one connection), "auto", or a fixed shard count; anything else is a ValueError."""
    shards = (settings.discord_shards or "").strip().lower()
    if not shards:
        return None
    if shards == "auto":
        return "auto"
    if not shards.isdigit() or int(shards) < 1:
        raise ValueError(f"DISCORD_SHARDS must be 'auto' or a positive number, got {settings.discord_shards!r}")
    return int(shards)


def make_bot(
    settings: Settings,
    services: Services,
    *,
    feedback: FeedbackStore | None = None,
    force_sync: bool = False,
    **options: Any,
) -> Bot:
    """Build the bot (not started). `options` go to discord.py (tests pass a short `guild_ready_timeout`).

    `force_sync` registers the commands even when they did not change (`newsdesk bot --sync`).
    `DISCORD_SHARDS=auto` gives an `AutoShardedBot` that asks Discord how many shards to run; a number fixes the
    shard count; unset runs one connection, right for bots in fewer than ~1,000 servers.
    """
    shards = shard_option(settings)
    if shards is None:
        return NewsdeskBot(settings, services, feedback=feedback, force_sync=force_sync, **options)
    if isinstance(shards, int):
        options.setdefault("shard_count", shards)
    return ShardedNewsdeskBot(settings, services, feedback=feedback, force_sync=force_sync, **options)
