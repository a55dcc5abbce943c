"""`python -m bot`: the composition root. Exit status 2 means a setting needs fixing (or another bot process serves
the database, or something else holds the web gallery's port), 1 that Discord is out of reach. `python -m bot --check`
checks the set-up and exits (bot.check)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import aiohttp
import discord

from bot.app import GalleryPortUnavailable, run_bot
from bot.check import run_check
from bot.logs import configure_logging
from jobs.lease import LeaseError
from model.local_backend import WorkerStartError
from settings.bot import load_bot_settings
from settings.environment import SettingsError

log = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_bot_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        return run_check(settings)
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
    except (LeaseError, GalleryPortUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except WorkerStartError as error:
        print(f"error: the video model could not start: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Run the promptreel Discord bot.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the settings, the database, DATA_DIR, the preset and the device, then exit (0 ready, 2 not)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
