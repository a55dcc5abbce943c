"""A member's /video request, before and after validation."""

from __future__ import annotations

from dataclasses import dataclass

from model.presets import Preset


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """As typed: nothing here is trusted yet."""

    guild_id: int
    channel_id: int
    user_id: int
    user_name: str
    prompt: str | None
    negative_prompt: str | None = None
    seed: int | None = None
    preset_id: str | None = None
    max_bytes: int = 10 * 1024 * 1024
    role_ids: frozenset[int] = frozenset()  # for role tiers and the unlimited role


@dataclass(frozen=True, slots=True)
class ValidRequest:
    """Checked and fully resolved: the clip it describes and what it costs."""

    request: VideoRequest
    preset: Preset
    prompt: str
    negative_prompt: str
    seed: int
    frames: int
    width: int
    height: int
    steps: int
    cost: int
