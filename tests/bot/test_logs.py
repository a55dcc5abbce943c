from __future__ import annotations

import logging
import sys

from bot.logs import REDACTED, RedactingFormatter

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.secret-part"


def format_record(message: str, *args: object, exc_info: bool = False) -> str:
    formatter = RedactingFormatter([TOKEN, ""], "%(message)s")
    try:
        raise RuntimeError(f"login failed for {TOKEN}")
    except RuntimeError:
        record = logging.getLogger("test").makeRecord(
            "test", logging.ERROR, __file__, 1, message, args, exc_info=sys.exc_info() if exc_info else None
        )
    return formatter.format(record)


def test_the_bot_token_is_cut_from_messages_arguments_and_tracebacks() -> None:
    line = format_record("sending %s to Discord", TOKEN, exc_info=True)
    assert TOKEN not in line
    assert line.count(REDACTED) == 2
    assert "RuntimeError: login failed for" in line


def test_interaction_and_webhook_tokens_are_cut_from_urls() -> None:
    line = format_record(
        "PATCH https://discord.com/api/v10/webhooks/1180301113546006528/aW50ZXJhY3Rpb246MTIz/messages/@original "
        "and POST /interactions/1184011822290812999/aW50ZXJhY3Rpb246NDU2/callback?with_response=1"
    )
    assert "aW50ZXJhY3Rpb246" not in line
    assert f"/webhooks/1180301113546006528/{REDACTED}/messages/@original" in line
    assert f"/interactions/1184011822290812999/{REDACTED}/callback" in line
