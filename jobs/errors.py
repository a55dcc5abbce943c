"""Why a request was refused. Each carries data, never wording: the bot owns every user-facing string."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from common.states import AuditAction
from model.prompts import PromptProblem


class RequestRefused(Exception):
    """Base class: the member asked for something the bot will not do. Nothing was charged."""


@dataclass
class PromptRejected(RequestRefused):
    field: Literal["prompt", "negative_prompt"]
    problem: PromptProblem
    limit: int


@dataclass
class SeedOutOfRange(RequestRefused):
    maximum: int


@dataclass
class AspectUnavailable(RequestRefused):
    """The aspect is not one of those the preset renders well (anything may arrive: a crafted request, a flag)."""

    aspect: object
    preset_id: str
    aspects: tuple[str, ...]


@dataclass
class DurationUnavailable(RequestRefused):
    """Not a whole number of seconds the preset's frame range allows at its fps."""

    seconds: object
    preset_id: str
    allowed: tuple[int, ...]


@dataclass
class StepsOutOfRange(RequestRefused):
    """Not a whole number within the preset's bounds (Preset.min_steps to max_steps)."""

    steps: object
    preset_id: str
    minimum: int
    maximum: int


@dataclass
class FlagWithoutValue(RequestRefused):
    """A flag typed in the prompt (`--seed`) with nothing after it to apply."""

    flag: str


@dataclass
class PresetUnavailable(RequestRefused):
    preset_id: str
    served: tuple[str, ...]


@dataclass
class QuotaExhausted(RequestRefused):
    cost: int
    credits_left: int
    resets_at: datetime


class MemberBanned(RequestRefused):
    """A moderator banned the member from making videos; the reason is for moderators only."""


@dataclass
class TooManyActiveJobs(RequestRefused):
    limit: int


@dataclass
class CoolingDown(RequestRefused):
    until: datetime


@dataclass
class InvalidAmount(RequestRefused):
    """A moderator's number is not a whole number within [minimum, maximum]; nothing changed."""

    field: str
    minimum: int
    maximum: int


@dataclass
class ReasonTooLong(RequestRefused):
    limit: int


@dataclass
class InvalidChoice(RequestRefused):
    """A moderator's option is not one of the choices Discord offers (a crafted request); nothing changed."""

    field: str
    choices: tuple[str, ...]


@dataclass
class NoSuchJob(RequestRefused):
    job_id: int


@dataclass
class NotYourJob(RequestRefused):
    """Only the job's requester, or a moderator of its server, may cancel it."""

    job_id: int


@dataclass
class JobFinished(RequestRefused):
    """Rendered, posted, failed or cancelled already: there is nothing left to cancel."""

    job_id: int


class QueuePaused(RequestRefused):
    """A moderator paused this server's queue (/queue pause): no new job until they resume it."""


class ModelUnavailable(RequestRefused):
    """The render backend could not start (the model cannot load): nothing would render, so no job is taken."""


class QueueAlreadyPaused(RequestRefused):
    """/queue pause on a paused queue; nothing changed."""


class QueueNotPaused(RequestRefused):
    """/queue resume on a queue that is not paused; nothing changed."""


@dataclass
class NotInGallery(RequestRefused):
    """No clip of this server by that number is in the gallery: never delivered, deleted, or another server's."""

    job_id: int


@dataclass
class AlreadyHidden(RequestRefused):
    """A moderator hid this clip already; nothing changed."""

    job_id: int


@dataclass
class NotHidden(RequestRefused):
    """/gallery unhide of a clip no moderator hid; nothing changed."""

    job_id: int


@dataclass
class ClipWithdrawn(RequestRefused):
    """A moderator hid the clip from the gallery, or its creator deleted it from there: nobody makes it again."""

    job_id: int


# The server's safety settings (jobs.server_rules): what /video refuses, and what a moderator's change does.


@dataclass
class ChannelNotAllowed(RequestRefused):
    """The server allows /video only in these channels (a thread counts as its parent)."""

    channel_ids: tuple[int, ...]


@dataclass
class PresetDisabled(RequestRefused):
    """The server's moderators turned this preset off; `allowed` are the served presets it may use here."""

    preset_id: str
    allowed: tuple[str, ...]


@dataclass
class SensitivePresetRefused(RequestRefused):
    """The operator marked the preset sensitive: the server allows it in age-restricted channels (and this is not
    one), or, where `age_restricted_only` is False, nowhere."""

    preset_id: str
    age_restricted_only: bool


@dataclass
class AboveServerMaximum(RequestRefused):
    """The member asked for more than the server's maximum (its own, below the preset's)."""

    option: Literal["duration", "steps"]
    maximum: int


@dataclass
class PromptBlocked(RequestRefused):
    """The text holds a term of the server's blocklist. Which term is never said: members must not be able to probe
    the list. `age_restricted_only`: every term it holds is allowed in age-restricted channels."""

    field: Literal["prompt", "negative_prompt"]
    age_restricted_only: bool


@dataclass
class InvalidTerm(RequestRefused):
    """A moderator's blocklist term is empty, too long, of too many words, or too broad (`limit` is the bound it
    broke: characters, words, or letters besides wildcards); nothing changed."""

    problem: Literal["empty", "too_long", "too_many_words", "too_broad"]
    limit: int


@dataclass
class SettingsListFull(RequestRefused):
    """The server's channel list or blocklist holds as many entries as it may; nothing changed."""

    list_name: Literal["channels", "blocklist"]
    limit: int


@dataclass
class SettingUnchanged(RequestRefused):
    """A moderator's change that changes nothing (a channel listed already, a term not on the list, a setting that is
    so already), named by the change's audit action. Nothing was audited."""

    action: AuditAction
