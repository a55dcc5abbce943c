"""A server's safety settings, set by its moderators: where /video may be used, the terms its prompts may not hold,
the presets it allows, and its own maxima for a clip's duration and steps.

Admission reads a server's rules in one snapshot (read_rules, kept in memory until they change: RulesCache) and
checks each request against them before the member is shown a price (JobAdmission.screen), so a refusal costs
nothing:

- Channels: with none listed, /video may be used wherever the bot can post; otherwise only in the listed channels and
  their threads.
- Presets: one the server turned off is refused, naming those it may use. One the operator marked sensitive
  (Preset.sensitive) is refused unless the server allows sensitive presets and the channel is age-restricted.
- Maxima only lower a preset's own. An option the member set (or typed as a flag) above one is refused; a default
  above one is lowered to it (the longest duration the preset offers within it), and the clip priced again, so the
  first answer shows what will be rendered and charged.
- The blocklist (jobs.blocklist) is the server's terms, and the built-in ones (jobs.default_blocklist) if the server
  switched them on. A term refused everywhere refuses the prompt everywhere; a sensitive one, outside age-restricted
  channels. The prompt and the member's negative prompt are checked (the preset's own negative prompt is not the
  member's words); the refusal never names the term. A text that folds into too many words to match
  (jobs.blocklist.TooManyWords) is refused as too long; a member refused by the blocklist again and again is held
  back a while (jobs.blocklist_strikes, by the admission).

Every moderator change (ServerRulesService) writes its audit row in the same transaction; one that would change
nothing is refused (SettingUnchanged) and audits nothing. Setting both maxima at once makes the change that changes
something (audited alone) and is refused only when neither does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from common.states import AuditAction
from db.database import Database
from db.repositories.server_rules import Maximum, ServerRulesRepository, StoredRules, Switch
from jobs.amounts import whole_number
from jobs.blocklist import Blocklist, Entry, Severity, TooManyWords, blocklist_of, parse_term
from jobs.clip_options import MAX_DURATION_SECONDS, durations, frames_of
from jobs.clock import Clock
from jobs.default_blocklist import DEFAULT_ENTRIES
from jobs.errors import (
    AboveServerMaximum,
    ChannelNotAllowed,
    PresetDisabled,
    PresetUnavailable,
    PromptBlocked,
    PromptRejected,
    SensitivePresetRefused,
    SettingsListFull,
    SettingUnchanged,
)
from jobs.moderation import AuditView, Moderator, write_audit
from jobs.pricing import clip_cost
from jobs.requests import ValidRequest, VideoRequest
from model.presets import MAX_STEPS, Preset
from model.prompts import MAX_PROMPT_CHARS

MAX_VIDEO_CHANNELS = 25
MAX_BLOCKED_TERMS = 100
ON, OFF = "on", "off"
"""A switch's values in the audit log."""


@dataclass(frozen=True, slots=True)
class ListedTerm:
    """A term of the server's blocklist: as the moderator typed it, its folded key, and whether it is refused only
    outside age-restricted channels."""

    term: str
    key: str
    sensitive: bool


@dataclass(frozen=True, slots=True)
class ServerRules:
    """A server's rules as read at one moment; a server that set nothing has these defaults (no rules at all)."""

    channel_ids: frozenset[int] = frozenset()
    """Where /video may be used; empty: anywhere the bot can post."""
    terms: tuple[ListedTerm, ...] = ()
    default_blocklist: bool = False
    sensitive_presets: bool = False
    """Presets marked sensitive are allowed in age-restricted channels (never elsewhere); False: nowhere."""
    disabled_presets: frozenset[str] = frozenset()
    max_duration_seconds: int | None = None
    max_steps: int | None = None

    @classmethod
    def of(cls, stored: StoredRules) -> ServerRules:
        settings = stored.settings
        return cls(
            channel_ids=frozenset(stored.channel_ids),
            terms=tuple(ListedTerm(term.term, term.key, term.sensitive) for term in stored.terms),
            default_blocklist=settings is not None and settings.default_blocklist,
            sensitive_presets=settings is not None and settings.sensitive_presets,
            disabled_presets=frozenset(stored.disabled_presets),
            max_duration_seconds=None if settings is None else settings.max_duration_seconds,
            max_steps=None if settings is None else settings.max_steps,
        )

    @property
    def blocklist(self) -> Blocklist:
        entries = frozenset(Entry(term.key, term.sensitive) for term in self.terms)
        return blocklist_of(entries | DEFAULT_ENTRIES if self.default_blocklist else entries)

    def check_channel(self, request: VideoRequest) -> None:
        """Refuse a request made outside the server's /video channels (ChannelNotAllowed)."""
        if self.channel_ids and not {request.channel_id, request.parent_channel_id} & self.channel_ids:
            raise ChannelNotAllowed(tuple(sorted(self.channel_ids)))

    def check(self, valid: ValidRequest, served: Iterable[Preset]) -> ValidRequest:
        """The request within the server's preset rules, maxima and blocklist (its defaults lowered to the maxima and
        priced again), or the RequestRefused that says why not. `served` are the presets the bot serves now."""
        request = valid.request
        if valid.preset.id in self.disabled_presets:
            allowed = tuple(preset.id for preset in served if self.allows_preset(preset, request))
            raise PresetDisabled(valid.preset.id, allowed)
        if not self.allows_preset(valid.preset, request):
            raise SensitivePresetRefused(valid.preset.id, age_restricted_only=self.sensitive_presets)
        within = self._within_maxima(valid)
        self._check_blocklist(within)
        return within

    def allows_preset(self, preset: Preset, request: VideoRequest) -> bool:
        if preset.id in self.disabled_presets:
            return False
        return not preset.sensitive or (self.sensitive_presets and request.age_restricted)

    def _within_maxima(self, valid: ValidRequest) -> ValidRequest:
        preset, clip = valid.preset, valid.clip
        chosen = _chosen_options(valid)
        if self.max_steps is not None and clip.steps > self.max_steps:
            if "steps" in chosen or self.max_steps < preset.min_steps:
                raise AboveServerMaximum("steps", self.max_steps)
            clip = dataclasses.replace(clip, steps=self.max_steps)
        if self.max_duration_seconds is not None and clip.frames - 1 > self.max_duration_seconds * clip.fps:
            within = [seconds for seconds in durations(preset) if seconds <= self.max_duration_seconds]
            if "duration" in chosen or not within:
                raise AboveServerMaximum("duration", self.max_duration_seconds)
            clip = dataclasses.replace(clip, frames=frames_of(preset, within[-1]))
        if clip == valid.clip:
            return valid
        return dataclasses.replace(valid, clip=clip, cost=clip_cost(preset, clip))

    def _check_blocklist(self, valid: ValidRequest) -> None:
        blocklist = self.blocklist
        texts: list[tuple[Literal["prompt", "negative_prompt"], str]] = [("prompt", valid.clip.prompt)]
        if valid.clip.negative_prompt != valid.preset.negative_prompt:
            texts.append(("negative_prompt", valid.clip.negative_prompt))
        hits = [(field, severity) for field, text in texts if (severity := _hits(blocklist, field, text)) is not None]
        refused: list[tuple[Literal["prompt", "negative_prompt"], Severity]] = [
            (field, severity)
            for field, severity in hits
            if severity == "everywhere" or not valid.request.age_restricted
        ]
        if refused:
            field, severity = min(refused, key=lambda hit: hit[1] != "everywhere")  # the stricter one first
            raise PromptBlocked(field, age_restricted_only=severity == "outside_age_restricted")


def _hits(blocklist: Blocklist, field: Literal["prompt", "negative_prompt"], text: str) -> Severity | None:
    """The blocklist's verdict on the text; one that folds into too many words to match is refused as too long."""
    try:
        return blocklist.hits(text)
    except TooManyWords:
        raise PromptRejected(field, "too_long", MAX_PROMPT_CHARS) from None


def _chosen_options(valid: ValidRequest) -> Collection[str]:
    """The /video options the member set, as options or as flags typed in the prompt."""
    given = {name for name, value in valid.request.options.items() if value is not None}
    return given | {flag.option for flag in valid.flags.applied}


async def read_rules(database: Database, guild_id: int) -> ServerRules:
    """The server's rules, read in one snapshot (it neither waits for writers nor holds them up)."""
    async with database.snapshot() as session:
        return ServerRules.of(await ServerRulesRepository(session).read(guild_id))


class RulesCache:
    """Each server's rules as /video's screening last read them, kept until a moderator changes them: a burst of
    requests costs one read per server, not one each. Exact because every change goes through ServerRulesService in
    this process (one bot process serves a database: jobs.lease), which calls forget once it has committed; a read
    that a change overtook is not kept (each forget starts a new generation)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._rules: dict[int, ServerRules] = {}
        self._generations: dict[int, int] = {}
        self._reading: dict[int, asyncio.Task[ServerRules]] = {}
        """The read under way for a server: a burst that finds the cache cold waits for one read, not one each (a
        hundred reads at once would queue for the database's connections, and every answer with them)."""

    async def get(self, guild_id: int) -> ServerRules:
        cached = self._rules.get(guild_id)
        if cached is not None:
            return cached
        reading = self._reading.get(guild_id)
        if reading is None:
            reading = self._reading[guild_id] = asyncio.create_task(self._read(guild_id))
        return await asyncio.shield(reading)  # one waiter's cancellation must not cancel the others' read

    async def _read(self, guild_id: int) -> ServerRules:
        generation = self._generations.get(guild_id, 0)
        try:
            rules = await read_rules(self.database, guild_id)
        finally:
            if self._reading.get(guild_id) is asyncio.current_task():
                del self._reading[guild_id]
        if self._generations.get(guild_id, 0) == generation:
            self._rules[guild_id] = rules
        return rules

    def forget(self, guild_id: int) -> None:
        self._rules.pop(guild_id, None)
        self._reading.pop(guild_id, None)  # a read a change overtook is neither kept nor shared with later requests
        self._generations[guild_id] = self._generations.get(guild_id, 0) + 1


Audited = tuple[AuditAction, int | None, str | None, str | None]
"""A change as the audit log keeps it: its action, its target, and the values before and after."""


class ServerRulesService:
    """Moderators' changes to their server's rules; `presets` is the catalogue, whose ids may be turned off, and
    `on_changed` is told each server whose rules a change committed (RulesCache.forget)."""

    def __init__(
        self, *, database: Database, clock: Clock, presets: Mapping[str, Preset], on_changed: Callable[[int], None]
    ) -> None:
        self.database = database
        self.clock = clock
        self.presets = presets
        self._on_changed = on_changed

    async def rules(self, guild_id: int) -> ServerRules:
        """The server's rules as they are now, for moderators to see."""
        return await read_rules(self.database, guild_id)

    # -- where /video may be used ------------------------------------------------------

    async def add_channel(self, moderator: Moderator, channel_id: int) -> AuditView:
        async def change(rules: ServerRulesRepository) -> Audited:
            if await rules.count_channels(moderator.guild_id) >= MAX_VIDEO_CHANNELS:
                raise SettingsListFull("channels", MAX_VIDEO_CHANNELS)
            if not await rules.add_channel(moderator.guild_id, channel_id):
                raise SettingUnchanged(AuditAction.VIDEO_CHANNEL_ADD)
            return AuditAction.VIDEO_CHANNEL_ADD, channel_id, None, None

        return await self._record(moderator, change)

    async def remove_channel(self, moderator: Moderator, channel_id: int) -> AuditView:
        async def change(rules: ServerRulesRepository) -> Audited:
            if not await rules.remove_channel(moderator.guild_id, channel_id):
                raise SettingUnchanged(AuditAction.VIDEO_CHANNEL_REMOVE)
            return AuditAction.VIDEO_CHANNEL_REMOVE, channel_id, None, None

        return await self._record(moderator, change)

    # -- the blocklist -----------------------------------------------------------------

    async def block(self, moderator: Moderator, typed: object, *, sensitive: bool) -> AuditView:
        """Add a term (InvalidTerm if it is not one), or change whether an existing one is refused everywhere or
        only outside age-restricted channels."""
        term = parse_term(typed)
        action = AuditAction.BLOCKLIST_ADD_SENSITIVE if sensitive else AuditAction.BLOCKLIST_ADD

        async def change(rules: ServerRulesRepository) -> Audited:
            stored = await rules.term(moderator.guild_id, term.key)
            if stored is not None and stored.sensitive == sensitive:
                raise SettingUnchanged(action)
            if stored is None and await rules.count_terms(moderator.guild_id) >= MAX_BLOCKED_TERMS:
                raise SettingsListFull("blocklist", MAX_BLOCKED_TERMS)
            before = None if stored is None else stored.term
            now = self.clock.now()
            await rules.put_term(moderator.guild_id, term.key, term.typed, sensitive=sensitive, at=now)
            return action, None, before, term.typed

        return await self._record(moderator, change)

    async def unblock(self, moderator: Moderator, typed: object) -> AuditView:
        """Remove a term, however it is spelled now (`BAO LUC` removes `bạo lực`)."""
        term = parse_term(typed)

        async def change(rules: ServerRulesRepository) -> Audited:
            stored = await rules.term(moderator.guild_id, term.key)
            if stored is None or not await rules.remove_term(moderator.guild_id, term.key):
                raise SettingUnchanged(AuditAction.BLOCKLIST_REMOVE)
            return AuditAction.BLOCKLIST_REMOVE, None, stored.term, None

        return await self._record(moderator, change)

    async def set_default_blocklist(self, moderator: Moderator, on: bool) -> AuditView:
        return await self._switch(moderator, "default_blocklist", AuditAction.BLOCKLIST_DEFAULT, on)

    # -- presets -----------------------------------------------------------------------

    async def set_sensitive_presets(self, moderator: Moderator, on: bool) -> AuditView:
        """Allow presets marked sensitive in age-restricted channels (on), or nowhere (off)."""
        return await self._switch(moderator, "sensitive_presets", AuditAction.SENSITIVE_PRESETS, on)

    async def disable_preset(self, moderator: Moderator, preset_id: str) -> AuditView:
        if preset_id not in self.presets:
            raise PresetUnavailable(preset_id, tuple(self.presets))

        async def change(rules: ServerRulesRepository) -> Audited:
            if not await rules.disable_preset(moderator.guild_id, preset_id):
                raise SettingUnchanged(AuditAction.PRESET_DISABLE)
            return AuditAction.PRESET_DISABLE, None, None, preset_id

        return await self._record(moderator, change)

    async def enable_preset(self, moderator: Moderator, preset_id: str) -> AuditView:
        async def change(rules: ServerRulesRepository) -> Audited:
            if not await rules.enable_preset(moderator.guild_id, preset_id):
                raise SettingUnchanged(AuditAction.PRESET_ENABLE)
            return AuditAction.PRESET_ENABLE, None, preset_id, None

        return await self._record(moderator, change)

    # -- the server's maxima -------------------------------------------------------------

    async def set_limits(
        self, moderator: Moderator, *, seconds: object = None, steps: object = None
    ) -> tuple[AuditView, ...]:
        """Set the server's longest clip (whole seconds) and most denoising steps per clip; None leaves one as it is,
        0 removes it. Both in one transaction, each one that changes audited; refused (SettingUnchanged, naming the
        first given) only when none changes, and before anything changes when a number is out of range
        (InvalidAmount). Nothing given: nothing to do."""
        wanted: list[tuple[Maximum, AuditAction, int | None]] = []
        if seconds is not None:
            amount = whole_number(seconds, field="max_seconds", minimum=0, maximum=MAX_DURATION_SECONDS)
            wanted.append(("max_duration_seconds", AuditAction.MAX_DURATION, amount or None))
        if steps is not None:
            amount = whole_number(steps, field="max_steps", minimum=0, maximum=MAX_STEPS)
            wanted.append(("max_steps", AuditAction.MAX_STEPS, amount or None))
        if not wanted:
            return ()

        async def change(rules: ServerRulesRepository) -> list[Audited]:
            changes: list[Audited] = []
            for name, action, value in wanted:
                changed, before = await rules.set_maximum(moderator.guild_id, name, value)
                if changed:
                    changes.append((action, None, _optional(before), _optional(value)))
            if not changes:
                raise SettingUnchanged(wanted[0][1])
            return changes

        return await self._record_all(moderator, change)

    async def _switch(self, moderator: Moderator, name: Switch, action: AuditAction, on: bool) -> AuditView:
        async def change(rules: ServerRulesRepository) -> Audited:
            if not await rules.set_switch(moderator.guild_id, name, on):
                raise SettingUnchanged(action)
            return action, None, OFF if on else ON, ON if on else OFF

        return await self._record(moderator, change)

    async def _record(
        self, moderator: Moderator, change: Callable[[ServerRulesRepository], Awaitable[Audited]]
    ) -> AuditView:
        """Make the change and write its audit row in one transaction; once it is committed, say so (on_changed)."""

        async def changes(rules: ServerRulesRepository) -> list[Audited]:
            return [await change(rules)]

        (audited,) = await self._record_all(moderator, changes)
        return audited

    async def _record_all(
        self, moderator: Moderator, change: Callable[[ServerRulesRepository], Awaitable[list[Audited]]]
    ) -> tuple[AuditView, ...]:
        """Make the changes and write an audit row for each in one transaction; once it is committed, say so."""
        async with self.database.transaction() as session:
            changes = await change(ServerRulesRepository(session))
            now = self.clock.now()
            audited = [await write_audit(session, moderator, *changed, at=now) for changed in changes]
        self._on_changed(moderator.guild_id)
        return tuple(audited)


def _optional(value: int | None) -> str | None:
    return None if value is None else str(value)
