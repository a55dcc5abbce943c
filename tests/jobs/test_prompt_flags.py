"""Flags typed into the prompt: taken out, applied as options, reported; and nothing a member types makes them raise
anything but a refusal."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.clip_options import resolve_clip
from jobs.errors import AspectUnavailable, FlagWithoutValue, RequestRefused, SeedOutOfRange
from jobs.prompt_flags import (
    MAX_SCAN_CHARS,
    MAX_SHOWN_CHARS,
    Flag,
    FlagReport,
    IgnoredBecause,
    IgnoredFlag,
    apply_flags,
)
from model.presets import PRESETS


def test_the_common_flags_are_taken_out_and_applied() -> None:
    options, report = apply_flags(
        {"prompt": "a fox in the snow --ar 9:16 --seed 42 --no text, watermark", "seed": None}
    )
    assert options == {
        "prompt": "a fox in the snow",
        "seed": 42,
        "aspect": "9:16",
        "negative_prompt": "text, watermark",
    }
    assert report.applied == (
        Flag("aspect", "9:16", "--ar 9:16"),
        Flag("seed", 42, "--seed 42"),
        Flag("negative_prompt", "text, watermark", "--no text, watermark"),
    )
    assert report.ignored == () and report.unknown == ()


@pytest.mark.parametrize(
    ("prompt", "option", "value"),
    [
        ("a fox --aspect 1:1", "aspect", "1:1"),
        ("a fox --steps 3", "steps", 3),
        ("a fox --duration 2", "duration", 2),
        ("a fox --dur 3s", "duration", 3),
        ("a fox --duration 4sec", "duration", 4),
        ("a fox --preset TINY", "preset", "tiny"),
        ("a fox --model ltx", "preset", "ltx"),
        ("a fox --neg blur", "negative_prompt", "blur"),
        ("a fox --negative blur, rain", "negative_prompt", "blur, rain"),
        ("a fox —ar 9:16", "aspect", "9:16"),  # a phone's dash
        ("a fox –seed 5", "seed", 5),
        ("a fox --AR=16:9", "aspect", "16:9"),
        ("a fox --seed abc", "seed", "abc"),  # the seed's own check refuses it
        ("a fox --seed ١٢", "seed", "١٢"),  # digits, but not ASCII ones
        ("a fox --seed " + "9" * 900, "seed", "9" * 900),  # kept as text: no 900-digit number is made
    ],
)
def test_each_flag_sets_its_option(prompt: str, option: str, value: object) -> None:
    options, report = apply_flags({"prompt": prompt})
    assert options == {"prompt": "a fox", option: value}
    [flag] = report.applied
    assert flag.option == option and len(flag.written) <= MAX_SHOWN_CHARS


def test_flags_anywhere_leave_the_rest_of_the_prompt_as_typed() -> None:
    options, _ = apply_flags({"prompt": "--seed 1 a fox\n\nin the  snow --ar 1:1 at dusk"})
    assert options["prompt"] == "a fox\n\nin the  snow at dusk"


def test_an_explicit_option_wins_and_the_flag_is_reported_ignored() -> None:
    options, report = apply_flags({"prompt": "a fox --seed 42 --ar 9:16", "seed": 7})
    assert options == {"prompt": "a fox", "seed": 7, "aspect": "9:16"}
    assert report.applied == (Flag("aspect", "9:16", "--ar 9:16"),)
    assert report.ignored == (IgnoredFlag(Flag("seed", 42, "--seed 42"), IgnoredBecause.OPTION),)


def test_a_later_flag_replaces_an_earlier_one() -> None:
    options, report = apply_flags({"prompt": "a fox --seed 1 --seed 2"})
    assert options == {"prompt": "a fox", "seed": 2}
    assert report.applied == (Flag("seed", 2, "--seed 2"),)
    assert report.ignored == (IgnoredFlag(Flag("seed", 1, "--seed 1"), IgnoredBecause.REPEATED),)


def test_an_unknown_flag_stays_in_the_prompt_and_is_reported() -> None:
    options, report = apply_flags({"prompt": "a fox --v 6 --stylize 250 --no blur"})
    assert options == {"prompt": "a fox --v 6 --stylize 250", "negative_prompt": "blur"}
    assert report.unknown == ("--v", "--stylize")
    # Without any known flag, the prompt is not touched at all.
    untouched, report = apply_flags({"prompt": "  a fox   --v 6 "})
    assert untouched == {"prompt": "  a fox   --v 6 "} and report == FlagReport(unknown=("--v",))


@pytest.mark.parametrize(
    "prompt",
    ["a fox - running", "a fox -- running", "a fox --- running", "a fox —running", "a sign reading --2024--", "x"],
)
def test_words_that_only_look_like_flags_are_left_alone(prompt: str) -> None:
    assert apply_flags({"prompt": prompt}) == ({"prompt": prompt}, FlagReport())


@pytest.mark.parametrize("prompt", ["a fox --seed", "a fox --no", "a fox --ar --seed 4", "a fox --no --seed 4"])
def test_a_known_flag_without_a_value_is_refused(prompt: str) -> None:
    with pytest.raises(FlagWithoutValue):
        apply_flags({"prompt": prompt})


def test_a_flags_bad_value_is_refused_by_its_options_check() -> None:
    tiny = PRESETS["tiny"]
    with pytest.raises(AspectUnavailable):
        resolve_clip(tiny, apply_flags({"prompt": "a fox --ar 4:3"})[0])
    with pytest.raises(SeedOutOfRange):
        resolve_clip(tiny, apply_flags({"prompt": "a fox --seed abc"})[0])


def test_what_is_not_a_prompt_to_read_is_passed_on_untouched() -> None:
    assert apply_flags({"prompt": None, "seed": 3}) == ({"prompt": None, "seed": 3}, FlagReport())
    assert apply_flags({"prompt": 12}) == ({"prompt": 12}, FlagReport())
    too_long = "x --seed 1 " * (MAX_SCAN_CHARS // 10)
    assert apply_flags({"prompt": too_long})[0] == {"prompt": too_long}  # for the prompt check to refuse
    # Only the prompt is read: a negative prompt keeps its dashes.
    assert apply_flags({"prompt": "a fox", "negative_prompt": "--seed 1"})[1] == FlagReport()


FLAGGY_WORDS = st.sampled_from(
    ["--ar", "--seed", "--no", "—ar", "–dur", "--steps=", "--preset", "--v", "--", "—", "9:16", "42", "3s", "=", " "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FLAGGY_WORDS, st.text(max_size=12)), max_size=40), st.none() | st.integers())
def test_parsing_raises_nothing_but_a_refusal(words: list[str], seed: int | None) -> None:
    prompt = " ".join(words)
    try:
        options, report = apply_flags({"prompt": prompt, "seed": seed})
    except RequestRefused:
        return
    assert isinstance(options["prompt"], str) and len(options["prompt"]) <= len(prompt)
    for flag in (*report.applied, *(ignored.flag for ignored in report.ignored)):
        assert len(flag.written) <= MAX_SHOWN_CHARS and flag.written not in options["prompt"].split()
    try:
        resolve_clip(PRESETS["tiny"], {name: value for name, value in options.items() if name != "preset"})
    except RequestRefused:
        pass
