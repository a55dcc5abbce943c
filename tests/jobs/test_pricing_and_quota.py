from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from jobs.pricing import clip_cost
from jobs.quota import QuotaWindow
from model.presets import PRESETS


def test_every_presets_default_clip_costs_its_weight() -> None:
    for preset in PRESETS.values():
        assert clip_cost(preset, preset.default_clip("a fox")) == preset.cost_weight == 1, preset.id


def test_cost_follows_the_work_and_is_at_least_one() -> None:
    preset = PRESETS["wan-1.3b"]
    default = preset.default_clip("a fox")
    double_steps = clip_cost(preset, replace(default, steps=100))
    a_sliver = clip_cost(preset, replace(default, frames=1, width=16, height=16, steps=1))
    assert double_steps == 2
    assert a_sliver == 1


def test_daily_window_resets_at_the_configured_hour() -> None:
    quota = QuotaWindow(reset_hour=6)
    before_reset = datetime(2026, 11, 25, 5, 59, tzinfo=UTC)
    after_reset = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert quota.start(before_reset) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert quota.next_reset(before_reset) == after_reset
    assert quota.start(after_reset) == after_reset
    assert quota.next_reset(after_reset) == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
