"""Speed options as the settings and CLI flags spell them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from model.speed import (
    FirstBlockCache,
    SpeedOptions,
    as_settings,
    parse_cache,
    parse_offload,
    parse_switch,
)


def test_the_defaults_suit_any_gpu() -> None:
    assert as_settings(SpeedOptions()) == {
        "VIDEO_OFFLOAD": "auto",
        "VIDEO_VAE_TILING": "on",
        "VIDEO_CACHE": "off",
        "VIDEO_COMPILE": "off",
    }


@pytest.mark.parametrize(
    "options",
    [
        SpeedOptions(),
        SpeedOptions(offload="group", vae_tiling=False, cache=FirstBlockCache(0.12), compile=True),
        SpeedOptions(offload="sequential", cache=FirstBlockCache()),
    ],
)
def test_settings_read_back_as_the_same_options(options: SpeedOptions) -> None:
    settings = as_settings(options)
    read_back = SpeedOptions(
        offload=parse_offload(settings["VIDEO_OFFLOAD"]),
        vae_tiling=parse_switch(settings["VIDEO_VAE_TILING"]),
        cache=parse_cache(settings["VIDEO_CACHE"]),
        compile=parse_switch(settings["VIDEO_COMPILE"]),
    )
    assert read_back == options


@pytest.mark.parametrize(
    ("raw", "cache"),
    [
        ("off", None),
        ("first-block", FirstBlockCache(0.05)),
        ("First-Block:0.2", FirstBlockCache(0.2)),
    ],
)
def test_cache_settings(raw: str, cache: FirstBlockCache | None) -> None:
    assert parse_cache(raw) == cache


@pytest.mark.parametrize(
    ("parse", "raw", "complaint"),
    [
        (parse_offload, "cpu", "must be one of auto, none, model, group, sequential; got 'cpu'"),
        (parse_switch, "maybe", "must be on or off; got 'maybe'"),
        (parse_cache, "teacache", "must be off or first-block[:threshold]; got 'teacache'"),
        (parse_cache, "first-block:1.5", "threshold must be a number between 0 and 1; got '1.5'"),
        (parse_cache, "first-block:fast", "threshold must be a number between 0 and 1; got 'fast'"),
        (parse_cache, "off:0.1", "must be off or first-block[:threshold]; got 'off:0.1'"),
    ],
)
def test_a_bad_value_says_what_is_allowed(parse: Callable[[str], object], raw: str, complaint: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse(raw)
    assert str(raised.value) == complaint


def test_compiling_under_sequential_offload_is_refused_naming_both_settings() -> None:
    with pytest.raises(ValueError, match="VIDEO_COMPILE=on does not work with VIDEO_OFFLOAD=sequential"):
        SpeedOptions(offload="sequential", compile=True)
    assert SpeedOptions(offload="group", compile=True).compile
