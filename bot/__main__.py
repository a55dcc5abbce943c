"""`python -m bot`: the composition root. Exit status 2 means a setting needs fixing (or another bot process serves
the database), 1 that Discord is out of reach."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp
import discord

from bot.app import run_bot
from bot.logs import configure_logging
from jobs.lease import LeaseError
from model.local_backend import WorkerStartError
from settings.bot import load_bot_settings
from settings.environment import SettingsError

log = logging.getLogger("bot")


def main() -> int:
    try:
        settings = load_bot_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log.level, secrets=settings.secrets)
    try:
        asyncio.run(run_bot(settings))
    except discord.LoginFailure:
        print(
            "error: Discord rejected DISCORD_TOKEN. Copy a fresh token from the Bot page of your "
            "application in the Discord developer portal into .env.",
            file=sys.stderr,
        )
        return 2
    except aiohttp.ClientConnectorError as error:
        print(f"error: could not reach Discord at {settings.discord.api_url}: {error.os_error}", file=sys.stderr)
        return 1
    except LeaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except WorkerStartError as error:
        print(f"error: the video model could not start: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
