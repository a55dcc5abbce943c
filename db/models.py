"""The tables. The jobs table is the source of truth; credits are a ledger, never a counter."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.failures import FailureCode
from common.states import AuditAction, JobState, LedgerKind, WindowKind
from db.types import UTCDateTime


class Base(DeclarativeBase):
    pass


def _enum(kind: type[enum.StrEnum], name: str, length: int = 16) -> Enum:
    # Stored as plain strings so adding a state later needs no ALTER TYPE on PostgreSQL.
    return Enum(kind, name=name, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.QUEUED)

    # Where it came from and where it goes.
    guild_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    user_name: Mapped[str] = mapped_column(String(100))

    # What to render: model.contract.ClipSpec, a column per field under the same name, fully
    # resolved at submit time so a restart renders the same clip.
    prompt: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int] = mapped_column(BigInteger)
    preset_id: Mapped[str] = mapped_column(String(64))
    frames: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps: Mapped[int] = mapped_column(Integer)
    steps: Mapped[int] = mapped_column(Integer)
    guidance: Mapped[float] = mapped_column(Float)
    max_bytes: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(Integer)

    # Credit, copied from the catalogue when the job is created: it must not change if the catalogue does.
    model_id: Mapped[str] = mapped_column(String(200))
    licence: Mapped[str] = mapped_column(String(100))
    licence_url: Mapped[str] = mapped_column(String(300))
    # Admission always sets the authors. The default is migration 0004's, for older jobs of a preset it did not
    # know: SQLite adds a NOT NULL column to a table with rows only with one, and drops it only by copying the table.
    authors: Mapped[str] = mapped_column(String(200), server_default="unknown")

    # Outcome. A failure is a common.failures code with its details.
    failure_code: Mapped[FailureCode | None] = mapped_column(_enum(FailureCode, "failure_code", 32), default=None)
    failure_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # What the encoder wrote (model.contract.VideoFile, its fields prefixed video_); keys are
    # relative to DATA_DIR.
    video_key: Mapped[str | None] = mapped_column(String(200), default=None)
    video_bytes: Mapped[int | None] = mapped_column(Integer, default=None)
    video_width: Mapped[int | None] = mapped_column(Integer, default=None)
    video_height: Mapped[int | None] = mapped_column(Integer, default=None)
    video_frames: Mapped[int | None] = mapped_column(Integer, default=None)
    video_fps: Mapped[int | None] = mapped_column(Integer, default=None)
    poster_key: Mapped[str | None] = mapped_column(String(200), default=None)
    render_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    encode_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # How many times the runner handed the job to a render backend. A job whose render killed its worker (or the
    # whole bot) is tried again while this is below QUEUE_MAX_ATTEMPTS. The default is migration 0005's (see authors).
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    # The member's weight in the fair order (db.repositories.jobs): the highest RolePriority among their roles when
    # the job was admitted, so dispatch needs nothing from Discord. The default is migration 0006's (see authors).
    priority_weight: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    # The requester's Discord locale ("vi", "en-US"): what the status, the post and a failure notice are written
    # in, long after the interaction is gone. The default is migration 0010's (see authors).
    locale: Mapped[str] = mapped_column(String(16), server_default="en-US", default="en-US")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When its render began (the backend's Started), None while it waits: a restart charges an attempt only to a job
    # whose render had begun. Cleared whenever the job is queued again.
    render_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When the member asked to stop it while it was running: a restart cancels and refunds it, and a crash of its
    # worker does not queue it again.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    # The community gallery (jobs.gallery): a delivered clip is in it unless a moderator hid it, its creator deleted
    # it (its files are gone too) or its creator opted out (GalleryOptOut). The default is migration 0009's.
    gallery_hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    gallery_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    star_count: Mapped[int] = mapped_column(Integer, server_default="0", default=0)  # its GalleryStar rows
    # Its cross-post in the gallery channel, once made (the channel's id too: the server may choose another later).
    gallery_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    gallery_post_channel_id: Mapped[int | None] = mapped_column(BigInteger, default=None)

    __table_args__ = (
        Index("ix_jobs_state_id", "state", "id"),
        Index("ix_jobs_member", "guild_id", "user_id", "state"),
        Index("ix_jobs_started_at", "started_at"),  # the fair order counts what started while the queue waited
        Index("ix_jobs_gallery_recent", "guild_id", "state", "id"),  # a server's gallery, newest first
        Index("ix_jobs_gallery_top", "guild_id", "state", "star_count", "id"),  # and most-starred first
    )


SEARCH_TABLE = "gallery_search"
"""SQLite's FTS5 index of the jobs' prompts (migration 0009 creates it and the triggers that keep it in step with
`jobs`). It is not a model: SQLAlchemy neither creates nor compares it (`schema_names`)."""


def schema_names(name: str | None, kind: str, _parent: object) -> bool:
    """For Alembic's include_name: every table but the search index and the shadow tables FTS5 keeps for it."""
    return not (kind == "table" and name is not None and name.startswith(SEARCH_TABLE))


class GalleryStar(Base):
    """One member's star on one clip: a second click takes it back. `Job.star_count` counts these."""

    __tablename__ = "gallery_stars"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GalleryOptOut(Base):
    """A member who took their clips out of a server's gallery (/gallery optout): their past and future clips are
    neither listed, served nor cross-posted while the row exists."""

    __tablename__ = "gallery_optouts"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    """One movement of credits. A member's balance is derived by summing these."""

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), default=None)
    kind: Mapped[LedgerKind] = mapped_column(_enum(LedgerKind, "ledger_kind"))
    delta: Mapped[int] = mapped_column(Integer)
    # The moment the movement counts against a quota window. A refund or a reset counts at its
    # reservation's moment, so giving back yesterday's job does not inflate today.
    counts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # A job is reserved once and refunded at most once, whatever races.
        UniqueConstraint("job_id", "kind", name="uq_ledger_job_kind"),
        # Covers the window sum (delta included), so admission never reads the table itself.
        Index("ix_ledger_member_window", "guild_id", "user_id", "counts_at", "delta"),
    )


class GuildSettings(Base):
    """A server's own settings (its quota, its moderator role, its queue paused or not, its gallery, its safety
    settings); a server without a row uses the bot's defaults, is not paused, has a private gallery and no rules."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    default_credits: Mapped[int | None] = mapped_column(Integer, default=None)  # None: QUOTA_DAILY_CREDITS
    window: Mapped[WindowKind] = mapped_column(_enum(WindowKind, "window_kind"), default=WindowKind.DAILY)
    reset_hour: Mapped[int] = mapped_column(Integer, default=0)
    moderator_role_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # /queue pause: /video is refused and the server's queued jobs are not dispatched until /queue resume.
    queue_paused: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # The web gallery: served only while public, at an unguessable slug a moderator can rotate (None until the
    # server's gallery is first set up); its clips are also posted in gallery_channel_id when one is set.
    gallery_public: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    gallery_slug: Mapped[str | None] = mapped_column(String(64), default=None)
    gallery_handle_key: Mapped[str | None] = mapped_column(String(64), default=None)  # jobs.gallery.creator_handle's
    gallery_channel_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Safety settings (jobs.server_rules): the built-in blocklist on or off; presets marked sensitive allowed in
    # age-restricted channels (else nowhere); the server's own maxima, which only lower a preset's (None: none).
    default_blocklist: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    sensitive_presets: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    max_duration_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    max_steps: Mapped[int | None] = mapped_column(Integer, default=None)

    # A unique index, not a constraint: SQLite adds no UNIQUE column to a table that exists.
    __table_args__ = (Index("ix_guild_settings_gallery_slug", "gallery_slug", unique=True),)


class VideoChannel(Base):
    """A channel where /video may be used in its server (a thread counts as its parent); a server with none allows
    it anywhere the bot can post."""

    __tablename__ = "video_channels"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    channel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


BLOCKED_TERM_CHARS = 100  # a term as typed, and as folded (jobs.blocklist), with room to spare


class BlockedTerm(Base):
    """A word or pattern a server refuses in prompts (jobs.blocklist). `key` is the folded form matching compares,
    so two spellings of one term are one row; `term` is what the moderator typed, as lists show it."""

    __tablename__ = "blocked_terms"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(BLOCKED_TERM_CHARS), primary_key=True)
    term: Mapped[str] = mapped_column(String(BLOCKED_TERM_CHARS))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # refused only outside age-restricted channels
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisabledPreset(Base):
    """A preset a server's moderators turned off there: /video refuses it in that server."""

    __tablename__ = "disabled_presets"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    preset_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class RoleTier(Base):
    """The allowance a role gives its members, or no limit at all."""

    __tablename__ = "role_tiers"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    credits: Mapped[int] = mapped_column(Integer)
    unlimited: Mapped[bool] = mapped_column(Boolean, default=False)


class RolePriority(Base):
    """A role's weight in the fair order: its members get `weight` turns per round. A role without a row weighs 1."""

    __tablename__ = "role_priorities"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    weight: Mapped[int] = mapped_column(Integer)


class MemberQuota(Base):
    """One member of one server: their override, their ban, their last submission.

    Admission locks this row, so it exists for every member who ever submitted.
    """

    __tablename__ = "quota_members"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    credits_override: Mapped[int | None] = mapped_column(Integer, default=None)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    ban_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    last_submission_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class BotLease(Base):
    """The single-instance lease: one row (id 1) naming the bot process that may dispatch and post.

    A holder renews it while it runs and clears it when it stops; a lease past expires_at is free (its holder died).
    """

    __tablename__ = "bot_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(64), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


AUDIT_VALUE_CHARS = 200  # an audit row's before and after; longer values are cut to fit


class AuditEntry(Base):
    """Who changed what, from what to what, and when. Values are stored as shown; None means unset."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction, "audit_action", length=32))
    target_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # a member or a role, by action
    before: Mapped[str | None] = mapped_column(String(AUDIT_VALUE_CHARS), default=None)
    after: Mapped[str | None] = mapped_column(String(AUDIT_VALUE_CHARS), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_audit_guild_id", "guild_id", "id"),)
