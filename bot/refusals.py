"""Why the bot said no, or why a job failed, in the member's words: every RequestRefused and every
FailureCode mapped to its message."""

from __future__ import annotations

import discord

from bot.messages import text
from common.failures import Failure
from jobs.errors import (
    AlreadyHidden,
    CoolingDown,
    InvalidAmount,
    InvalidChoice,
    JobFinished,
    MemberBanned,
    NoSuchJob,
    NotHidden,
    NotInGallery,
    NotYourJob,
    PresetUnavailable,
    PromptRejected,
    QueueAlreadyPaused,
    QueueNotPaused,
    QueuePaused,
    QuotaExhausted,
    ReasonTooLong,
    RequestRefused,
    SeedOutOfRange,
    TooManyActiveJobs,
)


def refusal_text(refusal: RequestRefused, locale: str) -> str:
    match refusal:
        case PromptRejected(field, problem, limit):
            return text(f"prompt.{problem}", locale, field=field.replace("_", " "), limit=limit)
        case SeedOutOfRange(maximum):
            return text("seed.out_of_range", locale, maximum=maximum)
        case PresetUnavailable(preset_id, served):
            shown = ", ".join(f"`{served_id}`" for served_id in served)
            return text("preset.unavailable", locale, preset=preset_id.replace("`", "'")[:64], served=shown)
        case QuotaExhausted(cost, credits_left, resets_at):
            return text(
                "quota.exhausted",
                locale,
                cost=cost,
                credits_left=credits_left,
                resets_at=discord.utils.format_dt(resets_at, "R"),
            )
        case MemberBanned():
            return text("member.banned", locale)
        case TooManyActiveJobs(limit):
            return text("jobs.too_many_active", locale, limit=limit)
        case CoolingDown(until):
            return text("cooldown", locale, until=discord.utils.format_dt(until, "R"))
        case InvalidAmount(field, minimum, maximum):
            return text("amount.invalid", locale, field=field, minimum=minimum, maximum=maximum)
        case InvalidChoice(field, choices):
            shown = ", ".join(f"`{choice}`" for choice in choices)
            return text("choice.invalid", locale, field=field, choices=shown)
        case ReasonTooLong(limit):
            return text("reason.too_long", locale, limit=limit)
        case NoSuchJob(job_id):
            return text("cancel.no_such_job", locale, job_id=job_id)
        case NotYourJob(job_id):
            return text("cancel.not_yours", locale, job_id=job_id)
        case JobFinished(job_id):
            return text("cancel.finished", locale, job_id=job_id)
        case QueuePaused():
            return text("queue.paused", locale)
        case QueueAlreadyPaused():
            return text("queue.already_paused", locale)
        case QueueNotPaused():
            return text("queue.not_paused", locale)
        case NotInGallery(job_id):
            return text("gallery.not_in_gallery", locale, job_id=job_id)
        case AlreadyHidden(job_id):
            return text("gallery.already_hidden", locale, job_id=job_id)
        case NotHidden(job_id):
            return text("gallery.not_hidden", locale, job_id=job_id)
    return text("error.unexpected", locale)


def delete_refusal_text(refusal: RequestRefused, locale: str) -> str:
    """Why /gallery delete said no: someone else's clip is its creator's alone to delete (moderators hide it)."""
    match refusal:
        case NotYourJob(job_id):
            return text("gallery.delete_not_yours", locale, job_id=job_id)
    return refusal_text(refusal, locale)


def failure_text(failure: Failure, locale: str = "en") -> str:
    details = {key: str(value).replace("`", "'")[:200] for key, value in failure.details.items()}
    return text(f"failure.{failure.code.value}", locale, **details)
