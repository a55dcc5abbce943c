"""The single-instance lease: two processes' engines on one SQLite file."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from jobs.lease import InstanceLease, LeaseHeld

SECONDS, RENEW = 1.0, 0.2


@pytest.fixture
async def other(tmp_path: Path, database: Database) -> AsyncIterator[Database]:
    """A second engine on the same file, as a second bot process has."""
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    yield other
    await other.dispose()


def lease(database: Database, name: str) -> InstanceLease:
    return InstanceLease(database, seconds=SECONDS, renew_every=RENEW, holder=name)


async def test_a_held_lease_stops_the_second_process_with_one_clear_line(database: Database, other: Database) -> None:
    first, second = lease(database, "first"), lease(other, "second")
    await first.acquire()
    keeper = asyncio.create_task(first.keep(on_lost=lambda: None))
    try:
        started = time.monotonic()
        with pytest.raises(LeaseHeld) as held:
            await second.acquire()
        assert time.monotonic() - started >= SECONDS * 0.5  # it waited out one lease period first
    finally:
        keeper.cancel()
    message = str(held.value)
    assert re.fullmatch(
        r"another promptreel process is using this database \(lease held until \d\d:\d\d:\d\d UTC\); stop it first",
        message,
    )
    assert not first.lost


async def test_a_released_lease_is_taken_at_once(database: Database, other: Database) -> None:
    first, second = lease(database, "first"), lease(other, "second")
    await first.acquire()
    await first.release()
    started = time.monotonic()
    await second.acquire()
    assert time.monotonic() - started < SECONDS * 0.5


async def test_a_killed_holders_lease_expires_and_the_next_process_takes_it(
    database: Database, other: Database
) -> None:
    await lease(database, "killed").acquire()  # never renewed, never released: the process was killed
    second = lease(other, "second")
    await second.acquire()  # waits for the expiry, then takes it
    keeper = asyncio.create_task(second.keep(on_lost=lambda: None))
    try:
        with pytest.raises(LeaseHeld):  # and now it is the holder others find
            await lease(database, "third").acquire()
    finally:
        keeper.cancel()


async def test_a_holder_that_lost_its_lease_is_told(database: Database, other: Database) -> None:
    first = lease(database, "first")
    await first.acquire()
    await asyncio.sleep(SECONDS + 0.1)  # the first process stalled past its lease
    await lease(other, "second").acquire()
    lost = asyncio.Event()
    await asyncio.wait_for(first.keep(on_lost=lost.set), timeout=5)
    assert first.lost and lost.is_set()


def test_a_lease_must_be_renewed_more_often_than_it_lasts(database: Database) -> None:
    with pytest.raises(ValueError):
        InstanceLease(database, seconds=10, renew_every=10)
