"""Moderators' changes: each is validated, and each writes exactly one audit row with its change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from common.states import AuditAction, WindowKind
from db.database import Database
from db.models import AUDIT_VALUE_CHARS, AuditEntry
from jobs.errors import InvalidAmount, InvalidChoice, ReasonTooLong
from jobs.moderation import AUDIT_PAGE_SIZE, AuditView, ModerationService, Moderator
from jobs.quota import MAX_CREDITS
from tests.jobs.conftest import GUILD_ID, Jobs, ManualClock, video_request

MODERATOR = Moderator(GUILD_ID, 999)
MEMBER, ROLE = 1, 501


@pytest.fixture
def moderation(database: Database, service: Jobs, clock: ManualClock) -> ModerationService:
    return ModerationService(database=database, policy=service.quota, clock=clock)


async def audit_rows(database: Database) -> int:
    async with database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_every_change_writes_its_audit_row(
    moderation: ModerationService, service: Jobs, database: Database, clock: ManualClock
) -> None:
    await service.submit(service.validate(video_request(MEMBER)))
    changes: list[tuple[Callable[[], Awaitable[AuditView]], AuditAction, int | None, str | None, str | None]] = [
        (lambda: moderation.set_default(MODERATOR, 8), AuditAction.SET_DEFAULT, None, "5", "8"),
        (lambda: moderation.set_role(MODERATOR, ROLE, 12), AuditAction.SET_ROLE, ROLE, None, "12"),
        (
            lambda: moderation.set_role(MODERATOR, ROLE, None, unlimited=True),
            AuditAction.SET_ROLE,
            ROLE,
            "12",
            "unlimited",
        ),
        (lambda: moderation.set_role(MODERATOR, ROLE, None), AuditAction.SET_ROLE, ROLE, "unlimited", None),
        (lambda: moderation.set_member(MODERATOR, MEMBER, 20), AuditAction.SET_MEMBER, MEMBER, None, "20"),
        (lambda: moderation.set_member(MODERATOR, MEMBER, None), AuditAction.SET_MEMBER, MEMBER, "20", None),
        (lambda: moderation.reset(MODERATOR, MEMBER), AuditAction.RESET, MEMBER, "1", "0"),
        (lambda: moderation.grant(MODERATOR, MEMBER, 3), AuditAction.GRANT, MEMBER, None, "+3"),
        (lambda: moderation.reset(MODERATOR, MEMBER), AuditAction.RESET, MEMBER, "0", "0"),  # nothing spent
        (
            lambda: moderation.set_window(MODERATOR, WindowKind.DAILY, 6),
            AuditAction.WINDOW,
            None,
            "daily 00:00 UTC",
            "daily 06:00 UTC",
        ),
        (lambda: moderation.ban(MODERATOR, MEMBER, "spam"), AuditAction.BAN, MEMBER, None, "banned: spam"),
        (lambda: moderation.unban(MODERATOR, MEMBER), AuditAction.UNBAN, MEMBER, "banned: spam", None),
        (lambda: moderation.set_moderator_role(MODERATOR, ROLE), AuditAction.MODERATOR_ROLE, ROLE, None, str(ROLE)),
    ]
    for number, (change, action, target, before, after) in enumerate(changes, start=1):
        clock.advance(seconds=1)
        view = await change()
        assert (view.action, view.target_id, view.before, view.after) == (action, target, before, after)
        assert view.actor_id == MODERATOR.user_id and view.created_at == clock.current
        assert await audit_rows(database) == number

    newest_first = [action for _, action, _, _, _ in reversed(changes)]
    page = await moderation.audit_page(GUILD_ID)
    assert [entry.action for entry in page.entries] == newest_first[:AUDIT_PAGE_SIZE]
    assert page.older_than is not None
    older = await moderation.audit_page(GUILD_ID, page.older_than)
    assert [entry.action for entry in older.entries] == newest_first[AUDIT_PAGE_SIZE:]
    assert older.older_than is None
    assert (await moderation.audit_page(GUILD_ID + 1)).entries == ()  # another server's log is its own


@pytest.mark.parametrize("amount", [-1, MAX_CREDITS + 1, 10**30, "ten", "", "1.5", "-3", "1e3", 2.0, True, None, "٣"])
async def test_absurd_negative_and_non_numeric_amounts_are_refused_and_change_nothing(
    moderation: ModerationService, database: Database, amount: object
) -> None:
    changes: tuple[Callable[[], Awaitable[AuditView]], ...] = (
        lambda: moderation.set_default(MODERATOR, amount),
        lambda: moderation.set_member(MODERATOR, MEMBER, amount if amount is not None else "none"),
        lambda: moderation.set_role(MODERATOR, ROLE, amount if amount is not None else "none"),
        lambda: moderation.grant(MODERATOR, MEMBER, amount),
    )
    for change in changes:
        with pytest.raises(InvalidAmount) as refusal:
            await change()
        assert refusal.value.field == "credits"
    assert await audit_rows(database) == 0


async def test_amounts_at_the_edges_are_accepted(moderation: ModerationService) -> None:
    assert (await moderation.set_default(MODERATOR, 0)).after == "0"
    assert (await moderation.set_default(MODERATOR, " 42 ")).after == "42"
    assert (await moderation.set_member(MODERATOR, MEMBER, MAX_CREDITS)).after == str(MAX_CREDITS)
    with pytest.raises(InvalidAmount):
        await moderation.grant(MODERATOR, MEMBER, 0)  # a grant of nothing is a mistake


@pytest.mark.parametrize("hour", [-1, 24, "noon", 6.5])
async def test_a_bad_reset_hour_is_refused(moderation: ModerationService, database: Database, hour: object) -> None:
    with pytest.raises(InvalidAmount) as refusal:
        await moderation.set_window(MODERATOR, WindowKind.DAILY, hour)
    assert (refusal.value.field, refusal.value.minimum, refusal.value.maximum) == ("reset_hour", 0, 23)
    assert await audit_rows(database) == 0


async def test_a_long_ban_reason_is_refused(moderation: ModerationService, database: Database) -> None:
    with pytest.raises(ReasonTooLong):
        await moderation.ban(MODERATOR, MEMBER, "x" * 201)
    assert await audit_rows(database) == 0
    assert (await moderation.ban(MODERATOR, MEMBER, "   ")).after == "banned"


async def test_a_ban_with_the_longest_reason_is_cut_to_fit_the_audit_columns(
    moderation: ModerationService, database: Database
) -> None:
    reason = "r" * 200
    banned = await moderation.ban(MODERATOR, MEMBER, reason)
    assert banned.after is not None and len(banned.after) == AUDIT_VALUE_CHARS and banned.after.endswith("…")
    unbanned = await moderation.unban(MODERATOR, MEMBER)
    assert unbanned.before == banned.after
    async with database.transaction() as session:
        stored = (await session.execute(select(func.max(func.length(AuditEntry.after))))).scalar()
        longest_before = (await session.execute(select(func.max(func.length(AuditEntry.before))))).scalar()
    assert stored == longest_before == AUDIT_VALUE_CHARS


@pytest.mark.parametrize("kind", ["weekly", "", "DAILY", None, 3])
async def test_a_window_kind_discord_does_not_offer_is_refused(
    moderation: ModerationService, database: Database, kind: object
) -> None:
    with pytest.raises(InvalidChoice) as refusal:
        await moderation.set_window(MODERATOR, kind)
    assert (refusal.value.field, refusal.value.choices) == ("kind", ("daily", "rolling"))
    assert await audit_rows(database) == 0
    assert (await moderation.set_window(MODERATOR, "rolling")).after == "rolling"
