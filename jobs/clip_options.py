"""What a member may choose of a clip, and how each choice is checked.

Options are keyed by their /video option names, and VideoRequest.options, options_of and command_line all use them:

    prompt, negative_prompt, seed   the ClipSpec fields of the same names
    preset                          ClipSpec.preset_id; chosen first, since it decides the defaults the others replace
    aspect                          "16:9", "9:16" or "1:1", one of the preset's resolutions: ClipSpec.width and height
    duration                        whole seconds, one of durations(preset): ClipSpec.frames = seconds * fps + 1
    steps                           a whole number from the preset's min_steps to its max_steps: ClipSpec.steps

An option left out, or None, takes the preset's default clip's value (a random seed for the seed). Each check raises
its own RequestRefused, carrying the value and what is allowed. The command line form is Discord's, the options in
the order above with those left out omitted: `/video prompt:a fox seed:7 preset:tiny aspect:16:9 duration:2 steps:6`.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Mapping
from typing import TypeGuard

from jobs.errors import AspectUnavailable, DurationUnavailable, SeedOutOfRange, StepsOutOfRange
from jobs.prompts import clean_prompt
from model.contract import ClipSpec
from model.presets import Preset

MAX_SEED = 2**32 - 1
MAX_DURATION_SECONDS = 60
"""The longest duration offered, whatever a preset's frame range: well beyond what any of these models renders."""
PRESET_OPTION = "preset"
OPTION_NAMES = ("prompt", "negative_prompt", "seed", PRESET_OPTION, "aspect", "duration", "steps")
"""Every /video option, in the order the command line writes them."""


def durations(preset: Preset) -> tuple[int, ...]:
    """The whole seconds the preset can render: frames = seconds * fps + 1 must be frame_step * k + 1 and fit
    max_frames."""
    longest = min(MAX_DURATION_SECONDS, (preset.max_frames - 1) // preset.fps)
    return tuple(seconds for seconds in range(1, longest + 1) if preset.accepts_frames(frames_of(preset, seconds)))


def frames_of(preset: Preset, seconds: int) -> int:
    return seconds * preset.fps + 1


def seconds_of(preset: Preset, frames: int) -> int | None:
    """The duration option that renders this many frames, or None where no whole second does."""
    seconds, rest = divmod(frames - 1, preset.fps)
    return seconds if rest == 0 and seconds in durations(preset) else None


def aspect_of(preset: Preset, width: int, height: int) -> str | None:
    """The aspect option that renders this size, or None where the preset has no such resolution (any longer)."""
    return next((aspect for aspect, size in preset.resolutions.items() if size == (width, height)), None)


def checked_seed(value: object) -> int:
    if not _is_whole(value) or not 0 <= value <= MAX_SEED:
        raise SeedOutOfRange(MAX_SEED)
    return value


def _is_whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _seed(preset: Preset, value: object) -> dict[str, object]:
    return {"seed": checked_seed(value)}


def _prompt(preset: Preset, value: object) -> dict[str, object]:
    return {"prompt": clean_prompt(value)}


def _negative_prompt(preset: Preset, value: object) -> dict[str, object]:
    negative = clean_prompt(value, field="negative_prompt", required=False)
    return {"negative_prompt": negative} if negative else {}  # blank: the preset's own negative prompt


def _aspect(preset: Preset, value: object) -> dict[str, object]:
    if not isinstance(value, str) or value not in preset.resolutions:
        raise AspectUnavailable(value, preset.id, tuple(preset.resolutions))
    width, height = preset.resolutions[value]
    return {"width": width, "height": height}


def _duration(preset: Preset, value: object) -> dict[str, object]:
    allowed = durations(preset)
    if not _is_whole(value) or value not in allowed:
        raise DurationUnavailable(value, preset.id, allowed)
    return {"frames": frames_of(preset, value)}


def _steps(preset: Preset, value: object) -> dict[str, object]:
    if not _is_whole(value) or not preset.min_steps <= value <= preset.max_steps:
        raise StepsOutOfRange(value, preset.id, preset.min_steps, preset.max_steps)
    return {"steps": value}


CHECKS: Mapping[str, Callable[[Preset, object], Mapping[str, object]]] = {
    "prompt": _prompt,
    "negative_prompt": _negative_prompt,
    "seed": _seed,
    "aspect": _aspect,
    "duration": _duration,
    "steps": _steps,
}
"""Each option a member may set but the preset: its check (which raises a RequestRefused), returning the ClipSpec
fields it sets."""
REQUIRED = ("prompt",)


def resolve_clip(preset: Preset, options: Mapping[str, object]) -> ClipSpec:
    """The clip the member asked for; raises a RequestRefused subclass for a bad option."""
    unknown = options.keys() - set(OPTION_NAMES)
    if unknown:
        raise ValueError(f"not clip options: {', '.join(sorted(unknown))}")  # a programming error, not a member's
    given = {name: value for name, value in options.items() if name != PRESET_OPTION and value is not None}
    for name in REQUIRED:
        given.setdefault(name, "")  # so its check refuses it as empty
    fields: dict[str, object] = {"seed": None}
    for name in OPTION_NAMES:  # in order, so that two bad options are always refused for the same one
        if name in given:
            fields.update(CHECKS[name](preset, given[name]))
    if fields["seed"] is None:
        fields["seed"] = secrets.randbelow(MAX_SEED + 1)
    return dataclasses.replace(preset.default_clip(), **fields)  # type: ignore[arg-type]


def options_of(preset: Preset, clip: ClipSpec) -> dict[str, object]:
    """The options, as VideoRequest.options takes them, that ask for this clip again as a member would: the prompt,
    the seed and the preset, and every other value the options can say that is not the preset's default. None for
    the rest: the preset's defaults (so a server's maxima lower them as they lower /video's), its own negative prompt,
    and a size, frame count or steps the preset no longer offers (an operator changed it since)."""
    default = preset.default_clip()
    size_chosen = (clip.width, clip.height) != (default.width, default.height)
    steps_chosen = clip.steps != default.steps and preset.min_steps <= clip.steps <= preset.max_steps
    return {
        "prompt": clip.prompt,
        "negative_prompt": clip.negative_prompt if clip.negative_prompt != preset.negative_prompt else None,
        "seed": clip.seed,
        PRESET_OPTION: clip.preset_id,
        "aspect": aspect_of(preset, clip.width, clip.height) if size_chosen else None,
        "duration": seconds_of(preset, clip.frames) if clip.frames != default.frames else None,
        "steps": clip.steps if steps_chosen else None,
    }


def command_line(options: Mapping[str, object]) -> str:
    """The /video command, as a member would type it, that gives these options (those that are None left out)."""
    given = (f"{name}:{options[name]}" for name in OPTION_NAMES if options.get(name) is not None)
    return " ".join(("/video", *given))
