"""Admission and allowances against a real SQLite file (WAL) and the real engine."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from common.failures import Failure, FailureCode
from common.states import WindowKind
from db.database import Database
from db.models import Job
from jobs.errors import CoolingDown, MemberBanned, QuotaExhausted, TooManyActiveJobs
from jobs.moderation import ModerationService, Moderator
from jobs.quota import QuotaDefaults
from jobs.quota_policy import MemberRef
from model.contract import Failed
from tests.jobs.conftest import (
    GUILD_ID,
    Jobs,
    ManualClock,
    RecordingObserver,
    credits_left,
    make_service,
    video_request,
)
from tests.jobs.scripted_backend import ScriptedBackend

MODERATOR = Moderator(GUILD_ID, 999)
TIER_ROLE, BIG_TIER_ROLE, UNLIMITED_ROLE = 501, 502, 503

BOOM = Failure(FailureCode.RENDER_ERROR, {"error": "RuntimeError: boom"})


@pytest.fixture
def moderation(database: Database, service: Jobs, clock: ManualClock) -> ModerationService:
    return ModerationService(database=database, policy=service.quota, clock=clock)


async def submit(service: Jobs, user_id: int = 1, role_ids: frozenset[int] = frozenset()) -> int | None:
    """Submit one default clip; the credits left after it."""
    return (await service.submit(service.validate(video_request(user_id, role_ids=role_ids)))).credits_left


async def jobs_of(database: Database, user_id: int) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).where(Job.user_id == user_id)) or 0)


async def test_200_concurrent_submissions_with_5_credits_left_give_exactly_5_jobs(
    service: Jobs, database: Database, moderation: ModerationService
) -> None:
    await moderation.set_member(MODERATOR, 1, 8)
    for _ in range(3):
        await submit(service)
    assert await credits_left(service) == 5
    valid = service.validate(video_request())

    outcomes = await asyncio.gather(*(service.submit(valid) for _ in range(200)), return_exceptions=True)

    accepted = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    assert len(accepted) == 5
    assert all(isinstance(outcome, QuotaExhausted) for outcome in outcomes if isinstance(outcome, BaseException))
    assert sorted(ticket.credits_left for ticket in accepted if ticket.credits_left is not None) == [0, 1, 2, 3, 4]
    assert await jobs_of(database, 1) == 8
    assert await credits_left(service) == 0


async def test_daily_window_resets_at_the_servers_hour(
    service: Jobs, moderation: ModerationService, clock: ManualClock
) -> None:
    await moderation.set_window(MODERATOR, WindowKind.DAILY, 18)  # the clock says 12:00 UTC
    for _ in range(5):
        await submit(service)
    with pytest.raises(QuotaExhausted) as refusal:
        await submit(service)
    assert refusal.value.resets_at == clock.current.replace(hour=18)
    clock.advance(hours=5, minutes=59)
    assert await credits_left(service) == 0
    clock.advance(minutes=1)
    assert await credits_left(service) == 5


async def test_rolling_window_returns_each_spend_24_hours_later(
    service: Jobs, moderation: ModerationService, clock: ManualClock
) -> None:
    await moderation.set_window(MODERATOR, WindowKind.ROLLING)
    first_spend = clock.current
    for _ in range(3):
        await submit(service)
    clock.advance(hours=20)  # past midnight: a daily window would have reset
    for _ in range(2):
        await submit(service)
    with pytest.raises(QuotaExhausted) as refusal:
        await submit(service)
    assert refusal.value.resets_at == first_spend.replace(day=first_spend.day + 1)
    clock.advance(hours=4)
    assert await credits_left(service) == 3  # the first three came back, the last two still count
    clock.advance(hours=20)
    assert await credits_left(service) == 5


async def test_role_tiers_the_highest_wins_and_an_override_can_raise_it(
    service: Jobs, moderation: ModerationService
) -> None:
    await moderation.set_role(MODERATOR, TIER_ROLE, 7)
    await moderation.set_role(MODERATOR, BIG_TIER_ROLE, 12)
    both = frozenset({TIER_ROLE, BIG_TIER_ROLE})
    assert await credits_left(service, 1, both) == 12
    assert await credits_left(service, 1, frozenset({TIER_ROLE})) == 7
    assert await credits_left(service, 1) == 5  # the server default
    await moderation.set_member(MODERATOR, 1, 20)
    assert await credits_left(service, 1, both) == 20
    await moderation.set_member(MODERATOR, 1, 2)  # the most generous applies: an override never lowers a tier
    assert await credits_left(service, 1, both) == 12
    await moderation.set_default(MODERATOR, 15)
    assert await credits_left(service, 1, both) == 15
    await moderation.set_role(MODERATOR, BIG_TIER_ROLE, None)  # removed
    await moderation.set_default(MODERATOR, 0)
    assert await credits_left(service, 1, both) == 7


async def test_a_grant_adds_to_the_current_window_only(
    service: Jobs, moderation: ModerationService, clock: ManualClock
) -> None:
    for _ in range(5):
        await submit(service)
    await moderation.grant(MODERATOR, 1, 3)
    assert await submit(service) == 2
    clock.advance(days=1)
    assert await credits_left(service) == 5


async def test_reset_gives_back_the_windows_spend(service: Jobs, moderation: ModerationService) -> None:
    for _ in range(4):
        await submit(service)
    change = await moderation.reset(MODERATOR, 1)
    assert (change.before, change.after) == ("4", "0")
    assert await credits_left(service) == 5


async def test_reset_then_failures_do_not_give_credits_back_twice(
    service: Jobs, moderation: ModerationService, backend: ScriptedBackend, observer: RecordingObserver
) -> None:
    first = await service.submit(service.validate(video_request()))
    second = await service.submit(service.validate(video_request()))
    change = await moderation.reset(MODERATOR, 1)
    assert change.before == "2"
    assert await credits_left(service) == 5
    await backend.wait_submitted(2)
    backend.emit(Failed(first.job.id, BOOM))
    backend.emit(Failed(second.job.id, BOOM))
    await observer.wait(lambda: len(observer.failed) == 2)
    assert sorted(refunded for _, refunded in observer.failed) == [0, 0]
    assert await credits_left(service) == 5
    assert (await moderation.reset(MODERATOR, 1)).before == "0"  # nothing left to give back


async def test_reset_skips_jobs_already_refunded_and_keeps_grants(
    service: Jobs, moderation: ModerationService, backend: ScriptedBackend, observer: RecordingObserver
) -> None:
    refunded = await service.submit(service.validate(video_request()))
    for _ in range(3):
        await submit(service)
    await backend.wait_submitted(1)
    backend.emit(Failed(refunded.job.id, BOOM))
    await observer.wait(lambda: observer.failed)  # refunded: the reset must not give it back again
    await moderation.grant(MODERATOR, 1, 4)
    assert await credits_left(service) == 6
    assert (await moderation.reset(MODERATOR, 1)).before == "3"
    assert await credits_left(service) == 9  # the allowance and the grant


async def test_reset_in_a_rolling_window_leaves_it_with_the_spends_it_gave_back(
    service: Jobs, moderation: ModerationService, clock: ManualClock
) -> None:
    await moderation.set_window(MODERATOR, WindowKind.ROLLING)
    for _ in range(5):
        await submit(service)
    clock.advance(hours=23)
    await moderation.reset(MODERATOR, 1)
    for _ in range(5):
        await submit(service)
    clock.advance(hours=1)  # the first five and their reset leave the window together
    assert await credits_left(service) == 0
    with pytest.raises(QuotaExhausted):
        await submit(service)
    clock.advance(hours=23)
    assert await credits_left(service) == 5


async def test_an_unlimited_role_lifts_credits_but_not_the_active_jobs_limit(
    database: Database, backend: ScriptedBackend, clock: ManualClock
) -> None:
    service = make_service(database, backend, clock, QuotaDefaults(credits=1, max_active_jobs=3))
    moderation = ModerationService(database=database, policy=service.quota, clock=clock)
    await moderation.set_role(MODERATOR, UNLIMITED_ROLE, None, unlimited=True)
    unlimited = frozenset({UNLIMITED_ROLE})
    assert [await submit(service, 1, unlimited) for _ in range(3)] == [None, None, None]
    with pytest.raises(TooManyActiveJobs) as refusal:
        await submit(service, 1, unlimited)
    assert refusal.value.limit == 3
    await submit(service, 2)
    with pytest.raises(QuotaExhausted):
        await submit(service, 2)  # the role is what lifts the limit


async def test_max_active_jobs_counts_queued_and_running_only(
    database: Database, backend: ScriptedBackend, clock: ManualClock, observer: RecordingObserver
) -> None:
    service = make_service(database, backend, clock, QuotaDefaults(credits=10))  # the default: 2 at a time
    await service.start(observer)
    try:
        first = await service.submit(service.validate(video_request()))
        await submit(service)
        with pytest.raises(TooManyActiveJobs):
            await submit(service)
        await backend.wait_submitted(1)
        backend.emit(Failed(first.job.id, BOOM))
        await observer.wait(lambda: observer.failed)
        await submit(service)  # the failed one no longer counts
    finally:
        await service.close()


async def test_cooldown_between_submissions(database: Database, backend: ScriptedBackend, clock: ManualClock) -> None:
    service = make_service(database, backend, clock, QuotaDefaults(credits=10, max_active_jobs=10, cooldown_seconds=30))
    await submit(service)
    clock.advance(seconds=29)
    with pytest.raises(CoolingDown) as refusal:
        await submit(service)
    assert refusal.value.until == clock.current.replace(second=30)
    await submit(service, 2)  # another member's cooldown is their own
    clock.advance(seconds=1)
    await submit(service)


async def test_a_banned_member_is_refused_and_unbanned_again(
    service: Jobs, moderation: ModerationService, database: Database
) -> None:
    await moderation.ban(MODERATOR, 1, "spamming")
    with pytest.raises(MemberBanned):
        await submit(service, 1, frozenset({UNLIMITED_ROLE}))
    assert await jobs_of(database, 1) == 0
    standing = await service.quota.standing(MemberRef(GUILD_ID, 1))
    assert standing.banned and standing.ban_reason == "spamming"
    await moderation.unban(MODERATOR, 1)
    await submit(service)
