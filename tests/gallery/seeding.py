"""Delivered clips as the bot leaves them: `jobs` rows in a real, migrated SQLite database with every column filled,
and for each a real H.264 MP4 and JPEG poster under DATA_DIR/media, made by the bot's own encoder (model.encode).

The clips are encoded once per test session (a few seconds of a moving gradient, so a browser can play them and
their time advances) and copied for each job, which keeps the tests fast.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from common.states import JobState
from db.database import Database
from db.models import Job
from model.encode import encode_mp4, write_poster

GUILD_ID = 987_654_321_098_765_432
OTHER_GUILD_ID = 876_543_210_987_654_321
CHANNEL_ID = 765_432_109_876_543_210
MODERATOR_ID = 654_321_098_765_432_109
FIRST_MESSAGE_ID = 1_234_567_890_123_456_000
FIRST_CREATED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
MODEL_ID = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
AUTHORS = "Wan Team, Alibaba"
LICENCE = "Apache-2.0"
LICENCE_URL = "https://www.apache.org/licenses/LICENSE-2.0"

FRAMES, FPS, WIDTH, HEIGHT = 48, 16, 256, 160
PALETTES = (
    ((255, 138, 91), (120, 40, 170)),  # dusk
    ((40, 200, 190), (20, 50, 140)),  # sea
    ((150, 210, 90), (20, 90, 60)),  # forest
    ((250, 110, 170), (40, 30, 110)),  # neon
)


@dataclass(frozen=True, slots=True)
class Clip:
    """One encoded clip: an MP4 and its poster, copied for every job that shows it."""

    mp4: Path
    jpg: Path
    width: int
    height: int
    frames: int
    fps: int


def make_clips(folder: Path) -> tuple[Clip, ...]:
    """One clip per palette, each a gradient that drifts and a bright disc that crosses it."""
    clips = []
    for index, (top, bottom) in enumerate(PALETTES):
        frames = moving_gradient(top, bottom, phase=index / len(PALETTES))
        mp4, jpg = folder / f"clip{index}.mp4", folder / f"clip{index}.jpg"
        video = encode_mp4(frames, fps=FPS, path=mp4, max_bytes=4_000_000, metadata={"comment": "gallery test"})
        write_poster(frames, jpg)
        clips.append(Clip(mp4, jpg, video.width, video.height, video.frames, video.fps))
    return tuple(clips)


def moving_gradient(top: tuple[int, int, int], bottom: tuple[int, int, int], *, phase: float) -> npt.NDArray[np.uint8]:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    frames = np.empty((FRAMES, HEIGHT, WIDTH, 3), dtype=np.uint8)
    low, high = np.array(top, np.float32), np.array(bottom, np.float32)
    for t in range(FRAMES):
        progress = t / FRAMES
        wave = 0.15 * np.sin(2 * np.pi * (x / WIDTH + progress + phase))
        mix = np.clip((y / HEIGHT) * 0.8 + 0.1 + wave, 0.0, 1.0)
        picture = low + (high - low) * mix[..., None]
        centre_x = WIDTH * (0.15 + 0.7 * ((progress + phase) % 1.0))
        disc = np.exp(-(((x - centre_x) ** 2 + (y - HEIGHT * 0.4) ** 2) / (2 * 18.0**2)))
        picture = picture + (255 - picture) * disc[..., None] * 0.85
        frames[t] = np.clip(picture, 0, 255).astype(np.uint8)
    return frames


@dataclass
class Seeder:
    """Puts delivered clips in the database and their files under data_dir, as the runner would."""

    database: Database
    data_dir: Path
    clips: Sequence[Clip]
    made: int = 0

    async def delivered(
        self,
        prompt: str,
        *,
        user_id: int,
        user_name: str,
        guild_id: int = GUILD_ID,
        posted: bool = True,
        licence_url: str = LICENCE_URL,
    ) -> int:
        """A delivered clip (posted in Discord unless `posted` is false), one minute after the one before; its id."""
        clip = self.clips[self.made % len(self.clips)]
        created_at = FIRST_CREATED_AT + timedelta(minutes=self.made)
        self.made += 1
        async with self.database.transaction() as session:
            job = Job(
                state=JobState.DELIVERED,
                guild_id=guild_id,
                channel_id=CHANNEL_ID,
                user_id=user_id,
                user_name=user_name,
                prompt=prompt,
                negative_prompt="blurry, low quality",
                seed=1000 + self.made,
                preset_id="wan-1.3b",
                frames=clip.frames,
                width=clip.width,
                height=clip.height,
                fps=clip.fps,
                steps=30,
                guidance=5.0,
                max_bytes=10 * 1024 * 1024,
                cost=8,
                model_id=MODEL_ID,
                licence=LICENCE,
                licence_url=licence_url,
                authors=AUTHORS,
                attempts=1,
                priority_weight=1,
                created_at=created_at,
                started_at=created_at + timedelta(seconds=5),
                render_started_at=created_at + timedelta(seconds=6),
                finished_at=created_at + timedelta(seconds=50),
                render_seconds=40.0,
                encode_seconds=0.5,
            )
            session.add(job)
            await session.flush()
            media = self.data_dir / "media"
            media.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(clip.mp4, media / f"{job.id}.mp4")
            shutil.copyfile(clip.jpg, media / f"{job.id}.jpg")
            job.video_key, job.poster_key = f"media/{job.id}.mp4", f"media/{job.id}.jpg"
            job.video_bytes = clip.mp4.stat().st_size
            job.video_width, job.video_height = clip.width, clip.height
            job.video_frames, job.video_fps = clip.frames, clip.fps
            job.message_id = FIRST_MESSAGE_ID + job.id if posted else None
            return job.id
