"""A member's clip options become a ClipSpec: checked one by one, the rest from the preset's default clip."""

from __future__ import annotations

import pytest

from jobs.clip_options import MAX_SEED, resolve_clip
from jobs.errors import PromptRejected, SeedOutOfRange
from model.presets import PRESETS

TINY = PRESETS["tiny"]


def test_what_the_member_leaves_out_comes_from_the_presets_default_clip() -> None:
    clip = resolve_clip(TINY, {"prompt": "  a fox  ", "negative_prompt": None, "seed": None, "preset_id": "tiny"})
    default = TINY.default_clip()
    assert clip.prompt == "a fox" and clip.negative_prompt == ""
    assert 0 <= clip.seed <= MAX_SEED
    assert (clip.frames, clip.width, clip.height, clip.fps, clip.steps, clip.guidance) == (
        default.frames,
        default.width,
        default.height,
        default.fps,
        default.steps,
        default.guidance,
    )


def test_a_chosen_seed_and_negative_prompt_are_kept() -> None:
    clip = resolve_clip(TINY, {"prompt": "a fox", "negative_prompt": "blurry", "seed": 7})
    assert (clip.negative_prompt, clip.seed, clip.preset_id) == ("blurry", 7, "tiny")


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ({}, PromptRejected),  # the prompt is the one option a member must give
        ({"prompt": None}, PromptRejected),
        ({"prompt": 12}, PromptRejected),  # a crafted interaction can send any JSON type
        ({"prompt": "a fox", "negative_prompt": ["x"]}, PromptRejected),
        ({"prompt": "a fox", "seed": True}, SeedOutOfRange),
        ({"prompt": "a fox", "seed": "7"}, SeedOutOfRange),
        ({"prompt": "a fox", "seed": MAX_SEED + 1}, SeedOutOfRange),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], refusal: type[Exception]) -> None:
    with pytest.raises(refusal):
        resolve_clip(TINY, options)


def test_an_option_no_member_can_set_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not clip options: steps"):
        resolve_clip(TINY, {"prompt": "a fox", "steps": 500})
