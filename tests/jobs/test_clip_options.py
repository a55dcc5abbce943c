"""A member's clip options become a ClipSpec: checked one by one, the rest from the preset's default clip."""

from __future__ import annotations

import dataclasses

import pytest

from jobs.clip_options import MAX_SEED, command_line, durations, frames_of, options_of, resolve_clip
from jobs.errors import (
    AboveServerMaximum,
    AspectUnavailable,
    DurationUnavailable,
    PromptRejected,
    SeedOutOfRange,
    StepsOutOfRange,
)
from jobs.pricing import clip_cost
from jobs.requests import ValidRequest, VideoRequest
from jobs.server_rules import ServerRules
from model.presets import PRESETS, Preset

TINY = PRESETS["tiny"]


def test_what_the_member_leaves_out_comes_from_the_presets_default_clip() -> None:
    clip = resolve_clip(TINY, {"prompt": "  a fox  ", "negative_prompt": None, "seed": None, "preset": "tiny"})
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
        ({"prompt": "a fox", "aspect": "4:3"}, AspectUnavailable),
        ({"prompt": "a fox", "aspect": 1}, AspectUnavailable),
        ({"prompt": "a fox", "duration": 5}, DurationUnavailable),  # 41 frames: more than tiny's 33
        ({"prompt": "a fox", "duration": 0}, DurationUnavailable),
        ({"prompt": "a fox", "duration": 2.0}, DurationUnavailable),
        ({"prompt": "a fox", "duration": "2"}, DurationUnavailable),
        ({"prompt": "a fox", "steps": 0}, StepsOutOfRange),
        ({"prompt": "a fox", "steps": 9}, StepsOutOfRange),
        ({"prompt": "a fox", "steps": False}, StepsOutOfRange),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], refusal: type[Exception]) -> None:
    with pytest.raises(refusal):
        resolve_clip(TINY, options)


def test_an_option_no_member_can_set_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not clip options: frames, preset_id"):
        resolve_clip(TINY, {"prompt": "a fox", "frames": 17, "preset_id": "tiny"})


def test_tiny_offers_every_aspect_and_several_durations() -> None:
    assert set(TINY.resolutions) == {"16:9", "9:16", "1:1"}
    assert durations(TINY) == (1, 2, 3, 4)  # 9, 17, 25 and 33 frames at 8 fps


@pytest.mark.parametrize(
    ("preset_id", "seconds"),
    [
        ("wan-1.3b", (1, 2, 3, 4, 5)),
        ("wan-14b", (1, 2, 3, 4, 5)),
        ("ltx", tuple(range(1, 11))),
        ("cogvideox-2b", (1, 2, 3, 4, 5, 6)),
    ],
)
def test_durations_follow_each_presets_fps_and_frame_range(preset_id: str, seconds: tuple[int, ...]) -> None:
    preset = PRESETS[preset_id]
    assert durations(preset) == seconds
    for duration in seconds:
        assert preset.accepts_frames(duration * preset.fps + 1)


def test_a_frame_step_that_no_whole_second_meets_is_skipped() -> None:
    # 12 fps with frames 8k+1: 12 s + 1 is 8k + 1 only for even seconds.
    preset = dataclasses.replace(TINY, fps=12, frame_step=8, default_frames=25, max_frames=65)
    assert durations(preset) == (2, 4)
    with pytest.raises(DurationUnavailable) as refused:
        resolve_clip(preset, {"prompt": "a fox", "duration": 3})
    assert refused.value == DurationUnavailable(3, "tiny", (2, 4))


def test_aspect_duration_and_steps_set_the_clip() -> None:
    clip = resolve_clip(TINY, {"prompt": "a fox", "aspect": "9:16", "duration": 3, "steps": 8})
    assert (clip.width, clip.height, clip.frames, clip.fps, clip.steps) == (64, 112, 25, 8, 8)


def test_each_refusal_says_what_is_allowed() -> None:
    with pytest.raises(AspectUnavailable) as aspect:
        resolve_clip(PRESETS["wan-1.3b"], {"prompt": "a fox", "aspect": "1:1"})
    assert aspect.value == AspectUnavailable("1:1", "wan-1.3b", ("16:9", "9:16"))
    with pytest.raises(StepsOutOfRange) as steps:
        resolve_clip(PRESETS["wan-1.3b"], {"prompt": "a fox", "steps": 10})
    assert steps.value == StepsOutOfRange(10, "wan-1.3b", 20, 50)


def test_a_blank_negative_prompt_keeps_the_presets_own() -> None:
    wan = PRESETS["wan-1.3b"]
    assert resolve_clip(wan, {"prompt": "a fox", "negative_prompt": "   "}).negative_prompt == wan.negative_prompt


@pytest.mark.parametrize("preset", list(PRESETS.values()), ids=list(PRESETS))
def test_options_of_a_clip_ask_for_the_same_clip_again(preset: Preset) -> None:
    aspect = list(preset.resolutions)[-1]  # the default's for cogvideox-2b, which has no other
    duration = next(seconds for seconds in durations(preset) if frames_of(preset, seconds) != preset.default_frames)
    options = {"prompt": "a fox", "negative_prompt": "rain", "aspect": aspect, "duration": duration}
    clip = resolve_clip(preset, {**options, "steps": preset.min_steps, "seed": 7})
    again = options_of(preset, clip)
    assert again == {
        **options,
        "seed": 7,
        "preset": preset.id,
        "aspect": None if aspect == preset.default_aspect else aspect,
        "steps": preset.min_steps,
    }
    assert resolve_clip(preset, again) == clip


def test_options_of_leave_out_the_presets_defaults_as_a_member_would() -> None:
    """So that asking again for a default clip is asking for the preset's default, which a server's maxima lower."""
    chosen = {"aspect": TINY.default_aspect, "duration": 1, "steps": TINY.default_steps}
    clip = resolve_clip(TINY, {"prompt": "a fox", "seed": 7, **chosen})
    assert clip == TINY.default_clip("a fox", seed=7)
    assert options_of(TINY, clip) == {
        "prompt": "a fox",
        "negative_prompt": None,
        "seed": 7,
        "preset": "tiny",
        "aspect": None,
        "duration": None,
        "steps": None,
    }
    assert command_line(options_of(TINY, clip)) == "/video prompt:a fox seed:7 preset:tiny"


def test_a_default_clip_asked_for_again_is_lowered_to_the_servers_maxima_not_refused() -> None:
    wan = PRESETS["wan-1.3b"]
    rules = ServerRules(max_duration_seconds=2, max_steps=wan.min_steps)

    def screened(options: dict[str, object]) -> ValidRequest:
        request = VideoRequest(guild_id=1, channel_id=2, user_id=3, user_name="Bob", options=options)
        clip = resolve_clip(wan, options)
        return rules.check(ValidRequest(request, wan, clip, clip_cost(wan, clip)), [wan])

    again = screened(options_of(wan, wan.default_clip("a fox", seed=3)) | {"seed": 4})
    assert (again.clip.frames, again.clip.steps) == (frames_of(wan, 2), wan.min_steps)
    # A clip made with a longer duration than the server now allows asks for it again, and is refused.
    longer = resolve_clip(wan, {"prompt": "a fox", "duration": 3, "seed": 3})
    with pytest.raises(AboveServerMaximum):
        screened(options_of(wan, longer))


def test_options_of_leave_out_what_the_options_cannot_say() -> None:
    wan = PRESETS["wan-1.3b"]
    clip = dataclasses.replace(wan.default_clip("a fox", seed=3), width=1024, height=1024, frames=45, steps=2)
    assert options_of(wan, clip) == {
        "prompt": "a fox",
        "negative_prompt": None,  # the preset's own
        "seed": 3,
        "preset": "wan-1.3b",
        "aspect": None,
        "duration": None,  # 45 frames at 16 fps is no whole second
        "steps": None,
    }
    assert resolve_clip(wan, options_of(wan, wan.default_clip("a fox", seed=3))) == wan.default_clip("a fox", seed=3)


def test_the_command_line_names_each_given_option_in_order() -> None:
    clip = resolve_clip(TINY, {"prompt": "a fox", "aspect": "16:9", "duration": 2, "seed": 7})
    assert command_line(options_of(TINY, clip)) == "/video prompt:a fox seed:7 preset:tiny aspect:16:9 duration:2"
