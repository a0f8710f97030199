"""`newsdesk bot`: the process around the bot: logging, configuration checks, exit codes.

Exit codes: 0 after a clean stop (Ctrl-C, SIGTERM from systemd), 2 for a configuration error that restarting will
not fix (no token, a token Discord rejects, the Message Content intent switched off, a bad `DISCORD_SHARDS`), so a
service manager can stop retrying (`RestartPreventExitStatus=2`).
"""

from __future__ import annotations

import asyncio
import logging
import signal

import discord

from bot.app import make_bot, shard_option
from bot.logs import setup_logging
from newsdesk.settings import Settings

log = logging.getLogger("bot")

EXIT_CONFIG_ERROR = 2


def run_bot(settings: Settings, *, sync: bool = False) -> int:
    """`newsdesk bot`: run until interrupted; returns the process exit code (2 for a configuration error).

    `sync` (`newsdesk bot --sync`) registers the slash commands even when they did not change since the last run.
    """
    from newsdesk.services import Services

    setup_logging(settings)
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        log.error(
            "DISCORD_TOKEN is not set. Create a bot in the Discord Developer Portal, copy its token, and put "
            "DISCORD_TOKEN=... in .env or the environment (see the README's Discord section)."
        )
        return EXIT_CONFIG_ERROR
    try:
        shard_option(settings)
    except ValueError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG_ERROR
    services = Services(settings)

    async def main() -> None:
        async with make_bot(settings, services, force_sync=sync) as bot:
            # systemd stops services with SIGTERM: close the gateway and the stores cleanly, as Ctrl-C does.
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, lambda: loop.create_task(bot.close()))
            await bot.start(token)

    try:
        asyncio.run(main())
    except discord.LoginFailure:
        log.error("Discord rejected the token (DISCORD_TOKEN): check it in the Developer Portal (Bot > Reset Token).")
        return EXIT_CONFIG_ERROR
    except discord.PrivilegedIntentsRequired:
        log.error(
            "The Message Content intent is not enabled for this bot: Developer Portal > Bot > Privileged Gateway "
            "Intents > Message Content Intent; or set NEWSDESK_MESSAGE_CONTENT=false (mentions, DMs and slash "
            "commands still work; follow-ups in threads then need a mention)."
        )
        return EXIT_CONFIG_ERROR
    except KeyboardInterrupt:
        pass
    finally:
        services.close()
    return 0
