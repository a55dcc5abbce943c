"""The states and kinds the domain records. Stored as their string values, so they never renumber."""

from __future__ import annotations

import enum


class JobState(enum.StrEnum):
    """A job's place in its lifecycle; docs/architecture.md draws the transitions."""

    QUEUED = "queued"
    RUNNING = "running"
    RENDERED = "rendered"  # the file exists; the channel post has not been confirmed yet
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


UNFINISHED_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.RENDERED)
ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)
"""Waiting for the GPU or on it: what the active-jobs limit and queue positions count."""


class LedgerKind(enum.StrEnum):
    RESERVE = "reserve"
    REFUND = "refund"
    GRANT = "grant"  # a moderator's one-off bonus
    RESET = "reset"  # a moderator gave back one reservation (its job_id), counting when it did; no refund follows


class WindowKind(enum.StrEnum):
    DAILY = "daily"  # resets every day at the server's reset hour (UTC)
    ROLLING = "rolling"  # what was spent in the last 24 hours


class AuditAction(enum.StrEnum):
    SET_DEFAULT = "set_default"
    SET_ROLE = "set_role"
    SET_MEMBER = "set_member"
    GRANT = "grant"
    RESET = "reset"
    WINDOW = "window"
    BAN = "ban"
    UNBAN = "unban"
    MODERATOR_ROLE = "moderator_role"
    QUEUE_PAUSE = "queue_pause"
    QUEUE_RESUME = "queue_resume"
    QUEUE_PRIORITY = "queue_priority"  # target: the role; before and after: its weight in the fair order
    GALLERY_PUBLIC = "gallery_public"  # before and after: "private" or "public"
    GALLERY_LINK = "gallery_link"  # the gallery's address was rotated; the old one is never written down
    GALLERY_CHANNEL = "gallery_channel"  # before and after: the cross-post channel's id, None for none
    GALLERY_HIDE = "gallery_hide"  # target: the job
    GALLERY_UNHIDE = "gallery_unhide"  # target: the job
    # Server safety settings (jobs.server_rules):
    VIDEO_CHANNEL_ADD = "video_channel_add"  # target: the channel now on /video's allow-list
    VIDEO_CHANNEL_REMOVE = "video_channel_remove"  # target: the channel taken off it
    BLOCKLIST_ADD = "blocklist_add"  # after: the term, refused in prompts everywhere (before: it, if it was listed)
    BLOCKLIST_ADD_SENSITIVE = "blocklist_add_sensitive"  # the same, refused only outside age-restricted channels
    BLOCKLIST_REMOVE = "blocklist_remove"  # before: the term
    BLOCKLIST_DEFAULT = "blocklist_default"  # before and after: "on" or "off"
    SENSITIVE_PRESETS = "sensitive_presets"  # before and after: "on" (in age-restricted channels) or "off"
    PRESET_DISABLE = "preset_disable"  # after: the preset's id
    PRESET_ENABLE = "preset_enable"  # before: the preset's id
    MAX_DURATION = "max_duration"  # before and after: whole seconds, None for no server maximum
    MAX_STEPS = "max_steps"  # before and after: steps, None for no server maximum
