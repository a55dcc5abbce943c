"""The preset catalogue: right facts, consistent entries, light enough for the job domain."""

from __future__ import annotations

import dataclasses
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import diffusers
import pytest

from model.presets import (
    APACHE_2_0_URL,
    ASPECTS,
    DEFAULT_PRESET_ID,
    KNOWN_PIPELINES,
    MAX_DESCRIPTION_CHARS,
    PRESETS,
    TINY_PRESET_ID,
    Preset,
    PresetError,
    UnknownPresetError,
    get_preset,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_default_is_wan_1_3b() -> None:
    assert DEFAULT_PRESET_ID == "wan-1.3b"
    assert get_preset(DEFAULT_PRESET_ID).repo == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"


@pytest.mark.parametrize(
    ("preset_id", "repo", "pipeline", "licence", "size", "frames", "fps"),
    [
        (
            "wan-1.3b",
            "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
            "WanPipeline",
            "Apache-2.0",
            (832, 480),
            81,
            16,
        ),
        (
            # 0.9.5, the newest LTX-Video release in diffusers' layout under Open RAIL-M (0.9.0, in
            # Lightricks/LTX-Video, is research-only; 0.9.6 and later have a revenue-capped licence).
            "ltx",
            "Lightricks/LTX-Video-0.9.5",
            "LTXConditionPipeline",
            "LTX-Video 0.9.5 Open RAIL-M",
            (832, 480),
            121,
            24,
        ),
        (
            "cogvideox-2b",
            "THUDM/CogVideoX-2b",
            "CogVideoXPipeline",
            "Apache-2.0",
            (720, 480),
            49,
            8,
        ),
        (
            "wan-14b",
            "Wan-AI/Wan2.1-T2V-14B-Diffusers",
            "WanPipeline",
            "Apache-2.0",
            (1280, 720),
            81,
            16,
        ),
    ],
)
def test_real_presets_carry_their_model_cards_defaults(
    preset_id: str,
    repo: str,
    pipeline: str,
    licence: str,
    size: tuple[int, int],
    frames: int,
    fps: int,
) -> None:
    preset = get_preset(preset_id)
    assert (preset.repo, preset.pipeline, preset.licence) == (repo, pipeline, licence)
    assert (preset.default_size, preset.default_frames, preset.fps) == (size, frames, fps)


@pytest.mark.parametrize("preset", PRESETS.values(), ids=list(PRESETS))
def test_every_preset_is_usable_as_configured(preset: Preset) -> None:
    assert hasattr(diffusers, preset.pipeline)
    assert set(preset.resolutions) <= set(ASPECTS)
    assert preset.licence_url.startswith("https://")
    assert preset.authors
    assert preset.default_steps >= 1 and preset.guidance > 1  # every preset uses classifier-free guidance
    assert preset.cost_weight >= 1


@pytest.mark.parametrize("preset", PRESETS.values(), ids=list(PRESETS))
def test_every_built_in_preset_describes_itself_and_bounds_its_steps(preset: Preset) -> None:
    assert 0 < len(preset.description) <= MAX_DESCRIPTION_CHARS and preset.description.isprintable()
    assert preset.min_steps <= preset.default_steps <= preset.max_steps
    assert not preset.sensitive  # operators mark their own presets sensitive; none of these is


def test_real_presets_steps_run_from_20_to_their_authors_default() -> None:
    real = [preset for preset in PRESETS.values() if preset.id != TINY_PRESET_ID]
    assert {(preset.min_steps, preset.default_steps, preset.max_steps) for preset in real} == {(20, 50, 50)}


@pytest.mark.parametrize("name", KNOWN_PIPELINES)
def test_known_pipelines_take_what_render_passes(name: str) -> None:
    rendered_with = {
        "prompt",
        "negative_prompt",
        "height",
        "width",
        "num_frames",
        "num_inference_steps",
        "guidance_scale",
        "generator",
        "output_type",
        "callback_on_step_end",
    }
    pipeline_class = getattr(diffusers, name)
    assert rendered_with <= set(inspect.signature(pipeline_class.__call__).parameters)


def test_apache_presets_link_the_apache_licence() -> None:
    apache = [preset for preset in PRESETS.values() if preset.licence == "Apache-2.0"]
    assert apache and all(preset.licence_url == APACHE_2_0_URL for preset in apache)


def test_tiny_is_the_cheapest_and_small_enough_for_a_cpu() -> None:
    tiny = get_preset(TINY_PRESET_ID)
    assert tiny.cost_weight == 1 == min(preset.cost_weight for preset in PRESETS.values())
    width, height = tiny.default_size
    assert width * height <= 128 * 128 and tiny.default_frames <= 17 and tiny.default_steps <= 4


@pytest.mark.parametrize(
    ("preset_id", "change", "complaint"),
    [
        ("ltx", {"default_frames": 120}, "8k+1"),
        ("ltx", {"resolutions": {"16:9": (840, 480)}}, "multiple of 32"),
        ("wan-1.3b", {"default_aspect": "4:3"}, "default aspect"),
        ("wan-1.3b", {"default_frames": 85}, "outside 1..81"),
        ("wan-1.3b", {"pipeline": "WanImageToVideoPipeline"}, "is not one of WanPipeline"),
        ("tiny", {"id": "Tiny Wan"}, "must be 1-32 characters"),
        ("tiny", {"guidance": float("nan")}, "field 'guidance': must be a finite number, not nan"),
        ("tiny", {"guidance": float("inf")}, "field 'guidance': must be a finite number, not inf"),
        ("tiny", {"vram_hint_gb": float("nan")}, "field 'vram_hint_gb': must be a finite number"),
        ("wan-14b", {"flow_shift": float("inf")}, "field 'flow_shift': must be a finite number"),
        ("tiny", {"guidance": 0.0}, "field 'guidance': must be greater than 0"),
        ("tiny", {"flow_shift": -1.0}, "field 'flow_shift': must be greater than 0"),
        ("tiny", {"fps": 0}, "field 'fps': must be at least 1"),
        ("tiny", {"default_steps": 0}, "field 'default_steps': must be at least 1"),
        ("tiny", {"cost_weight": 0}, "field 'cost_weight': must be between 1 and 1_000_000"),
        ("tiny", {"cost_weight": 10**6 + 1}, "field 'cost_weight': must be between 1 and"),
        ("tiny", {"resolutions": {"1:1": (0, 0)}}, "field 'resolutions': 1:1 is 0x0; both must"),
        ("tiny", {"default_frames": -3}, "field 'default_frames': default -3 frames is outside"),
        ("tiny", {"min_steps": 0}, "field 'min_steps': must be from 1 to default_steps (4)"),
        ("tiny", {"min_steps": 5}, "field 'min_steps': must be from 1 to default_steps (4)"),
        ("tiny", {"max_steps": 3}, "field 'max_steps': must be from default_steps (4) to 10000"),
        ("tiny", {"max_steps": 10_001}, "field 'max_steps': must be from default_steps (4) to 10000"),
        ("wan-1.3b", {"default_steps": 60}, "field 'max_steps': must be from default_steps (60)"),
        ("tiny", {"description": "x" * 81}, "field 'description': must be one line of at most 80"),
        ("tiny", {"description": "two\nlines"}, "field 'description': must be one line"),
    ],
)
def test_an_entry_that_contradicts_its_model_is_refused(preset_id: str, change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(PresetError, match=re.escape(complaint)):
        dataclasses.replace(get_preset(preset_id), **change)


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(UnknownPresetError) as raised:
        get_preset("sora")
    assert str(raised.value) == "unknown preset 'sora'; choose one of: wan-1.3b, ltx, cogvideox-2b, wan-14b, tiny"


def test_accepts_frames_follows_the_vae_stride() -> None:
    ltx = get_preset("ltx")
    assert [n for n in range(1, 30) if ltx.accepts_frames(n)] == [1, 9, 17, 25]
    assert not ltx.accepts_frames(ltx.max_frames + ltx.frame_step)


def test_importing_presets_loads_no_torch() -> None:
    """The job domain imports the catalogue; it must not drag torch or diffusers along."""
    heavy = _heavy_modules_after_import("model.presets")
    assert heavy == ""


def _heavy_modules_after_import(module: str) -> str:
    heavy = ("torch", "diffusers", "transformers", "av")
    code = f"import sys, {module}; print(*(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()
