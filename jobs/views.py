"""Plain snapshots of jobs and submissions: what the bot may read, with no session attached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common.failures import Failure
from common.states import JobState
from db.database import Database
from db.models import Job
from db.repositories.jobs import JobRepository
from jobs.records import clip_of, failure_of, video_of
from model.contract import ClipSpec, VideoFile


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    state: JobState
    guild_id: int
    channel_id: int
    user_id: int
    user_name: str
    clip: ClipSpec
    model_id: str
    licence: str
    licence_url: str
    authors: str
    """The model's authors, as the catalogue named them when the job was created."""
    cost: int
    max_bytes: int
    created_at: datetime
    failure: Failure | None
    video: VideoFile | None
    """What the encoder wrote, once rendered: its size can be smaller than the clip's."""
    poster_key: str | None
    render_seconds: float | None
    encode_seconds: float | None
    message_id: int | None
    locale: str
    """The requester's Discord locale: what every message about the job is written in."""
    withdrawn: bool = False
    """A moderator hid the clip from the gallery, or its creator deleted it from there: nobody makes it again with
    Reroll, and nothing links it."""

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(
            id=job.id,
            state=job.state,
            guild_id=job.guild_id,
            channel_id=job.channel_id,
            user_id=job.user_id,
            user_name=job.user_name,
            clip=clip_of(job),
            model_id=job.model_id,
            licence=job.licence,
            licence_url=job.licence_url,
            authors=job.authors,
            cost=job.cost,
            max_bytes=job.max_bytes,
            created_at=job.created_at,
            failure=failure_of(job),
            video=video_of(job),
            poster_key=job.poster_key,
            render_seconds=job.render_seconds,
            encode_seconds=job.encode_seconds,
            message_id=job.message_id,
            locale=job.locale,
            withdrawn=job.gallery_hidden_at is not None or job.gallery_deleted_at is not None,
        )


async def load_view(database: Database, job_id: int) -> JobView | None:
    async with database.transaction() as session:
        job = await JobRepository(session).get(job_id)
        return None if job is None else JobView.of(job)


RECENT_JOBS = 10
"""How many of a member's jobs /jobs list shows."""


async def recent_views(database: Database, guild_id: int, user_id: int, limit: int = RECENT_JOBS) -> list[JobView]:
    """The member's last `limit` jobs in the server, newest first."""
    async with database.transaction() as session:
        return [JobView.of(job) for job in await JobRepository(session).recent_of(guild_id, user_id, limit)]


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the member learns at once: where the job stands and what it cost."""

    job: JobView
    position: int
    credits_left: int | None  # None: no credit limit
    resets_at: datetime
