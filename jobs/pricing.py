"""What a clip costs: the work it asks of the GPU, relative to its preset's default clip."""

from __future__ import annotations

import math

from model.presets import Preset


def clip_cost(preset: Preset, *, frames: int, width: int, height: int, steps: int) -> int:
    default_width, default_height = preset.resolutions[preset.default_aspect]
    default_work = preset.default_frames * default_width * default_height * preset.default_steps
    work = frames * width * height * steps
    # Integer arithmetic first so the default clip costs exactly its weight, not 1.0000000002 rounded up.
    return max(1, math.ceil(preset.cost_weight * work / default_work))


def default_clip_cost(preset: Preset) -> int:
    """What the preset's default clip costs: the price /quota me quotes."""
    width, height = preset.resolutions[preset.default_aspect]
    return clip_cost(preset, frames=preset.default_frames, width=width, height=height, steps=preset.default_steps)
