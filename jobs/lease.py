"""One bot process per database: a lease in the database that the running process renews.

Two processes pointed at one database would both dispatch the queue and both post. The first takes the
lease and renews it every `renew_every` seconds; it lasts `seconds`, so a process killed without a word
frees it that long after its last renewal, and releases it on a clean stop. A second process that finds
the lease held waits out that one lease period, since a bot restarted right after a crash finds its own
dead predecessor's lease, and then, if the holder renewed it meanwhile (it is alive), stops with
LeaseHeld: it must not serve, and waiting longer would hide the mistake.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from db.database import Database
from db.repositories.lease import LeaseRepository
from jobs.clock import Clock, SystemClock

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
RENEW_SECONDS = 10.0
WAIT_MARGIN_SECONDS = 1.0


class LeaseError(Exception):
    """This process may not serve the database."""


class LeaseHeld(LeaseError):
    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            f"another promptreel process is using this database (lease held until {until:%H:%M:%S} UTC); stop it first"
        )


class LeaseLost(LeaseError):
    def __init__(self) -> None:
        super().__init__(
            "this process lost its lease on the database (it could not renew it in time, and another promptreel "
            "process took it over); stopped"
        )


class InstanceLease:
    def __init__(
        self,
        database: Database,
        *,
        clock: Clock | None = None,
        seconds: float = LEASE_SECONDS,
        renew_every: float = RENEW_SECONDS,
        holder: str | None = None,
    ) -> None:
        if not 0 < renew_every < seconds:
            raise ValueError("the lease must be renewed more often than it lasts")
        self.database = database
        self.clock = clock or SystemClock()
        self.seconds = seconds
        self.renew_every = renew_every
        self.holder = holder or f"{socket.gethostname()[:40]}-{secrets.token_hex(8)}"
        self.lost = False

    async def acquire(self) -> None:
        """Take the lease; wait out a held one once; raise LeaseHeld if its holder is still renewing it."""
        held_until = await self._take()
        if held_until is None:
            return
        wait = (held_until - self.clock.now()).total_seconds() + WAIT_MARGIN_SECONDS
        log.warning(
            "another process holds this database's lease until %s UTC; waiting %.0f s in case it has stopped",
            f"{held_until:%H:%M:%S}",
            wait,
        )
        await asyncio.sleep(max(0.0, min(wait, self.seconds + WAIT_MARGIN_SECONDS)))
        held_until = await self._take()
        if held_until is not None:
            raise LeaseHeld(held_until)

    async def keep(self, on_lost: Callable[[], object]) -> None:
        """Renew the lease until cancelled; if another process took it over, set `lost`, call on_lost and return."""
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                async with self.database.transaction() as session:
                    renewed = await LeaseRepository(session).renew(self.holder, until=self._until())
            except Exception:  # a locked or unreachable database: try again; the lease outlasts two misses
                log.exception("could not renew the database lease; trying again in %g s", self.renew_every)
                continue
            if not renewed:
                log.error("another process took over this database's lease; stopping")
                self.lost = True
                on_lost()
                return

    async def release(self) -> None:
        try:
            async with self.database.transaction() as session:
                await LeaseRepository(session).release(self.holder)
        except Exception:  # it expires by itself
            log.exception("could not release the database lease; it expires in %g s", self.seconds)

    async def _take(self) -> datetime | None:
        async with self.database.transaction() as session:
            return await LeaseRepository(session).take(self.holder, now=self.clock.now(), until=self._until())

    def _until(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.seconds)
