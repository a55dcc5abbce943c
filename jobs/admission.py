"""Taking a /video request in: check it, price it, then admit, charge and queue it in one transaction.

Nothing is charged unless the job is queued in the same commit; a refused request leaves no trace
but its refusal (a RequestRefused, data the bot turns into words). A server whose queue a moderator paused
refuses every request (QueuePaused) before its members' quotas are even looked at, and so does every server once the
render backend could not start (ModelUnavailable): nothing would render the job.

Each job records its member's weight in the fair order (the highest priority among their roles, read in the same
transaction), so dispatching it needs nothing from Discord.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from common.states import JobState
from db.database import Database
from db.models import Job
from db.repositories.guild_settings import GuildSettingsRepository
from db.repositories.jobs import JobRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.role_tiers import DEFAULT_WEIGHT, RolePriorityRepository
from jobs.blocklist_strikes import BlocklistStrikes
from jobs.clip_options import PRESET_OPTION, durations, resolve_clip
from jobs.clock import Clock
from jobs.errors import ModelUnavailable, PresetUnavailable, PromptBlocked, QueuePaused, RequestRefused
from jobs.group_commit import GroupCommit
from jobs.pricing import clip_cost, default_clip_cost
from jobs.prompt_flags import apply_flags
from jobs.prompts import clean_display_name
from jobs.quota_policy import Admitted, MemberRef, QuotaPolicy
from jobs.records import clip_columns
from jobs.requests import ValidRequest, VideoRequest
from jobs.server_rules import RulesCache
from jobs.views import JobView, Ticket
from model.presets import Preset

log = logging.getLogger(__name__)


class JobAdmission:
    def __init__(
        self,
        *,
        database: Database,
        quota: QuotaPolicy,
        clock: Clock,
        presets: Mapping[str, Preset],
        served: Callable[[], Collection[str]],
        default_preset_id: str,
        on_queued: Callable[[], None],
        start_failed: Callable[[], bool] = lambda: False,
    ) -> None:
        self.database = database
        self.quota = quota
        self.clock = clock
        self.presets = presets
        self.served = served
        self.default_preset_id = default_preset_id
        self._on_queued = on_queued
        self._start_failed = start_failed
        """Whether the render backend could not start (JobRunner.start_failed): nothing renders, nothing is taken."""
        self.rules = RulesCache(database)
        """The servers' rules as screening reads them; ServerRulesService's changes forget a server's (on_changed)."""
        self.strikes = BlocklistStrikes()
        """Members' recent blocklist refusals: too many hold their requests back a while (jobs.blocklist_strikes)."""
        self._submissions: GroupCommit[ValidRequest, Ticket] = GroupCommit(self._submit_batch)

    @property
    def served_presets(self) -> tuple[str, ...]:
        """What the render backend serves now: with remote workers, the union of theirs."""
        return tuple(sorted(self.served()))

    def validate(self, request: VideoRequest) -> ValidRequest:
        """Check everything that needs no database, the prompt's flags applied first; raises a RequestRefused
        subclass."""
        options, flags = apply_flags(request.options)
        preset = self._preset_asked(options)
        clip = resolve_clip(preset, options)
        return ValidRequest(request, preset, clip, clip_cost(preset, clip), flags)

    async def screen(self, request: VideoRequest) -> ValidRequest:
        """Everything checked before the member is shown the price: the options (validate), then the server's own
        rules (jobs.server_rules: where, which presets, its maxima, its blocklist), read in one snapshot when they
        are not in memory. A member who keeps sending prompts its blocklist refuses is held back a while
        (jobs.blocklist_strikes). Raises a RequestRefused subclass; nothing is charged either way."""
        if self._start_failed():  # first: nothing would render it, wherever it is asked
            raise ModelUnavailable()
        rules = await self.rules.get(request.guild_id)
        rules.check_channel(request)  # in the wrong place, nothing else matters
        member = (request.guild_id, request.user_id)
        self.strikes.check(member, self.clock.now())
        try:
            return rules.check(self.validate(request), self._served_catalogue())
        except PromptBlocked:
            self.strikes.strike(member, self.clock.now())
            raise

    async def screen_durations(self, request: VideoRequest) -> dict[int, ValidRequest]:
        """What screen passes of the request with each duration its preset offers in place of its own (an option's or
        a flag's), by seconds, shortest first: the durations it would refuse left out. For suggestions as a member
        types, so the server's rules are read once at most (RulesCache). Raises a RequestRefused where no duration
        would pass: a channel the server does not allow, a preset not served, a flag without its value."""
        rules = await self.rules.get(request.guild_id)
        rules.check_channel(request)
        preset = self._preset_asked(apply_flags(request.options)[0])  # a flag may name it
        served = self._served_catalogue()
        screened: dict[int, ValidRequest] = {}
        for seconds in durations(preset):
            asked = dataclasses.replace(request, options={**request.options, "duration": seconds})
            try:
                screened[seconds] = rules.check(self.validate(asked), served)
            except RequestRefused:
                continue
        return screened

    def default_clip_cost(self) -> int:
        return default_clip_cost(self._served_preset(self.default_preset_id))

    def served_costs(self) -> dict[str, int]:
        """What each served preset's default clip costs, by preset id in served_presets' order."""
        return {
            preset_id: default_clip_cost(self.presets[preset_id])
            for preset_id in self.served_presets
            if preset_id in self.presets
        }

    async def submit(self, valid: ValidRequest) -> Ticket:
        """Admit, charge and queue the job in one transaction, or raise why not (a RequestRefused).

        Submissions that arrive together share that transaction (group commit), each admitted in turn.
        """
        return await self._submissions.submit(valid)

    async def _submit_batch(self, batch: Sequence[ValidRequest]) -> list[Ticket | Exception]:
        if self._start_failed():  # screened before the render backend's start failed: still, nothing is charged
            return [ModelUnavailable() for _ in batch]
        now = self.clock.now()
        async with self.database.transaction() as session:
            paused = await GuildSettingsRepository(session).paused_of({valid.request.guild_id for valid in batch})
            claims = [(_member(valid.request), valid.cost) for valid in batch if valid.request.guild_id not in paused]
            admissions = iter(await self.quota.admit_all(session, claims, now))
            decisions: list[Admitted | RequestRefused] = [
                QueuePaused() if valid.request.guild_id in paused else next(admissions) for valid in batch
            ]
            weights = await _weights(session, batch)
            admitted = [
                (_job_for(valid, now, weights[_member(valid.request)]), decision)
                for valid, decision in zip(batch, decisions, strict=True)
                if isinstance(decision, Admitted)
            ]
            await JobRepository(session).add_all([job for job, _ in admitted])
            await LedgerRepository(session).reserve((job for job, _ in admitted), now)
            views = [(JobView.of(job), decision) for job, decision in admitted]
        self._on_queued()
        positions = await self._positions([view.id for view, _ in views])
        tickets = iter(
            Ticket(view, positions.get(view.id, 1), decision.credits_left, decision.resets_at)
            for view, decision in views
        )
        return [next(tickets) if isinstance(decision, Admitted) else decision for decision in decisions]

    async def _positions(self, job_ids: list[int]) -> Mapping[int, int]:
        """Each job's place in the fair order (a batch may hold several members' jobs), read in one query after
        the commit, outside the write lock the next batch waits for. Only a courtesy: the jobs are queued and
        charged already, so a failed read costs the member their exact place in line, never their job."""
        try:
            async with self.database.snapshot() as session:
                return await JobRepository(session).positions(job_ids)
        except Exception:
            log.exception("could not read the queue positions of jobs %s", job_ids)
            return {}

    def _served_catalogue(self) -> tuple[Preset, ...]:
        return tuple(self.presets[preset_id] for preset_id in self.served_presets if preset_id in self.presets)

    def _preset_asked(self, options: Mapping[str, object]) -> Preset:
        """The preset the options (flags applied) ask for, else the default one; PresetUnavailable if not served."""
        return self._served_preset(str(options.get(PRESET_OPTION) or self.default_preset_id))

    def _served_preset(self, preset_id: str) -> Preset:
        if preset_id not in self.presets or preset_id not in self.served():
            raise PresetUnavailable(preset_id, self.served_presets)
        return self.presets[preset_id]


def _member(request: VideoRequest) -> MemberRef:
    return MemberRef(request.guild_id, request.user_id, request.role_ids)


async def _weights(session: AsyncSession, batch: Sequence[ValidRequest]) -> dict[MemberRef, int]:
    """Each member's weight in the fair order: the highest priority among their roles (a role without one weighs 1)."""
    members = {_member(valid.request) for valid in batch}
    priorities = await RolePriorityRepository(session).of_roles(
        {member.guild_id for member in members}, {role_id for member in members for role_id in member.role_ids}
    )
    return {
        member: max(
            (priorities.get((member.guild_id, role_id), DEFAULT_WEIGHT) for role_id in member.role_ids),
            default=DEFAULT_WEIGHT,
        )
        for member in members
    }


def _job_for(valid: ValidRequest, now: datetime, priority_weight: int) -> Job:
    request, preset = valid.request, valid.preset
    return Job(
        state=JobState.QUEUED,
        guild_id=request.guild_id,
        channel_id=request.channel_id,
        user_id=request.user_id,
        user_name=clean_display_name(request.user_name),
        **clip_columns(valid.clip),
        max_bytes=request.max_bytes,
        cost=valid.cost,
        model_id=preset.repo,
        licence=preset.licence,
        licence_url=preset.licence_url,
        authors=preset.authors,
        priority_weight=priority_weight,
        locale=request.locale[:16],
        created_at=now,
    )
