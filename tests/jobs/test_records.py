"""The jobs table holds a ClipSpec, a VideoFile and a Failure column by column, and gives them back whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.failures import Failure, FailureCode
from common.states import JobState
from db.database import Database
from db.models import Job
from db.repositories.jobs import JobRepository
from jobs.media import MediaFiles
from jobs.records import clip_columns, failure_columns, video_columns
from jobs.views import load_view
from model.contract import ClipSpec, VideoFile

CLIP = ClipSpec("tiny", "a fox", "blurry", 7, 9, 112, 64, 8, 4, 5.0)
VIDEO = VideoFile(key="media/1.mp4", bytes=12_345, width=96, height=54, frames=9, fps=8)
FAILURE = Failure(FailureCode.UPLOAD_REFUSED, {"status": 400})


async def test_a_job_row_round_trips_its_clip_video_and_failure(database: Database) -> None:
    job = Job(
        state=JobState.FAILED,
        guild_id=1,
        channel_id=2,
        user_id=3,
        user_name="Alice",
        **clip_columns(CLIP),
        max_bytes=10 << 20,
        cost=1,
        model_id="tiny/random",
        licence="Apache-2.0",
        licence_url="https://x",
        authors="Tiny Team",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        **video_columns(VIDEO),
        **failure_columns(FAILURE),
    )
    async with database.transaction() as session:
        await JobRepository(session).add_all([job])
    view = await load_view(database, job.id)
    assert view is not None
    assert (view.clip, view.video, view.failure, view.authors) == (CLIP, VIDEO, FAILURE, "Tiny Team")


def test_media_keys_resolve_under_data_dir_and_never_outside_it(tmp_path: Path) -> None:
    media = MediaFiles(tmp_path / "data")
    (tmp_path / "data" / "media").mkdir(parents=True)
    (tmp_path / "data" / "media" / "1.mp4").write_bytes(b"x")
    assert media.path("media/1.mp4") == (tmp_path / "data" / "media" / "1.mp4").resolve()
    assert media.exists("media/1.mp4") and not media.exists("media/2.mp4") and not media.exists(None)
    for hostile in ("../bot.db", "/etc/passwd", "media/../../secret"):
        with pytest.raises(ValueError, match="outside DATA_DIR"):
            media.path(hostile)
