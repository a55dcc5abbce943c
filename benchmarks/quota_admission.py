"""How many credit reservations per second does admission sustain, and can concurrency overspend?

Runs the real admission path (JobAdmission.submit: member lock, limits, allowance, window sum,
job row, ledger row; concurrent submissions share one transaction) on the SQLite default (a WAL
file), with a backend that accepts everything and renders nothing. Reservations are spread over 200 members, 10 each.
Then 200 submissions at once from one member with 5 credits left, and 20 each at once from 50
members with 5 credits each: every reservation beyond 5 per member is an overshoot (must be 0).

    .venv/bin/python benchmarks/quota_admission.py [--reservations 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.database import Database
from jobs.admission import JobAdmission
from jobs.clock import SystemClock
from jobs.errors import QuotaExhausted
from jobs.quota import MAX_CREDITS, QuotaDefaults
from jobs.quota_policy import QuotaPolicy
from jobs.requests import VideoRequest
from model.presets import PRESETS

GUILD_ID = 900_000_000_000_000_001
CHANNEL_ID = 900_000_000_000_000_002
MEMBERS = 200


def service_for(database: Database, credits: int) -> JobAdmission:
    """Admission alone, as the bot wires it; queued jobs wait for a runner that never comes."""
    defaults = QuotaDefaults(credits=credits, max_active_jobs=MAX_CREDITS)
    clock = SystemClock()
    return JobAdmission(
        database=database,
        quota=QuotaPolicy(database=database, defaults=defaults, clock=clock),
        clock=clock,
        presets=PRESETS,
        served=lambda: {"tiny"},
        default_preset_id="tiny",
        on_queued=lambda: None,
    )


def request(user_id: int) -> VideoRequest:
    return VideoRequest(GUILD_ID, CHANNEL_ID, user_id, f"member{user_id}", {"prompt": "a fox running through snow"})


async def throughput(workdir: Path, submitters: int, reservations: int) -> float:
    database = Database(f"sqlite+aiosqlite:///{workdir / f'throughput-{submitters}.db'}")
    await database.migrate()
    service = service_for(database, credits=MAX_CREDITS)
    valid = [service.validate(request(member)) for member in range(1, MEMBERS + 1)]
    per_submitter = reservations // submitters

    async def submitter(offset: int) -> None:
        for n in range(per_submitter):
            await service.submit(valid[(offset + n * submitters) % MEMBERS])

    started = time.perf_counter()
    await asyncio.gather(*(submitter(offset) for offset in range(submitters)))
    elapsed = time.perf_counter() - started
    await database.dispose()
    return per_submitter * submitters / elapsed


async def overshoot(workdir: Path) -> int:
    """Reservations beyond each member's 5 credits, over two races."""
    database = Database(f"sqlite+aiosqlite:///{workdir / 'race.db'}")
    await database.migrate()
    service = service_for(database, credits=5)
    attempts = [request(1)] * 200 + [request(member) for member in range(2, 52) for _ in range(20)]
    outcomes = await asyncio.gather(*(service.submit(service.validate(r)) for r in attempts), return_exceptions=True)
    await database.dispose()
    accepted: dict[int, int] = {}
    for attempt, outcome in zip(attempts, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, QuotaExhausted):
                raise outcome
            continue
        accepted[attempt.user_id] = accepted.get(attempt.user_id, 0) + 1
    return sum(max(0, count - 5) for count in accepted.values())


async def main(reservations: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        single = await throughput(workdir, 1, reservations)
        fifty = await throughput(workdir, 50, reservations)
        over = await overshoot(workdir)
    print(f"reservations_per_second_1_submitter={single:.0f}")
    print(f"reservations_per_second_50_submitters={fifty:.0f}")
    print(f"overshoot={over}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reservations", type=int, default=2000)
    asyncio.run(main(parser.parse_args().reservations))
