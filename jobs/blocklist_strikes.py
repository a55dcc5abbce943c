"""Members who keep sending prompts the blocklist refuses are held back a while, so the list cannot be probed.

A blocklist refusal charges nothing and never names the term, but without a limit a member could still map the list
by trying prompt after prompt. STRIKES refusals within WINDOW hold the member's /video (and Reroll) back for HOLD,
refused as a cooldown (CoolingDown: the same words, which say when to try again and nothing about the list).

Counted per member of a server, in memory: one bot process serves a database (jobs.lease), and a restart that forgets
the strikes forgives a few minutes' hold at most. Memory stays bounded: once more than MAX_TRACKED members have
strikes, those whose strikes and hold have all run out are swept.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from jobs.errors import CoolingDown

STRIKES = 5
WINDOW = timedelta(minutes=10)
HOLD = timedelta(minutes=10)
MAX_TRACKED = 10_000

Member = tuple[int, int]
"""A member of a server: its guild id and user id."""


class BlocklistStrikes:
    def __init__(self) -> None:
        self._strikes: dict[Member, deque[datetime]] = {}
        self._held: dict[Member, datetime] = {}

    def check(self, member: Member, now: datetime) -> None:
        """Refuse a member who is held back (CoolingDown, saying until when)."""
        until = self._held.get(member)
        if until is None:
            return
        if now < until:
            raise CoolingDown(until)
        del self._held[member]

    def strike(self, member: Member, now: datetime) -> None:
        """Count a blocklist refusal; the STRIKES-th within WINDOW holds the member back for HOLD from now."""
        strikes = self._strikes.setdefault(member, deque())
        strikes.append(now)
        while strikes[0] <= now - WINDOW:
            strikes.popleft()
        if len(strikes) >= STRIKES:
            del self._strikes[member]
            self._held[member] = now + HOLD
        if self.tracked > MAX_TRACKED:
            self._sweep(now)

    @property
    def tracked(self) -> int:
        """Members with strikes or a hold kept in memory."""
        return len(self._strikes) + len(self._held)

    def _sweep(self, now: datetime) -> None:
        self._strikes = {member: times for member, times in self._strikes.items() if times[-1] > now - WINDOW}
        self._held = {member: until for member, until in self._held.items() if until > now}
