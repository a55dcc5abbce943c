"""What a member may choose of a clip, and how each choice is checked.

An option is named after the ClipSpec field it sets; what the member leaves out comes from the
preset's default clip. Adding an option is one entry here (and its Discord option); the spec, its
column and the pipeline carry it from there.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Mapping

from jobs.errors import SeedOutOfRange
from jobs.prompts import clean_prompt
from model.contract import ClipSpec
from model.presets import Preset

MAX_SEED = 2**32 - 1
PRESET_OPTION = "preset_id"
"""Chosen before the others: it decides the defaults they replace."""


def checked_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise SeedOutOfRange(MAX_SEED)
    return value


CHECKS: Mapping[str, Callable[[object], object]] = {
    "prompt": lambda value: clean_prompt(value),
    "negative_prompt": lambda value: clean_prompt(value, field="negative_prompt", required=False),
    "seed": checked_seed,
}
"""Each option a member may set, with its check (which raises a RequestRefused)."""
REQUIRED = ("prompt",)


def resolve_clip(preset: Preset, options: Mapping[str, object]) -> ClipSpec:
    """The clip the member asked for; raises a RequestRefused subclass for a bad option."""
    unknown = options.keys() - CHECKS.keys() - {PRESET_OPTION}
    if unknown:
        raise ValueError(f"not clip options: {', '.join(sorted(unknown))}")  # a programming error, not a member's
    given = {name: value for name, value in options.items() if name != PRESET_OPTION and value is not None}
    for name in REQUIRED:
        given.setdefault(name, "")  # so its check refuses it as empty
    checked = {name: CHECKS[name](value) for name, value in given.items()}
    checked.setdefault("seed", secrets.randbelow(MAX_SEED + 1))
    return dataclasses.replace(preset.default_clip(), **checked)  # type: ignore[arg-type]
