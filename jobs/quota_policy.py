"""What a member may do right now: their allowance, window and limits, and the admission check.

Admission runs inside the caller's transaction (JobAdmission.submit), after locking the members'
rows, so each check and the reservation that follows it are one atomic step on every database.
It admits a batch of claims at once, in order, as if they had come one after another.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from common.states import WindowKind
from db.database import Database
from db.models import GuildSettings, MemberQuota, RoleTier
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.jobs import JobRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.members import MemberKey, MemberRepository
from db.repositories.role_tiers import RoleTierRepository
from jobs.clock import Clock
from jobs.errors import CoolingDown, MemberBanned, QuotaExhausted, RequestRefused, TooManyActiveJobs
from jobs.quota import Allowance, QuotaDefaults, QuotaWindow


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A member of a server, with the roles that may give them a tier."""

    guild_id: int
    user_id: int
    role_ids: frozenset[int] = frozenset()

    @property
    def key(self) -> MemberKey:
        return (self.guild_id, self.user_id)


@dataclass(frozen=True, slots=True)
class Admitted:
    credits_left: int | None  # after this job; None: no credit limit
    resets_at: datetime


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's quota as it is now, for /quota me and /quota show."""

    allowance: int | None  # None: no credit limit
    credits_left: int | None
    resets_at: datetime
    window: QuotaWindow
    active_jobs: int
    max_active_jobs: int
    override: int | None
    banned: bool
    ban_reason: str | None


@dataclass(slots=True)
class _Account:
    """A member's position in their window, read once per transaction and kept current as a batch admits."""

    row: MemberQuota | None
    window: QuotaWindow
    spent: int
    active_jobs: int
    oldest_spend: datetime | None

    def next_reset(self, now: datetime) -> datetime:
        return self.window.next_reset(now, self.oldest_spend)


@dataclass(frozen=True, slots=True)
class _Book:
    """Everything admission needs about some members, read in a handful of queries."""

    server_default: Mapping[int, int]
    tiers: Mapping[tuple[int, int], RoleTier]  # by (guild_id, role_id)
    accounts: Mapping[MemberKey, _Account]

    def allowance(self, member: MemberRef) -> Allowance:
        row = self.accounts[member.key].row
        tiers = (self.tiers.get((member.guild_id, role_id)) for role_id in member.role_ids)
        return Allowance.most_generous(
            self.server_default[member.guild_id],
            (None if tier.unlimited else tier.credits for tier in tiers if tier is not None),
            None if row is None else row.credits_override,
        )


class QuotaPolicy:
    def __init__(self, *, database: Database, defaults: QuotaDefaults, clock: Clock) -> None:
        self.database = database
        self.defaults = defaults
        self.clock = clock

    @property
    def cooldown(self) -> timedelta:
        return timedelta(seconds=self.defaults.cooldown_seconds)

    async def admit_all(
        self, session: AsyncSession, claims: Sequence[tuple[MemberRef, int]], now: datetime
    ) -> list[Admitted | RequestRefused]:
        """Admit each (member, cost) claim in order, or say why not; the caller reserves what was admitted."""
        rows = await MemberRepository(session).lock_all({member.key for member, _ in claims})
        book = await self._book(session, [member for member, _ in claims], rows, now)
        outcomes: list[Admitted | RequestRefused] = []
        for member, cost in claims:
            try:
                outcomes.append(self._admit(book, member, cost, now))
            except RequestRefused as refusal:
                outcomes.append(refusal)
        return outcomes

    def _admit(self, book: _Book, member: MemberRef, cost: int, now: datetime) -> Admitted:
        account = book.accounts[member.key]
        row = account.row
        assert row is not None  # admit_all locked (and so created) every member's row
        if row.banned:
            raise MemberBanned()
        if self.cooldown and row.last_submission_at is not None and now < row.last_submission_at + self.cooldown:
            raise CoolingDown(row.last_submission_at + self.cooldown)
        if account.active_jobs >= self.defaults.max_active_jobs:
            raise TooManyActiveJobs(self.defaults.max_active_jobs)
        credits_left = book.allowance(member).left(account.spent)
        if credits_left is not None and cost > credits_left:
            raise QuotaExhausted(cost, max(credits_left, 0), account.next_reset(now))
        account.spent += cost
        account.active_jobs += 1
        account.oldest_spend = account.oldest_spend or now
        row.last_submission_at = now
        return Admitted(None if credits_left is None else credits_left - cost, account.next_reset(now))

    async def standing(self, member: MemberRef) -> Standing:
        now = self.clock.now()
        async with self.database.transaction() as session:
            row = await MemberRepository(session).get(member.guild_id, member.user_id)
            book = await self._book(session, [member], {} if row is None else {member.key: row}, now)
        account = book.accounts[member.key]
        allowance = book.allowance(member)
        return Standing(
            allowance=allowance.credits,
            credits_left=allowance.left(account.spent),
            resets_at=account.next_reset(now),
            window=account.window,
            active_jobs=account.active_jobs,
            max_active_jobs=self.defaults.max_active_jobs,
            override=None if row is None else row.credits_override,
            banned=row is not None and row.banned,
            ban_reason=None if row is None else row.ban_reason,
        )

    async def window(self, session: AsyncSession, guild_id: int) -> QuotaWindow:
        return _window(await GuildSettingsRepository(session).get(guild_id))

    async def _book(
        self,
        session: AsyncSession,
        members: Collection[MemberRef],
        rows: Mapping[MemberKey, MemberQuota],
        now: datetime,
    ) -> _Book:
        keys = {member.key for member in members}
        guild_ids = {guild_id for guild_id, _ in keys}
        settings = await GuildSettingsRepository(session).of_guilds(guild_ids)
        role_ids = {role_id for member in members for role_id in member.role_ids}
        tiers = await RoleTierRepository(session).of_roles(guild_ids, role_ids)
        windows = {guild_id: _window(settings.get(guild_id)) for guild_id in guild_ids}
        starts = {guild_id: window.start(now) for guild_id, window in windows.items()}
        ledger = LedgerRepository(session)
        spent = await ledger.spent(starts, keys)
        rolling = {guild_id: starts[guild_id] for guild_id in guild_ids if windows[guild_id].kind is WindowKind.ROLLING}
        oldest = await ledger.oldest_spends(rolling, keys) if rolling else {}
        active = await JobRepository(session).count_active(keys)
        return _Book(
            server_default={guild_id: self._server_default(settings.get(guild_id)) for guild_id in guild_ids},
            tiers={(tier.guild_id, tier.role_id): tier for tier in tiers},
            accounts={
                key: _Account(rows.get(key), windows[key[0]], spent.get(key, 0), active.get(key, 0), oldest.get(key))
                for key in keys
            },
        )

    def _server_default(self, settings: GuildSettings | None) -> int:
        own_default = None if settings is None else settings.default_credits
        return self.defaults.credits if own_default is None else own_default


def _window(settings: GuildSettings | None) -> QuotaWindow:
    return QuotaWindow() if settings is None else QuotaWindow(settings.window, settings.reset_hour)
