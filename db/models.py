"""The tables. The jobs table is the source of truth; credits are a ledger, never a counter."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RENDERED = "rendered"  # the file exists; the channel post has not been confirmed yet
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


UNFINISHED_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.RENDERED)


class LedgerKind(enum.StrEnum):
    RESERVE = "reserve"
    REFUND = "refund"


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings so adding a state later needs no ALTER TYPE on PostgreSQL.
    return Enum(kind, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), default=JobState.QUEUED)

    # Where it came from and where it goes.
    guild_id: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    user_name: Mapped[str] = mapped_column(String(100))

    # What to render, fully resolved at submit time so a restart renders the same clip.
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

    # Outcome.
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    video_path: Mapped[str | None] = mapped_column(Text, default=None)
    poster_path: Mapped[str | None] = mapped_column(Text, default=None)
    video_bytes: Mapped[int | None] = mapped_column(Integer, default=None)
    render_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    encode_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        Index("ix_jobs_state_id", "state", "id"),
        Index("ix_jobs_member", "guild_id", "user_id", "state"),
    )


class LedgerEntry(Base):
    """One movement of credits. A member's balance is derived by summing these."""

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), default=None)
    kind: Mapped[LedgerKind] = mapped_column(_enum(LedgerKind, "ledger_kind"))
    delta: Mapped[int] = mapped_column(Integer)
    # The moment the movement counts against a quota window. A refund counts at its
    # reservation's moment, so refunding yesterday's job does not inflate today.
    counts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # A job is reserved once and refunded at most once, whatever races.
        UniqueConstraint("job_id", "kind", name="uq_ledger_job_kind"),
        Index("ix_ledger_member_counts_at", "guild_id", "user_id", "counts_at"),
    )
