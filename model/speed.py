"""Where and how the worker loads its pipeline (device, speed and memory options), as plain data.

They travel from the bot's settings (or the CLI's flags) to the worker process, so this module
stays free of torch: model.pipeline applies them. The parsers raise ValueError with a message
that reads after the setting's name ("VIDEO_OFFLOAD must be one of ...").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeVar, get_args

Choice = TypeVar("Choice", bound=str)

DeviceSetting = Literal["auto", "cuda", "cpu"]
DEVICE_SETTINGS: tuple[DeviceSetting, ...] = get_args(DeviceSetting)
"""auto takes the CUDA GPU when there is one; cuda insists on it; cpu forces a (slow) CPU render."""

Offload = Literal["auto", "none", "model", "group", "sequential"]
OFFLOADS: tuple[Offload, ...] = get_args(Offload)

FIRST_BLOCK_CACHE = "first-block"
DEFAULT_CACHE_THRESHOLD = 0.05
"""diffusers' own default for FirstBlockCache: a clear speed-up with little visible change."""
OFF = "off"

_SWITCHES = dict.fromkeys(("on", "true", "yes", "1"), True) | dict.fromkeys((OFF, "false", "no", "0"), False)


@dataclass(frozen=True, slots=True)
class FirstBlockCache:
    """Skip the transformer's other blocks while its first block's output changes by less than
    threshold (relative), reusing their last residual: diffusers' FirstBlockCacheConfig."""

    threshold: float = DEFAULT_CACHE_THRESHOLD


@dataclass(frozen=True, slots=True)
class SpeedOptions:
    """How the worker loads its pipeline. The defaults suit any GPU:

    - offload "auto": chosen per preset from the memory the GPU has free at load (model.pipeline):
      everything resident when the preset's vram_hint_gb fits, else one component at a time
      ("model": the peak is the largest one, Wan's 11.4 GB text encoder rather than the ~17 GB sum),
      else layers streamed while the previous ones compute ("group").
    - VAE tiling on: decoding 81 frames at once is the peak of a render; tiles cap it for a
      small time cost.
    - no cache hook: it trades quality for speed, which is the operator's call.
    - no compile: the first job at every new size pays minutes of compilation.
    """

    offload: Offload = "auto"
    vae_tiling: bool = True
    cache: FirstBlockCache | None = None
    compile: bool = False

    def __post_init__(self) -> None:
        if self.compile and self.offload == "sequential":
            # Sequential offload moves each layer's weights in a hook around every call, which compiled
            # blocks would recompile for, or trace with the weights on the wrong device.
            raise ValueError("VIDEO_COMPILE=on does not work with VIDEO_OFFLOAD=sequential; turn one of them off")

    def __str__(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in as_settings(self).items())


def parse_offload(raw: str) -> Offload:
    return _one_of(OFFLOADS, raw)


def parse_device(raw: str) -> DeviceSetting:
    return _one_of(DEVICE_SETTINGS, raw)


def _one_of(choices: tuple[Choice, ...], raw: str) -> Choice:
    for choice in choices:
        if raw.lower() == choice:
            return choice
    raise ValueError(f"must be one of {', '.join(choices)}; got {raw!r}")


def parse_switch(raw: str) -> bool:
    try:
        return _SWITCHES[raw.lower()]
    except KeyError:
        raise ValueError(f"must be on or off; got {raw!r}") from None


def parse_cache(raw: str) -> FirstBlockCache | None:
    """'off', 'first-block' or 'first-block:<threshold>' (threshold between 0 and 1)."""
    kind, colon, threshold = raw.lower().partition(":")
    if kind == OFF and not colon:
        return None
    if kind != FIRST_BLOCK_CACHE:
        raise ValueError(f"must be off or {FIRST_BLOCK_CACHE}[:threshold]; got {raw!r}")
    if not colon:
        return FirstBlockCache()
    try:
        value = float(threshold)
    except ValueError:
        value = math.nan  # refused just below, like a number out of range
    if not 0 < value < 1:
        raise ValueError(f"threshold must be a number between 0 and 1; got {threshold!r}")
    return FirstBlockCache(value)


def as_settings(options: SpeedOptions) -> dict[str, str]:
    """options as the bot's settings spell them (the parsers read these back)."""
    return {
        "VIDEO_OFFLOAD": options.offload,
        "VIDEO_VAE_TILING": _switch(options.vae_tiling),
        "VIDEO_CACHE": _cache(options.cache),
        "VIDEO_COMPILE": _switch(options.compile),
    }


def _switch(switch: bool) -> str:
    return "on" if switch else OFF


def _cache(cache: FirstBlockCache | None) -> str:
    return OFF if cache is None else f"{FIRST_BLOCK_CACHE}:{cache.threshold:g}"
