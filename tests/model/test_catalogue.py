"""An operator's presets file: merged over the built-ins, and every mistake named precisely."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from model.catalogue import FIELD_PARSERS, PresetsFileError, load_catalogue
from model.presets import PRESETS, Preset

FINETUNE_TOML = """
["wan-1.3b"]
default_steps = 30
guidance = 6

[my-wan]
base = "wan-1.3b"
repo = "someone/Wan2.1-T2V-1.3B-finetune-Diffusers"
authors = "someone"

[square]
repo = "someone/square-video"
pipeline = "LTXPipeline"
licence = "MIT"
licence_url = "https://opensource.org/license/mit"
authors = "someone"
default_frames = 25
max_frames = 49
fps = 24
resolutions = { "1:1" = [512, 512] }
default_aspect = "1:1"
default_steps = 20
guidance = 3.0
vram_hint_gb = 10
offload_vram_gb = 8
cost_weight = 2
dtype = "float16"
negative_prompt = "blurry"
call_args = { decode_timestep = 0.05, frame_rate = 24 }
description = "Square clips of anything, fast"
min_steps = 8
max_steps = 40
sensitive = true
frame_step = 8
size_step = 32
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_file_the_catalogue_is_the_built_ins() -> None:
    assert load_catalogue(None) is PRESETS


def test_a_file_overrides_fields_adds_presets_and_keeps_the_rest(tmp_path: Path) -> None:
    catalogue = load_catalogue(write(tmp_path, "presets.toml", FINETUNE_TOML))

    assert list(catalogue) == [*PRESETS, "my-wan", "square"]
    wan = catalogue["wan-1.3b"]
    assert (wan.default_steps, wan.guidance) == (30, 6.0)
    assert dataclasses.replace(wan, default_steps=50, guidance=5.0) == PRESETS["wan-1.3b"]
    assert catalogue["my-wan"] == dataclasses.replace(
        wan,
        id="my-wan",
        repo="someone/Wan2.1-T2V-1.3B-finetune-Diffusers",
        authors="someone",
    )
    square = catalogue["square"]
    assert (square.pipeline, square.default_size, square.fps) == ("LTXPipeline", (512, 512), 24)
    assert (square.dtype, square.negative_prompt) == ("float16", "blurry")
    assert dict(square.call_args) == {"decode_timestep": 0.05, "frame_rate": 24}
    assert (square.description, square.min_steps, square.max_steps) == ("Square clips of anything, fast", 8, 40)
    assert square.sensitive and not catalogue["my-wan"].sensitive
    assert catalogue["ltx"] is PRESETS["ltx"]


def test_json_reads_like_toml(tmp_path: Path) -> None:
    entry = {"default_steps": 12, "max_steps": 12, "resolutions": {"1:1": [64, 64], "16:9": [112, 64]}}
    catalogue = load_catalogue(write(tmp_path, "presets.json", json.dumps({"tiny": entry})))
    assert catalogue["tiny"].default_steps == 12
    assert dict(catalogue["tiny"].resolutions) == {"1:1": (64, 64), "16:9": (112, 64)}


def test_every_preset_field_but_the_id_can_be_set() -> None:
    assert set(FIELD_PARSERS) == {field.name for field in dataclasses.fields(Preset)} - {"id"}


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (
            "[tiny]\ndefault_stpes = 3",
            "preset 'tiny', field 'default_stpes': unknown field; did you mean 'default_steps'?",
        ),
        ('[tiny]\ndefault_steps = "3"', "field 'default_steps': must be a whole number, not str"),
        ("[tiny]\nguidance = true", "field 'guidance': must be a number, not bool True"),
        (
            '[tiny]\nresolutions = { "1:1" = [60, 64] }\ndefault_aspect = "1:1"',
            "field 'resolutions': 60x64 is not a multiple of 16 (size_step)",
        ),
        ('[tiny]\nresolutions = { "1:1" = [64] }', "'resolutions': 1:1 must be [width, height]"),
        ('[tiny]\nresolutions = { "4:3" = [64, 48] }', "field 'resolutions': unknown aspect '4:3'"),
        ("[tiny]\ndefault_frames = 8", "field 'default_frames': 8 frames is not 4k+1 (frame_step)"),
        ("[tiny]\nmax_frames = 5", "field 'default_frames': default 9 frames is outside 1..5"),
        ('[tiny]\ndefault_aspect = "4:3"', "field 'default_aspect': default aspect 4:3 has no"),
        ('[ltx]\npipeline = "Sora"', "field 'pipeline': 'Sora' is not one of WanPipeline"),
        ("[ltx]\nfps = 0", "preset 'ltx', field 'fps': must be at least 1"),
        ('[tiny]\nrepo = "me/real-wan"', "preset 'tiny': tiny is built in code"),
        ('[new]\nbase = "tiny"', "field 'base': tiny is built in code and cannot be a base"),
        ('[new]\nbase = "sora"', "field 'base': 'sora' is not one of wan-1.3b, ltx"),
        ('[ltx]\nbase = "wan-1.3b"', "field 'base': only a new preset has a base"),
        ('[new]\nrepo = "me/x"', "preset 'new': a new preset needs pipeline, licence, licence_url"),
        ('["My Wan"]\nbase = "wan-1.3b"', "preset 'My Wan', field 'id': must be 1-32 characters"),
        ("tiny = 3", "preset 'tiny': must be a table of fields, not int 3"),
        ("[tiny]\nguidance = nan", "field 'guidance': must be a finite number, not nan"),
        ("[ltx]\nvram_hint_gb = inf", "field 'vram_hint_gb': must be a finite number, not inf"),
        ("[wan-14b]\nflow_shift = -inf", "field 'flow_shift': must be a finite number, not -inf"),
        ("[tiny]\nguidance = 0", "field 'guidance': must be greater than 0"),
        ('[ltx]\ndtype = "fp8"', "field 'dtype': 'fp8' is not one of bfloat16, float16, float32"),
        ('[ltx]\nvae_dtype = "half"', "field 'vae_dtype': 'half' is not one of bfloat16, float16, float32"),
        ("[ltx]\nnegative_prompt = 3", "field 'negative_prompt': must be a string, not int 3"),
        ('[ltx]\nsensitive = "yes"', "field 'sensitive': must be true or false, not str 'yes'"),
        ("[ltx]\nmin_steps = 1.5", "field 'min_steps': must be a whole number, not float 1.5"),
        ("[ltx]\nmax_steps = 10", "field 'max_steps': must be from default_steps (50) to 10000"),
        ("[ltx]\ndescription = 3", "field 'description': must be a string, not int 3"),
        ("[ltx]\ncall_args = 3", "field 'call_args': must map argument names to values"),
        ('[ltx]\ncall_args = { "Bad Name" = 1 }', "field 'call_args': 'Bad Name' is not an argument name"),
        ("[ltx]\ncall_args = { timesteps = [1, 2] }", "field 'call_args': timesteps must be text, a number or"),
        ("[ltx]\noffload_vram_gb = -1", "field 'offload_vram_gb': must not be negative"),
        (f'[ltx]\nauthors = "{"x" * 201}"', "field 'authors': must be 1 to 200 characters"),
        ("[tiny]\nflow_shift = 0.0", "field 'flow_shift': must be greater than 0"),
        ("[tiny]\nfps = 0", "field 'fps': must be at least 1"),
        ("[tiny]\ndefault_steps = -1", "field 'default_steps': must be at least 1"),
        ("[tiny]\ndefault_frames = -3", "field 'default_frames': default -3 frames is outside"),
        ("[tiny]\ncost_weight = 0", "field 'cost_weight': must be between 1 and 1_000_000"),
        ("[tiny]\ncost_weight = 1000001", "field 'cost_weight': must be between 1 and 1_000_000"),
        (
            '[tiny]\nresolutions = { "1:1" = [0, 64] }',
            "field 'resolutions': 1:1 is 0x64; both must be at least 1",
        ),
        (
            '[tiny]\nresolutions = { "1:1" = [64, -16] }',
            "field 'resolutions': 1:1 is 64x-16; both must be at least 1",
        ),
        ('["wan-1.3b"]\nsize_step = 8', "preset 'wan-1.3b', field 'size_step': is the model's own"),
        ("[ltx]\nframe_step = 8", "preset 'ltx', field 'frame_step': is the model's own"),
        ('[tiny]\npipeline = "WanPipeline"', "preset 'tiny': tiny is built in code"),
    ],
)
def test_a_bad_entry_names_the_file_the_preset_and_the_field(tmp_path: Path, entry: str, complaint: str) -> None:
    path = write(tmp_path, "presets.toml", entry)
    with pytest.raises(PresetsFileError) as raised:
        load_catalogue(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: preset ")
    assert complaint in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "text", "complaint"),
    [
        ("presets.yaml", "tiny: {}", "a presets file ends in .toml or .json"),
        ("presets.toml", "[tiny\n", "not valid TOML (Expected ']'"),
        ("presets.json", '{"tiny": ', "not valid JSON (Expecting value"),
        ("presets.json", "[1, 2]", "the top level must map preset ids to tables of fields"),
    ],
)
def test_a_file_that_cannot_be_read_as_presets_is_refused(tmp_path: Path, name: str, text: str, complaint: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(PresetsFileError) as raised:
        load_catalogue(path)
    assert str(raised.value).startswith(f"{path}: {complaint}")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PresetsFileError) as raised:
        load_catalogue(path)
    assert str(raised.value) == f"{path}: cannot read it (No such file or directory)"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('{"tiny": {"guidance": NaN}}', "field 'guidance': must be a finite number, not nan"),
        ('{"ltx": {"vram_hint_gb": Infinity}}', "field 'vram_hint_gb': must be a finite number"),
        ('{"tiny": {"cost_weight": 0}}', "field 'cost_weight': must be between 1 and 1_000_000"),
    ],
)
def test_json_cannot_slip_in_what_toml_cannot(tmp_path: Path, text: str, complaint: str) -> None:
    path = write(tmp_path, "presets.json", text)
    with pytest.raises(PresetsFileError) as raised:
        load_catalogue(path)
    assert str(raised.value).startswith(f"{path}: preset ")
    assert complaint in str(raised.value) and "\n" not in str(raised.value)


def test_a_new_preset_based_on_a_built_in_may_set_its_own_steps(tmp_path: Path) -> None:
    text = '[my-ltx]\nbase = "ltx"\nrepo = "me/ltx-like"\nframe_step = 4\nsize_step = 16\n'
    catalogue = load_catalogue(write(tmp_path, "presets.toml", text))
    assert (catalogue["my-ltx"].frame_step, catalogue["my-ltx"].size_step) == (4, 16)
