"""Render specs for the tiny preset, shared by the model tests and benchmarks/worker_overhead.py."""

from __future__ import annotations

import dataclasses
from typing import Any

from model.contract import Credit, RenderSpec
from model.presets import TINY_PRESET_ID, get_preset

TINY = get_preset(TINY_PRESET_ID)
REQUESTER_NAME, REQUESTER_ID, SEED = "Ann Example", 4242, 3


def tiny_spec(job_id: int = 1, **changes: Any) -> RenderSpec:
    """A job for the tiny preset's default clip; changes replace any field but the credit."""
    width, height = TINY.default_size
    seed = changes.get("seed", SEED)
    credit = Credit(
        REQUESTER_NAME, REQUESTER_ID, TINY.id, TINY.repo, TINY.licence, seed=seed, job_id=job_id
    )
    spec = RenderSpec(
        job_id=job_id,
        preset_id=TINY.id,
        prompt=f"a fox running through snow at dusk, take {job_id}",
        negative_prompt="blurry",
        seed=seed,
        frames=TINY.default_frames,
        width=width,
        height=height,
        fps=TINY.fps,
        steps=TINY.default_steps,
        guidance=TINY.guidance,
        max_bytes=10 * 2**20,
        credit=credit,
    )
    return dataclasses.replace(spec, **changes)
