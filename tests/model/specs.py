"""Render specs for the tiny preset, shared by the model tests and benchmarks/worker_overhead.py."""

from __future__ import annotations

import dataclasses
from typing import Any

from model.contract import DEFAULT_UPLOAD_LIMIT_BYTES, Credit, RenderSpec
from model.presets import TINY_PRESET_ID, get_preset

TINY = get_preset(TINY_PRESET_ID)
REQUESTER_NAME, REQUESTER_ID, SEED = "Ann Example", 4242, 3


def tiny_spec(job_id: int = 1, **clip_changes: Any) -> RenderSpec:
    """A job for the tiny preset's default clip; clip_changes replace fields of its ClipSpec."""
    clip = TINY.default_clip(f"a fox running through snow at dusk, take {job_id}", negative_prompt="blurry", seed=SEED)
    return RenderSpec(
        job_id=job_id,
        clip=dataclasses.replace(clip, **clip_changes),
        max_bytes=DEFAULT_UPLOAD_LIMIT_BYTES,
        credit=Credit(REQUESTER_NAME, REQUESTER_ID, TINY.repo, TINY.licence, TINY.authors),
    )
