"""Moderators' control of their server's queue: pause and resume it, weigh roles in the fair order, and read it.

Each change writes its audit row in the same transaction, like jobs.moderation's. While a server is paused, /video
is refused there before anything is charged (jobs.admission), its queued jobs keep their turns but are not
dispatched (JobRepository.next_queued), and its running jobs finish; resuming wakes the runner. A role's weight
counts for the jobs admitted after it is set (each job stores its member's weight), never for those already queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from common.states import AuditAction, JobState
from db.database import Database
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.jobs import JobRepository
from db.repositories.role_tiers import DEFAULT_WEIGHT, RolePriorityRepository
from jobs.amounts import whole_number
from jobs.clock import Clock
from jobs.errors import QueueAlreadyPaused, QueueNotPaused
from jobs.moderation import AuditView, Moderator, write_audit

log = logging.getLogger(__name__)

MAX_WEIGHT = 10
QUEUE_PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A queued or running job as /queue show lists it."""

    job_id: int
    position: int  # JobRepository.positions: the place in the line every server's jobs share
    user_name: str
    preset_id: str
    state: JobState
    created_at: datetime


@dataclass(frozen=True, slots=True)
class QueuePage:
    entries: tuple[QueueEntry, ...]
    page: int  # from 0; the last page when the one asked for is past the end (the queue got shorter)
    pages: int  # at least 1, also when the queue is empty
    total: int
    paused: bool


class QueueControl:
    def __init__(self, *, database: Database, clock: Clock, on_resumed: Callable[[], None]) -> None:
        self.database = database
        self.clock = clock
        self._on_resumed = on_resumed

    async def pause(self, moderator: Moderator) -> AuditView:
        """Pause the server's queue; QueueAlreadyPaused if it is."""
        async with self.database.transaction() as session:
            if not await GuildSettingsRepository(session).set_paused(moderator.guild_id, paused=True):
                raise QueueAlreadyPaused()
            change = await write_audit(
                session, moderator, AuditAction.QUEUE_PAUSE, None, None, None, at=self.clock.now()
            )
        log.info("queue of server %s paused by %s", moderator.guild_id, moderator.user_id)
        return change

    async def resume(self, moderator: Moderator) -> AuditView:
        """Resume the server's queue and wake the runner for its waiting jobs; QueueNotPaused if it was not paused."""
        async with self.database.transaction() as session:
            if not await GuildSettingsRepository(session).set_paused(moderator.guild_id, paused=False):
                raise QueueNotPaused()
            change = await write_audit(
                session, moderator, AuditAction.QUEUE_RESUME, None, None, None, at=self.clock.now()
            )
        log.info("queue of server %s resumed by %s", moderator.guild_id, moderator.user_id)
        self._on_resumed()
        return change

    async def set_priority(self, moderator: Moderator, role_id: int, weight: object) -> AuditView:
        """Give the role's members `weight` turns per round in the fair order (1 to MAX_WEIGHT; 1 removes it)."""
        amount = whole_number(weight, field="weight", minimum=DEFAULT_WEIGHT, maximum=MAX_WEIGHT)
        async with self.database.transaction() as session:
            priorities = RolePriorityRepository(session)
            before = await priorities.weight(moderator.guild_id, role_id)
            await priorities.put(moderator.guild_id, role_id, amount)
            return await write_audit(
                session, moderator, AuditAction.QUEUE_PRIORITY, role_id, str(before), str(amount), at=self.clock.now()
            )

    async def length(self) -> int:
        """How many jobs wait or render on this bot, over every server it serves (what its presence shows)."""
        async with self.database.snapshot() as session:
            return await JobRepository(session).count_all_active()

    async def page(self, guild_id: int, page: int = 0) -> QueuePage:
        """The server's running then queued jobs, in the order they are served, QUEUE_PAGE_SIZE a page."""
        async with self.database.snapshot() as session:
            jobs = JobRepository(session)
            active = await jobs.active_in(guild_id)
            positions = await jobs.positions([job.id for job in active])
            paused = guild_id in await GuildSettingsRepository(session).paused_of((guild_id,))
        # A job is in both reads (one snapshot); sorted by place, the running ones come first.
        line = sorted(
            (
                QueueEntry(job.id, positions[job.id], job.user_name, job.preset_id, job.state, job.created_at)
                for job in active
            ),
            key=lambda entry: (entry.position, entry.job_id),
        )
        pages = max(1, -(-len(line) // QUEUE_PAGE_SIZE))
        shown = min(max(page, 0), pages - 1)
        entries = tuple(line[shown * QUEUE_PAGE_SIZE : (shown + 1) * QUEUE_PAGE_SIZE])
        return QueuePage(entries, shown, pages, len(line), paused)
