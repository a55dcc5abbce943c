from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from jobs.pricing import clip_cost
from jobs.quota import QuotaWindow
from model.presets import PRESETS


def test_every_presets_default_clip_costs_its_weight() -> None:
    for preset in PRESETS.values():
        assert clip_cost(preset, preset.default_clip("a fox")) == preset.cost_weight, preset.id


def test_cost_weights_follow_the_gpu_work_of_each_presets_default_clip() -> None:
    """Transformer FLOPs per default clip relative to wan-1.3b (README: Credits and limits), times 8."""
    relative_work = {"wan-1.3b": 1.0, "wan-14b": 23.6, "cogvideox-2b": 0.46, "ltx": 0.11}
    for preset_id, work in relative_work.items():
        assert PRESETS[preset_id].cost_weight == max(1, round(8 * work)), preset_id


def test_cost_follows_the_work_and_is_at_least_one() -> None:
    preset = PRESETS["wan-1.3b"]
    default = preset.default_clip("a fox")
    double_steps = clip_cost(preset, replace(default, steps=100))
    a_sliver = clip_cost(preset, replace(default, frames=1, width=16, height=16, steps=1))
    assert double_steps == 2 * preset.cost_weight
    assert a_sliver == 1


def test_daily_window_resets_at_the_configured_hour() -> None:
    quota = QuotaWindow(reset_hour=6)
    before_reset = datetime(2026, 11, 25, 5, 59, tzinfo=UTC)
    after_reset = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert quota.start(before_reset) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert quota.next_reset(before_reset) == after_reset
    assert quota.start(after_reset) == after_reset
    assert quota.next_reset(after_reset) == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
