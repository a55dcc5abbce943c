"""Moderators' changes to quotas and bans. Each writes its change and its audit row in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.states import AuditAction, WindowKind
from db.database import Database
from db.models import AuditEntry, RoleTier
from db.repositories.audit import AuditRepository
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.members import MemberRepository
from db.repositories.role_tiers import RoleTierRepository
from jobs.amounts import whole_number
from jobs.clock import Clock
from jobs.errors import InvalidChoice, ReasonTooLong
from jobs.quota import MAX_CREDITS
from jobs.quota_policy import QuotaPolicy

MAX_REASON_CHARS = 200
AUDIT_PAGE_SIZE = 10
UNLIMITED = "unlimited"
BANNED = "banned"


@dataclass(frozen=True, slots=True)
class Moderator:
    guild_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class AuditView:
    """One audit row; `before` and `after` are the stored values, None where nothing was set."""

    id: int
    actor_id: int
    action: AuditAction
    target_id: int | None
    before: str | None
    after: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditView:
        return cls(entry.id, entry.actor_id, entry.action, entry.target_id, entry.before, entry.after, entry.created_at)


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditView, ...]
    older_than: int | None  # the cursor of the next (older) page, None on the last page


# A change reads the old value, writes the new one, and returns both as stored in the audit log.
Change = Callable[[AsyncSession], Awaitable[tuple[str | None, str | None]]]


class ModerationService:
    def __init__(self, *, database: Database, policy: QuotaPolicy, clock: Clock) -> None:
        self.database = database
        self.policy = policy
        self.clock = clock

    async def moderator_role(self, guild_id: int) -> int | None:
        async with self.database.transaction() as session:
            settings = await GuildSettingsRepository(session).get(guild_id)
            return None if settings is None else settings.moderator_role_id

    # -- the server's settings ---------------------------------------------------------

    async def set_default(self, moderator: Moderator, credits: object) -> AuditView:
        amount = _credits(credits, field="credits", minimum=0)

        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            settings = await GuildSettingsRepository(session).get_or_create(moderator.guild_id)
            before = self.policy.defaults.credits if settings.default_credits is None else settings.default_credits
            settings.default_credits = amount
            return str(before), str(amount)

        return await self._record(moderator, AuditAction.SET_DEFAULT, None, change)

    async def set_window(self, moderator: Moderator, kind: object, reset_hour: object = 0) -> AuditView:
        """`kind` is a WindowKind or its value; Discord does not check a command's choices, so this does."""
        window_kind = _window_kind(kind)
        hour = whole_number(reset_hour, field="reset_hour", minimum=0, maximum=23)

        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            settings = await GuildSettingsRepository(session).get_or_create(moderator.guild_id)
            before = _window_value(settings.window, settings.reset_hour)
            settings.window, settings.reset_hour = window_kind, hour
            return before, _window_value(window_kind, hour)

        return await self._record(moderator, AuditAction.WINDOW, None, change)

    async def set_moderator_role(self, moderator: Moderator, role_id: int | None) -> AuditView:
        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            settings = await GuildSettingsRepository(session).get_or_create(moderator.guild_id)
            before, settings.moderator_role_id = settings.moderator_role_id, role_id
            return _optional(before), _optional(role_id)

        return await self._record(moderator, AuditAction.MODERATOR_ROLE, role_id, change)

    async def set_role(
        self, moderator: Moderator, role_id: int, credits: object | None, *, unlimited: bool = False
    ) -> AuditView:
        """Give a role a tier (`credits`, or no limit with `unlimited`); neither removes its tier."""
        amount = None if credits is None or unlimited else _credits(credits, field="credits", minimum=0)

        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            tiers = RoleTierRepository(session)
            before = _tier_value(await tiers.get(moderator.guild_id, role_id))
            if unlimited:
                await tiers.put(moderator.guild_id, role_id, credits=0, unlimited=True)
                return before, UNLIMITED
            if amount is None:
                await tiers.remove(moderator.guild_id, role_id)
                return before, None
            await tiers.put(moderator.guild_id, role_id, credits=amount, unlimited=False)
            return before, str(amount)

        return await self._record(moderator, AuditAction.SET_ROLE, role_id, change)

    # -- members ---------------------------------------------------------------------

    async def set_member(self, moderator: Moderator, user_id: int, credits: object | None) -> AuditView:
        """Override a member's allowance; None clears the override."""
        amount = None if credits is None else _credits(credits, field="credits", minimum=0)

        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            member = await MemberRepository(session).lock(moderator.guild_id, user_id)
            before, member.credits_override = member.credits_override, amount
            return _optional(before), _optional(amount)

        return await self._record(moderator, AuditAction.SET_MEMBER, user_id, change)

    async def grant(self, moderator: Moderator, user_id: int, credits: object) -> AuditView:
        """One-off bonus credits. Like any ledger row, a grant counts in the window it is made in."""
        amount = _credits(credits, field="credits", minimum=1)

        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            await MemberRepository(session).lock(moderator.guild_id, user_id)
            await LedgerRepository(session).grant(
                guild_id=moderator.guild_id, user_id=user_id, credits=amount, at=self.clock.now()
            )
            return None, f"+{amount}"

        return await self._record(moderator, AuditAction.GRANT, user_id, change)

    async def reset(self, moderator: Moderator, user_id: int) -> AuditView:
        """Give back what the member spent in the current window: each reservation not yet refunded.

        Each is given back by its own ledger row, tied to its job and counting at the reservation's
        moment: in a rolling window it stops counting when that spend does, and a job that fails
        afterwards is not refunded a second time. Grants are left as they are. The audit row keeps
        the credits given back (before) and 0 (after).
        """

        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            await MemberRepository(session).lock(moderator.guild_id, user_id)
            now = self.clock.now()
            window = await self.policy.window(session, moderator.guild_id)
            given_back = await LedgerRepository(session).reset(
                guild_id=moderator.guild_id, user_id=user_id, since=window.start(now), at=now
            )
            return str(given_back), "0"

        return await self._record(moderator, AuditAction.RESET, user_id, change)

    async def ban(self, moderator: Moderator, user_id: int, reason: str | None = None) -> AuditView:
        cleaned = (reason or "").strip() or None
        if cleaned is not None and len(cleaned) > MAX_REASON_CHARS:
            raise ReasonTooLong(MAX_REASON_CHARS)
        return await self._set_ban(moderator, user_id, banned=True, reason=cleaned)

    async def unban(self, moderator: Moderator, user_id: int) -> AuditView:
        return await self._set_ban(moderator, user_id, banned=False, reason=None)

    async def _set_ban(self, moderator: Moderator, user_id: int, *, banned: bool, reason: str | None) -> AuditView:
        async def change(session: AsyncSession) -> tuple[str | None, str | None]:
            member = await MemberRepository(session).lock(moderator.guild_id, user_id)
            before = _ban_value(member.banned, member.ban_reason)
            member.banned, member.ban_reason = banned, reason
            return before, _ban_value(banned, reason)

        return await self._record(moderator, AuditAction.BAN if banned else AuditAction.UNBAN, user_id, change)

    # -- the audit log -----------------------------------------------------------------

    async def audit_page(self, guild_id: int, older_than: int | None = None) -> AuditPage:
        async with self.database.transaction() as session:
            rows = await AuditRepository(session).page(guild_id, before_id=older_than, limit=AUDIT_PAGE_SIZE + 1)
            entries = tuple(AuditView.of(row) for row in rows[:AUDIT_PAGE_SIZE])
        has_more = len(rows) > AUDIT_PAGE_SIZE
        return AuditPage(entries, entries[-1].id if has_more else None)

    async def _record(
        self, moderator: Moderator, action: AuditAction, target_id: int | None, change: Change
    ) -> AuditView:
        async with self.database.transaction() as session:
            before, after = await change(session)
            return await write_audit(session, moderator, action, target_id, before, after, at=self.clock.now())


async def write_audit(
    session: AsyncSession,
    moderator: Moderator,
    action: AuditAction,
    target_id: int | None,
    before: str | None,
    after: str | None,
    *,
    at: datetime,
) -> AuditView:
    """The audit row for a moderator's change, in the transaction that makes the change."""
    entry = AuditEntry(
        guild_id=moderator.guild_id,
        actor_id=moderator.user_id,
        action=action,
        target_id=target_id,
        before=before,
        after=after,
        created_at=at,
    )
    await AuditRepository(session).add(entry)
    return AuditView.of(entry)


def _credits(value: object, *, field: str, minimum: int) -> int:
    return whole_number(value, field=field, minimum=minimum, maximum=MAX_CREDITS)


def _optional(value: int | None) -> str | None:
    return None if value is None else str(value)


def _tier_value(tier: RoleTier | None) -> str | None:
    if tier is None:
        return None
    return UNLIMITED if tier.unlimited else str(tier.credits)


def _window_kind(value: object) -> WindowKind:
    choices = tuple(kind.value for kind in WindowKind)
    if isinstance(value, str) and value in choices:
        return WindowKind(value)
    raise InvalidChoice("kind", choices)


def _window_value(kind: WindowKind, reset_hour: int) -> str:
    return kind.value if kind is WindowKind.ROLLING else f"{kind.value} {reset_hour:02d}:00 UTC"


def _ban_value(banned: bool, reason: str | None) -> str | None:
    if not banned:
        return None
    return BANNED if reason is None else f"{BANNED}: {reason}"
