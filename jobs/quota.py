"""The quota rules as plain values: windows, the bot's defaults, and what a member is allowed.

A member's allowance per window is the most generous of the server default, the tiers of
their roles and their own override; an unlimited role lifts the credit limit altogether.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from common.states import WindowKind

WINDOW_LENGTH = timedelta(days=1)
RESOLUTION = timedelta(microseconds=1)  # the finest time every supported database stores
MAX_CREDITS = 1_000_000  # per window, tier, override or grant; more is a typo, not a policy


@dataclass(frozen=True, slots=True)
class QuotaDefaults:
    """Server-wide defaults from the bot's settings; servers may change the credits and the window."""

    credits: int
    max_active_jobs: int = 2
    cooldown_seconds: int = 0


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    """The period a member's spending counts in: a day from `reset_hour` UTC, or the last 24 hours."""

    kind: WindowKind = WindowKind.DAILY
    reset_hour: int = 0

    def start(self, now: datetime) -> datetime:
        if self.kind is WindowKind.ROLLING:
            # A spend counts for exactly 24 hours: at spend + 24 h (next_reset) it is back.
            return now - WINDOW_LENGTH + RESOLUTION
        reset_today = datetime.combine(now.astimezone(UTC).date(), time(self.reset_hour), UTC)
        return reset_today if now >= reset_today else reset_today - WINDOW_LENGTH

    def next_reset(self, now: datetime, oldest_spend: datetime | None = None) -> datetime:
        """When credits next come back. A rolling window returns each spend 24 hours after it was made."""
        if self.kind is WindowKind.ROLLING:
            return (oldest_spend or now) + WINDOW_LENGTH
        return self.start(now) + WINDOW_LENGTH


@dataclass(frozen=True, slots=True)
class Allowance:
    """Credits per window, or None for no limit (an unlimited role)."""

    credits: int | None

    @classmethod
    def most_generous(cls, server_default: int, tiers: Iterable[int | None], override: int | None) -> Allowance:
        """`tiers` holds each of the member's role tiers, None for an unlimited one."""
        candidates = [server_default, *tiers, *([] if override is None else [override])]
        if None in candidates:
            return cls(None)
        return cls(max(credit for credit in candidates if credit is not None))

    def left(self, spent: int) -> int | None:
        return None if self.credits is None else self.credits - spent
