"""How the domain's plain data sits in the jobs table's columns.

Matched by name, never listed again: a ClipSpec field is the column of the same name, a VideoFile
field the column `video_<field>`. A new clip parameter needs its column and nothing here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from common.failures import Failure
from db.models import Job
from model.contract import ClipSpec, VideoFile

_CLIP_FIELDS = tuple(field.name for field in dataclasses.fields(ClipSpec))
_VIDEO_COLUMNS = {field.name: f"video_{field.name}" for field in dataclasses.fields(VideoFile)}


def clip_columns(clip: ClipSpec) -> dict[str, Any]:
    return {name: getattr(clip, name) for name in _CLIP_FIELDS}


def clip_of(job: Job) -> ClipSpec:
    return ClipSpec(**{name: getattr(job, name) for name in _CLIP_FIELDS})


def video_columns(video: VideoFile) -> dict[str, Any]:
    return {column: getattr(video, name) for name, column in _VIDEO_COLUMNS.items()}


def video_of(job: Job) -> VideoFile | None:
    if job.video_key is None:
        return None
    return VideoFile(**{name: getattr(job, column) for name, column in _VIDEO_COLUMNS.items()})


def failure_columns(failure: Failure) -> dict[str, Any]:
    return {"failure_code": failure.code, "failure_details": dict(failure.details)}


def failure_of(job: Job) -> Failure | None:
    if job.failure_code is None:
        return None
    return Failure(job.failure_code, dict(job.failure_details or {}))
