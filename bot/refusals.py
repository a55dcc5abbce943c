"""Why the bot said no, or why a job failed, in the member's words: every RequestRefused and every
FailureCode mapped to its message."""

from __future__ import annotations

import discord

from bot.messages import text
from bot.translator import option_name
from common.failures import Failure
from jobs.errors import (
    AboveServerMaximum,
    AlreadyHidden,
    AspectUnavailable,
    ChannelNotAllowed,
    ClipWithdrawn,
    CoolingDown,
    DurationUnavailable,
    FlagWithoutValue,
    InvalidAmount,
    InvalidChoice,
    InvalidTerm,
    JobFinished,
    MemberBanned,
    ModelUnavailable,
    NoSuchJob,
    NotHidden,
    NotInGallery,
    NotYourJob,
    PresetDisabled,
    PresetUnavailable,
    PromptBlocked,
    PromptRejected,
    QueueAlreadyPaused,
    QueueNotPaused,
    QueuePaused,
    QuotaExhausted,
    ReasonTooLong,
    RequestRefused,
    SeedOutOfRange,
    SensitivePresetRefused,
    SettingsListFull,
    SettingUnchanged,
    StepsOutOfRange,
    TooManyActiveJobs,
)


def refusal_text(refusal: RequestRefused, locale: str) -> str:
    match refusal:
        case PromptRejected(field, problem, limit):
            return text(f"prompt.{problem}", locale, field=text(f"field.{field}", locale), limit=limit)
        case SeedOutOfRange(maximum):
            return text("seed.out_of_range", locale, maximum=maximum)
        case AspectUnavailable(aspect, preset_id, aspects):
            return text("aspect.unavailable", locale, preset=preset_id, aspect=_shown(aspect), aspects=_listed(aspects))
        case DurationUnavailable(_, preset_id, allowed) if allowed:
            return text("duration.unavailable", locale, preset=preset_id, allowed=_listed(allowed))
        case DurationUnavailable(_, preset_id, _):
            return text("duration.none", locale, preset=preset_id)
        case StepsOutOfRange(_, preset_id, minimum, maximum):
            return text("steps.out_of_range", locale, preset=preset_id, minimum=minimum, maximum=maximum)
        case FlagWithoutValue(flag):
            return text("flag.without_value", locale, flag=_shown(flag))
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
            return text("amount.invalid", locale, field=option_name(field, locale), minimum=minimum, maximum=maximum)
        case InvalidChoice(field, choices):
            shown = ", ".join(f"`{choice}`" for choice in choices)
            return text("choice.invalid", locale, field=option_name(field, locale), choices=shown)
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
        case ModelUnavailable():
            return text("model.unavailable", locale)
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
        case ChannelNotAllowed(channel_ids):
            channels = ", ".join(f"<#{channel_id}>" for channel_id in channel_ids)
            return text("settings.channel_not_allowed", locale, channels=channels)
        case PresetDisabled(preset_id, allowed) if allowed:
            return text("settings.preset_disabled", locale, preset=preset_id, allowed=_listed(allowed))
        case PresetDisabled(preset_id, _):
            return text("settings.preset_disabled_none", locale, preset=preset_id)
        case SensitivePresetRefused(preset_id, age_restricted_only):
            if age_restricted_only:
                return text("settings.sensitive_preset_age_restricted", locale, preset=preset_id)
            return text("settings.sensitive_preset_refused", locale, preset=preset_id)
        case AboveServerMaximum(option, maximum):
            return text(f"settings.above_max_{option}", locale, maximum=maximum)
        case PromptBlocked(field, age_restricted_only):
            key = "settings.prompt_blocked_age_restricted" if age_restricted_only else "settings.prompt_blocked"
            return text(key, locale, field=text(f"field.{field}", locale))
        case InvalidTerm(problem, limit):
            return text(f"settings.term_{problem}", locale, limit=limit)
        case SettingsListFull(list_name, limit):
            return text(f"settings.list_full.{list_name}", locale, limit=limit)
        case SettingUnchanged(action):
            return text(f"settings.unchanged.{action.value}", locale)
    return text("error.unexpected", locale)


def _shown(value: object, limit: int = 32) -> str:
    """What a member typed, echoed inside backticks: cut short, and unable to close them."""
    return str(value).replace("`", "'")[:limit]


def _listed(values: tuple[object, ...]) -> str:
    return ", ".join(f"`{value}`" for value in values)


def delete_refusal_text(refusal: RequestRefused, locale: str) -> str:
    """Why /gallery delete said no: someone else's clip is its creator's alone to delete (moderators hide it)."""
    match refusal:
        case NotYourJob(job_id):
            return text("gallery.delete_not_yours", locale, job_id=job_id)
    return refusal_text(refusal, locale)


def clip_refusal_text(refusal: RequestRefused, locale: str) -> str:
    """Why a button under a posted clip said no: its job is gone, the clip is not the clicker's to delete, or it left
    the gallery and is not made again."""
    match refusal:
        case NoSuchJob(job_id):
            return text("clip.gone", locale, job_id=job_id)
        case ClipWithdrawn(job_id):
            return text("reroll.withdrawn", locale, job_id=job_id)
        case NotYourJob(job_id):
            return text("delete.not_yours", locale, job_id=job_id)
    return refusal_text(refusal, locale)


def failure_text(failure: Failure, locale: str) -> str:
    details = {key: str(value).replace("`", "'")[:200] for key, value in failure.details.items()}
    return text(f"failure.{failure.code.value}", locale, **details)
