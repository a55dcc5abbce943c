"""What a clip costs: the work it asks of the GPU, relative to its preset's default clip."""

from __future__ import annotations

import math

from model.contract import ClipSpec
from model.presets import Preset


def clip_cost(preset: Preset, clip: ClipSpec) -> int:
    # Integer arithmetic first so the default clip costs exactly its weight, not 1.0000000002 rounded up.
    return max(1, math.ceil(preset.cost_weight * clip.work / preset.default_clip().work))


def default_clip_cost(preset: Preset) -> int:
    """What the preset's default clip costs: the price /quota me quotes."""
    return clip_cost(preset, preset.default_clip())
