"""The catalogue a deployment serves: the built-in presets, plus an operator's presets file.

The file (TOML or JSON, named by VIDEO_PRESETS_FILE) holds one table per preset id. A table for
an existing id overrides the fields it names; a table for a new id gives every field, or names a
`base` preset whose fields it starts from:

    ["wan-1.3b"]
    default_steps = 30

    [my-wan]
    base = "wan-1.3b"
    repo = "someone/Wan2.1-T2V-1.3B-finetune-Diffusers"
    authors = "someone"

The bot and the CLI load it here; the worker process gets the presets the bot loaded (a Preset
pickles as it is), so a restarted worker agrees with the bot even if the file changed.
Like model.presets, this stays free of torch.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from model.presets import PRESETS, TINY_PRESET_ID, Preset, PresetError, Size

BASE_FIELD = "base"
MODEL_FIELDS = ("frame_step", "size_step")
"""Fixed by a built-in preset's model (its VAE and patch size), not the operator's to change."""
SUFFIXES = (".toml", ".json")


class PresetsFileError(ValueError):
    """The presets file cannot be read or has a bad entry; the message names the file, the
    preset and the field."""


def load_catalogue(path: str | Path | None) -> Mapping[str, Preset]:
    """The built-in presets merged with the presets file at path (None: the built-ins alone)."""
    if path is None:
        return PRESETS
    path = Path(path)
    catalogue = dict(PRESETS)
    for preset_id, entry in _read_entries(path).items():
        try:
            catalogue[preset_id] = _preset_from_entry(preset_id, entry, catalogue)
        except PresetError as error:
            raise PresetsFileError(f"{path}: {error}") from None
    return MappingProxyType(catalogue)


def _read_entries(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise PresetsFileError(f"{path}: a presets file ends in {' or '.join(SUFFIXES)}")
    try:
        with path.open("rb") as file:
            data = tomllib.load(file) if suffix == ".toml" else json.load(file)
    except OSError as error:
        raise PresetsFileError(f"{path}: cannot read it ({error.strerror})") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PresetsFileError(f"{path}: not valid {suffix[1:].upper()} ({error})") from None
    if not isinstance(data, dict):
        raise PresetsFileError(f"{path}: the top level must map preset ids to tables of fields")
    return data


def _preset_from_entry(preset_id: str, entry: object, catalogue: Mapping[str, Preset]) -> Preset:
    if not isinstance(entry, dict):
        raise PresetError(preset_id, None, f"must be a table of fields, not {_kind(entry)}")
    fields = dict(entry)
    start = _starting_point(preset_id, fields.pop(BASE_FIELD, None), catalogue)
    # Any: each parser in FIELD_PARSERS returns its own field's type, and Preset checks the values again.
    values: dict[str, Any] = {name: _parse_field(preset_id, name, value) for name, value in fields.items()}
    if start is None:
        missing = [name for name in REQUIRED_FIELDS if name not in values]
        if missing:
            needs = f"a new preset needs {', '.join(missing)}"
            raise PresetError(preset_id, None, f"{needs} (or a {BASE_FIELD!r} to start from)")
        return Preset(id=preset_id, **values)
    if start.id == TINY_PRESET_ID and {"repo", "pipeline"} & values.keys():
        raise PresetError(preset_id, None, "tiny is built in code: its repo and pipeline are fixed")
    if preset_id in PRESETS:
        for name in MODEL_FIELDS:
            if name in values:
                raise PresetError(
                    preset_id,
                    name,
                    "is the model's own constraint and cannot be changed for a built-in preset",
                )
    return dataclasses.replace(start, id=preset_id, **values)


def _starting_point(preset_id: str, base: object, catalogue: Mapping[str, Preset]) -> Preset | None:
    """The preset an entry changes: itself if it exists, else its base, else None (all new)."""
    if base is None:
        return catalogue.get(preset_id)
    if preset_id in catalogue:
        raise PresetError(preset_id, BASE_FIELD, "only a new preset has a base; override fields directly")
    if base == TINY_PRESET_ID:
        raise PresetError(preset_id, BASE_FIELD, "tiny is built in code and cannot be a base")
    if not isinstance(base, str) or base not in catalogue:
        raise PresetError(preset_id, BASE_FIELD, f"{base!r} is not one of {', '.join(catalogue)}")
    return catalogue[base]


def _parse_field(preset_id: str, name: str, value: object) -> object:
    parse = FIELD_PARSERS.get(name)
    if parse is None:
        close = difflib.get_close_matches(name, [*FIELD_PARSERS, BASE_FIELD], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PresetError(preset_id, name, f"unknown field{hint}")
    try:
        return parse(value)
    except ValueError as error:
        raise PresetError(preset_id, name, str(error)) from None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, not {_kind(value)}")
    return value


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"must be a whole number, not {_kind(value)}")
    return value


def _number(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"must be a number, not {_kind(value)}")
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    return float(value)


def _resolutions(value: object) -> Mapping[str, Size]:
    if not isinstance(value, dict) or not value:
        raise ValueError('must map aspects to [width, height], like {"16:9" = [832, 480]}')
    sizes: dict[str, Size] = {}
    for aspect, size in value.items():
        if not (isinstance(size, list) and len(size) == 2):
            raise ValueError(f"{aspect} must be [width, height], not {_kind(size)}")
        sizes[aspect] = (_whole(size[0]), _whole(size[1]))
    return MappingProxyType(sizes)


def _any_text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {_kind(value)}")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {_kind(value)}")
    return value


def _call_args(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ValueError("must map argument names to values, like { decode_timestep = 0.05 }")
    return MappingProxyType(dict(value))  # Preset checks each name and value


def _kind(value: object) -> str:
    """A value as the operator wrote it, for an error message."""
    return f"{type(value).__name__} {value!r}"


FIELD_PARSERS: Mapping[str, Callable[[object], object]] = {
    "repo": _text,
    "pipeline": _text,
    "licence": _text,
    "licence_url": _text,
    "authors": _text,
    "default_frames": _whole,
    "max_frames": _whole,
    "fps": _whole,
    "resolutions": _resolutions,
    "default_aspect": _text,
    "default_steps": _whole,
    "guidance": _number,
    "vram_hint_gb": _number,
    "offload_vram_gb": _number,
    "cost_weight": _whole,
    "frame_step": _whole,
    "size_step": _whole,
    "flow_shift": _number,
    "dtype": _text,
    "vae_dtype": _text,
    "negative_prompt": _any_text,
    "call_args": _call_args,
    "description": _any_text,
    "min_steps": _whole,
    "max_steps": _whole,
    "sensitive": _boolean,
}
"""Every Preset field but id, with how to read it from the file."""

REQUIRED_FIELDS = tuple(
    field.name
    for field in dataclasses.fields(Preset)
    if field.name in FIELD_PARSERS
    and field.default is dataclasses.MISSING
    and field.default_factory is dataclasses.MISSING
)
