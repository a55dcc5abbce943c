"""Plain snapshots of jobs and submissions: what the bot may read, with no session attached."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from db.models import Job, JobState


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    state: JobState
    guild_id: int
    channel_id: int
    user_id: int
    user_name: str
    prompt: str
    negative_prompt: str
    seed: int
    preset_id: str
    model_id: str
    licence: str
    licence_url: str
    frames: int
    width: int
    height: int
    fps: int
    steps: int
    guidance: float
    cost: int
    max_bytes: int
    created_at: datetime
    failure_reason: str | None
    video_path: str | None
    poster_path: str | None
    video_bytes: int | None
    render_seconds: float | None
    encode_seconds: float | None
    message_id: int | None

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(**{field.name: getattr(job, field.name) for field in fields(cls)})


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the member learns at once: where the job stands and what it cost."""

    job: JobView
    position: int
    credits_left: int | None  # None: no credit limit
    resets_at: datetime
