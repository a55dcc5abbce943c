"""Small text helpers for Discord: safe user text, progress bars, durations."""

from __future__ import annotations

import discord

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


def seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    return f"{minutes} min {rest:02d} s"
