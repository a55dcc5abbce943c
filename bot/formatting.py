"""Small text helpers for Discord: safe user text, progress bars, durations."""

from __future__ import annotations

import discord
from babel.numbers import format_decimal

from bot.messages import language_of, text

BAR_WIDTH = 20


def safe_user_text(text: str, limit: int) -> str:
    """Markdown- and mention-escaped text that fits in `limit` characters without a broken escape."""
    escaped = _escape(text)
    if len(escaped) <= limit:
        return escaped
    # Cut the raw text, never the escaped one, so no escape sequence is split: find the
    # longest raw prefix whose escaped form still leaves room for the ellipsis.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_escape(text[:middle])) < limit:
            low = middle
        else:
            high = middle - 1
    return _escape(text[:low]) + "…"


def _escape(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def progress_bar(step: int, total: int) -> str:
    filled = round(BAR_WIDTH * step / total) if total > 0 else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def seconds(value: float, locale: str) -> str:
    """A duration in the locale's words and decimal mark: "7.5 s" and "1 min 05 s", or "7,5 giây"."""
    if value < 60:
        return text("time.seconds", locale, seconds=format_decimal(value, "0.0", locale=language_of(locale)))
    minutes, rest = divmod(int(value), 60)
    return text("time.minutes", locale, minutes=minutes, seconds=f"{rest:02d}")
