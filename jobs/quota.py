"""The daily allowance: how many credits a member may spend and when that resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone


@dataclass(frozen=True, slots=True)
class DailyQuota:
    """`credits` per member per server, resetting every day at `reset_hour` UTC."""

    credits: int
    reset_hour: int = 0

    def window_start(self, now: datetime) -> datetime:
        reset_today = datetime.combine(now.astimezone(timezone.utc).date(), time(self.reset_hour), timezone.utc)
        return reset_today if now >= reset_today else reset_today - timedelta(days=1)

    def next_reset(self, now: datetime) -> datetime:
        return self.window_start(now) + timedelta(days=1)
