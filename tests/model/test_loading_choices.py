"""What the worker chooses at load, and what it refuses at start rather than silently ignore: precision, offload,
scheduler shift, extra call arguments and the cache hook, on the real diffusers classes with random weights."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from diffusers.models.transformers.transformer_skyreels_v2 import SkyReelsV2Transformer3DModel
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.schedulers.scheduling_flow_match_euler_discrete import FlowMatchEulerDiscreteScheduler

from model.architectures import build_pipeline
from model.pipeline import (
    PresetLoadError,
    enable_first_block_cache,
    load_pipeline,
    pick_dtype,
    pick_offload,
    prepare_pipeline,
    render,
)
from model.presets import PRESETS, Preset
from model.speed import FirstBlockCache, Offload, SpeedOptions
from model.tiny import build_tiny_pipeline

CPU = torch.device("cpu")
GPU = torch.device("cuda")  # only named: the GPU's answers are monkeypatched below
TINY = PRESETS["tiny"]
GB = 10**9


def a_gpu(monkeypatch: pytest.MonkeyPatch, *, capability: tuple[int, int] = (8, 9), free_gb: float = 80.0) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (int(free_gb * GB), int(141 * GB)))


@pytest.mark.parametrize(
    ("preset_id", "capability", "dtype"),
    [
        ("wan-1.3b", (8, 9), torch.bfloat16),  # Ada, Hopper: bf16 natively
        ("wan-1.3b", (7, 5), torch.float16),  # T4, RTX 20xx: bf16 only emulated
        ("wan-1.3b", (7, 0), torch.float16),  # V100
        ("ltx", (9, 0), torch.bfloat16),
        ("cogvideox-2b", (9, 0), torch.float16),  # trained in fp16
    ],
)
def test_the_dtype_is_the_presets_where_the_gpu_computes_in_it(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    preset_id: str,
    capability: tuple[int, int],
    dtype: torch.dtype,
) -> None:
    a_gpu(monkeypatch, capability=capability)
    with caplog.at_level(logging.INFO, logger="model.pipeline"):
        assert pick_dtype(PRESETS[preset_id], GPU) == dtype
    said = caplog.records[-1].getMessage()
    assert f"preset {preset_id} computes in {str(dtype).removeprefix('torch.')}" in said
    if capability < (8, 0):
        assert "Test GPU only emulates bfloat16" in said


def test_a_cpu_computes_in_float32_whatever_the_preset() -> None:
    assert pick_dtype(PRESETS["cogvideox-2b"], CPU) == torch.float32


@pytest.mark.parametrize(
    ("preset_id", "free_gb", "chosen"),
    [
        ("wan-14b", 80.0, "none"),  # an H100: everything resident
        ("wan-14b", 40.0, "model"),  # the 28.6 GB transformer fits on its own
        ("wan-14b", 24.0, "group"),  # a 4090: layers stream in
        ("wan-1.3b", 24.0, "none"),
        ("wan-1.3b", 16.0, "model"),
        ("wan-1.3b", 12.0, "group"),  # its 11.4 GB text encoder alone leaves no room at 12 GB
    ],
)
def test_auto_offload_is_the_least_the_free_memory_allows(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, preset_id: str, free_gb: float, chosen: str
) -> None:
    a_gpu(monkeypatch, free_gb=free_gb)
    preset = PRESETS[preset_id]
    with caplog.at_level(logging.INFO, logger="model.pipeline"):
        assert pick_offload(preset, GPU, "auto") == chosen
    said = caplog.records[-1].getMessage()
    assert said.startswith(f"offload '{chosen}' for preset {preset_id}: the GPU has {free_gb:.1f} GB free")
    assert f"everything resident needs ~{preset.vram_hint_gb:g} GB" in said


@pytest.mark.parametrize("setting", ["none", "model", "group", "sequential"])
def test_an_operators_offload_is_kept_with_a_warning_where_it_will_not_fit(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, setting: Offload
) -> None:
    a_gpu(monkeypatch, free_gb=24.0)
    with caplog.at_level(logging.INFO, logger="model.pipeline"):
        assert pick_offload(PRESETS["wan-14b"], GPU, setting) == setting
    warned = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert bool(warned) == (setting in ("none", "model"))


def test_offload_is_skipped_on_a_cpu() -> None:
    assert pick_offload(PRESETS["wan-14b"], CPU, "auto") == "none"


@pytest.fixture
def pipe() -> DiffusionPipeline:
    return build_tiny_pipeline()


def tiny_with(**changes: Any) -> Preset:
    return dataclasses.replace(TINY, **changes)


def test_a_flow_shift_is_set_on_a_scheduler_that_has_one(pipe: DiffusionPipeline) -> None:
    prepared = prepare_pipeline(pipe, tiny_with(flow_shift=7.0), CPU)
    assert prepared.scheduler.config.flow_shift == 7.0


def test_a_flow_shift_for_a_scheduler_without_one_is_refused(pipe: DiffusionPipeline) -> None:
    """LTX's and CogVideoX's schedulers have no flow shift; diffusers would drop it without a word."""
    pipe.scheduler = FlowMatchEulerDiscreteScheduler()
    with pytest.raises(PresetLoadError, match="its scheduler \\(FlowMatchEulerDiscreteScheduler\\) has no flow shift"):
        prepare_pipeline(pipe, tiny_with(flow_shift=3.0), CPU)


@pytest.mark.parametrize(
    ("call_args", "complaint"),
    [
        ({"decode_timestep": 0.05}, "WanPipeline takes no argument 'decode_timestep'"),  # LTX's, not Wan's
        ({"num_frames": 9}, "call_args may not set num_frames, which each clip sets itself"),
        ({"negative_prompt": "x"}, "call_args may not set negative_prompt"),
    ],
)
def test_call_args_the_pipeline_does_not_take_are_refused_at_load(
    pipe: DiffusionPipeline, call_args: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(PresetLoadError, match=complaint):
        prepare_pipeline(pipe, tiny_with(call_args=call_args), CPU)


def test_call_args_reach_the_pipeline_call(pipe: DiffusionPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = tiny_with(call_args={"max_sequence_length": 24})
    prepared = prepare_pipeline(pipe, preset, CPU)
    lengths: list[object] = []
    encode_prompt = prepared.encode_prompt

    def recording_encode_prompt(*args: Any, **kwargs: Any) -> Any:
        lengths.append(kwargs.get("max_sequence_length"))
        return encode_prompt(*args, **kwargs)

    monkeypatch.setattr(prepared, "encode_prompt", recording_encode_prompt)
    frames = render(prepared, preset, preset.default_clip("a fox"), on_step=lambda *_: None, should_stop=lambda: False)
    assert lengths == [24] and frames.shape[0] == preset.default_frames


def test_the_presets_negative_prompt_is_the_default_and_a_members_own_replaces_it() -> None:
    wan = PRESETS["wan-1.3b"]
    assert wan.default_clip("a fox").negative_prompt.startswith("Bright tones, overexposed, static")
    assert wan.default_clip("a fox", negative_prompt="rain").negative_prompt == "rain"


def test_a_cache_hook_diffusers_lacks_for_the_transformer_is_refused_in_one_line() -> None:
    skyreels = SkyReelsV2Transformer3DModel(
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=4,
        out_channels=4,
        text_dim=32,
        ffn_dim=32,
        num_layers=2,
    )
    with pytest.raises(PresetLoadError) as refused:
        enable_first_block_cache(skyreels, 0.05)
    assert str(refused.value).startswith("VIDEO_CACHE=first-block does not work with SkyReelsV2Transformer3DModel")
    assert str(refused.value).endswith("set VIDEO_CACHE=off") and "\n" not in str(refused.value)


def test_a_preset_from_a_local_folder_loads_in_its_dtype_with_the_vae_in_its_own(tmp_path: Path) -> None:
    """Wan's VAE decodes best in float32 while the rest runs in bfloat16: each component loads in its own."""
    build_tiny_pipeline().save_pretrained(tmp_path / "wan")
    preset = dataclasses.replace(PRESETS["wan-1.3b"], id="local-wan", repo=str(tmp_path / "wan"), flow_shift=None)
    pipe = load_pipeline(preset, CPU, torch.bfloat16)
    assert pipe.transformer.dtype == torch.bfloat16 and pipe.text_encoder.dtype == torch.bfloat16
    assert pipe.vae.dtype == torch.float32


@pytest.fixture(scope="module")
def small() -> dict[str, DiffusionPipeline]:
    """Each built-in family at the small size, random weights: the real classes and schedulers."""
    return {
        preset_id: build_pipeline(PRESETS[preset_id], "small", CPU, torch.float32)
        for preset_id in ("wan-1.3b", "ltx", "cogvideox-2b")
    }


@pytest.mark.parametrize("preset_id", ["ltx", "cogvideox-2b"])
def test_the_real_ltx_and_cogvideox_schedulers_refuse_a_flow_shift(
    small: dict[str, DiffusionPipeline], preset_id: str
) -> None:
    preset = dataclasses.replace(PRESETS[preset_id], flow_shift=3.0)
    with pytest.raises(PresetLoadError, match="has no flow shift"):
        prepare_pipeline(small[preset_id], preset, CPU)


@pytest.mark.parametrize("preset_id", ["wan-1.3b", "ltx", "cogvideox-2b"])
def test_each_built_in_preset_prepares_with_its_call_args_and_the_cache_hook(
    small: dict[str, DiffusionPipeline], preset_id: str
) -> None:
    """The ltx preset's decode_timestep, frame_rate and decode_noise_scale are LTXConditionPipeline's own;
    FirstBlockCache has hooks for all three transformers."""
    preset = PRESETS[preset_id]
    prepared = prepare_pipeline(small[preset_id], preset, CPU, SpeedOptions(cache=FirstBlockCache()))
    assert prepared.transformer.is_cache_enabled
    if preset.flow_shift is not None:
        assert prepared.scheduler.config.flow_shift == preset.flow_shift
