from __future__ import annotations

from datetime import datetime, timezone

from jobs.pricing import clip_cost
from jobs.quota import QuotaWindow
from model.presets import PRESETS


def test_every_presets_default_clip_costs_its_weight() -> None:
    for preset in PRESETS.values():
        width, height = preset.resolutions[preset.default_aspect]
        cost = clip_cost(preset, frames=preset.default_frames, width=width, height=height, steps=preset.default_steps)
        assert cost == preset.cost_weight == 1, preset.id


def test_cost_follows_the_work_and_is_at_least_one() -> None:
    preset = PRESETS["wan-1.3b"]
    width, height = preset.resolutions[preset.default_aspect]
    double_steps = clip_cost(preset, frames=preset.default_frames, width=width, height=height, steps=100)
    a_sliver = clip_cost(preset, frames=1, width=16, height=16, steps=1)
    assert double_steps == 2
    assert a_sliver == 1


def test_daily_window_resets_at_the_configured_hour() -> None:
    quota = QuotaWindow(reset_hour=6)
    before_reset = datetime(2026, 11, 25, 5, 59, tzinfo=timezone.utc)
    after_reset = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
    assert quota.start(before_reset) == datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
    assert quota.next_reset(before_reset) == after_reset
    assert quota.start(after_reset) == after_reset
    assert quota.next_reset(after_reset) == datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
