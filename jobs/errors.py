"""Why a request was refused. Each carries data, never wording: the bot owns every user-facing string."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

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
