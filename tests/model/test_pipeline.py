"""The tiny preset through the real WanPipeline: shapes, determinism, progress, interruption
and the speed options a CPU can run."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers.models.transformers.transformer_wan import WanTransformer3DModel
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.pipelines.wan.pipeline_wan import WanPipeline

from model.contract import ClipSpec
from model.pipeline import (
    DeviceError,
    InvalidSpecError,
    RenderInterrupted,
    execution_device,
    load_pipeline,
    pick_device,
    pick_device_for,
    pick_dtype,
    render,
    reporting_download,
)
from model.presets import get_preset
from model.speed import FirstBlockCache, Offload, SpeedOptions
from model.tiny import build_tiny_pipeline, build_tokenizer
from tests.model.loaders import FAILING_STEP, MID_DENOISE_FAIL_WORD, load_fragile_mid_denoise
from tests.model.specs import TINY, tiny_spec


def tiny_clip(**changes: Any) -> ClipSpec:
    return tiny_spec(**changes).clip


CPU = torch.device("cpu")
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without a CUDA GPU")


@pytest.fixture(scope="module")
def pipe() -> DiffusionPipeline:
    return load_pipeline(TINY, CPU, pick_dtype(TINY, CPU))


def render_quietly(pipe: DiffusionPipeline, clip: ClipSpec) -> np.ndarray:
    return render(pipe, TINY, clip, on_step=lambda *_: None, should_stop=lambda: False)


def test_tiny_is_a_genuine_wan_pipeline(pipe: DiffusionPipeline) -> None:
    assert type(pipe) is WanPipeline
    assert type(pipe.scheduler).__name__ == "UniPCMultistepScheduler"
    assert pipe.scheduler.config.prediction_type == "flow_prediction"
    assert pipe.device == CPU and pipe.transformer.dtype == torch.float32


@pytest.mark.parametrize("aspect", TINY.resolutions)
@pytest.mark.parametrize("frames", [9, 17])
def test_renders_the_requested_frames_and_size(pipe: DiffusionPipeline, aspect: str, frames: int) -> None:
    width, height = TINY.resolutions[aspect]
    clip = render_quietly(pipe, tiny_clip(frames=frames, width=width, height=height))
    assert clip.shape == (frames, height, width, 3)
    assert np.isfinite(clip).all() and clip.min() >= 0 and clip.max() <= 1


def test_same_seed_same_frames_other_seed_other_frames(pipe: DiffusionPipeline) -> None:
    first = render_quietly(pipe, tiny_clip(seed=11))
    again = render_quietly(pipe, tiny_clip(seed=11))
    other = render_quietly(pipe, tiny_clip(seed=12))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).mean() > 1e-3


def test_every_build_has_the_same_weights_and_leaves_the_global_rng_alone() -> None:
    rng_before = torch.random.get_rng_state()
    first, second = build_tiny_pipeline(), build_tiny_pipeline()
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    for name in ("text_encoder", "transformer", "vae"):
        first_weights, second_weights = (
            getattr(first, name).state_dict(),
            getattr(second, name).state_dict(),
        )
        assert all(torch.equal(first_weights[key], second_weights[key]) for key in first_weights)


def test_progress_is_reported_after_every_step(pipe: DiffusionPipeline) -> None:
    reports: list[tuple[int, int, float]] = []
    render(
        pipe,
        TINY,
        tiny_clip(steps=3),
        on_step=lambda *report: reports.append(report),
        should_stop=lambda: False,
    )
    assert [(step, total) for step, total, _ in reports] == [(1, 3), (2, 3), (3, 3)]
    elapsed = [seconds for _, _, seconds in reports]
    assert elapsed == sorted(elapsed) and elapsed[0] > 0


def test_should_stop_interrupts_within_one_step_and_decodes_nothing(
    pipe: DiffusionPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[int] = []
    decodes: list[object] = []
    decode = pipe.vae.decode

    def counted_decode(*args: Any, **kwargs: Any) -> Any:
        decodes.append(args)
        return decode(*args, **kwargs)

    monkeypatch.setattr(pipe.vae, "decode", counted_decode)
    with pytest.raises(RenderInterrupted, match="after step 2 of 10"):
        render(
            pipe,
            TINY,
            tiny_clip(steps=10),
            on_step=lambda step, total, elapsed: steps.append(step),
            should_stop=lambda: len(steps) >= 2,
        )
    assert steps == [1, 2]
    assert decodes == []  # a cancelled clip is dropped, so the VAE never decodes it


def test_the_pipeline_renders_again_after_an_interruption(pipe: DiffusionPipeline) -> None:
    with pytest.raises(RenderInterrupted):
        render(pipe, TINY, tiny_clip(), on_step=lambda *_: None, should_stop=lambda: True)
    assert render_quietly(pipe, tiny_clip()).shape[0] == TINY.default_frames


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"frames": 16}, r"4k\+1 frames up to 33, not 16"),
        ({"frames": TINY.max_frames + 4}, "up to 33, not 37"),
        ({"width": 100}, "multiples of 16"),
        ({"steps": 0}, "at least 1"),
    ],
)
def test_specs_the_model_would_silently_adjust_are_refused(
    pipe: DiffusionPipeline, changes: dict[str, int], complaint: str
) -> None:
    with pytest.raises(InvalidSpecError, match=complaint):
        render_quietly(pipe, tiny_clip(**changes))


@pytest.mark.parametrize(
    "prompt", ["", "Con cáo chạy trong tuyết lúc hoàng hôn", "雪の中の狐 🦊", "@everyone <script>"]
)
def test_any_prompt_tokenizes(prompt: str) -> None:
    tokenizer = build_tokenizer()
    ids = tokenizer(prompt).input_ids
    assert ids[-1] == tokenizer.eos_token_id
    assert all(0 <= token < len(tokenizer) for token in ids)


def test_cpu_renders_in_float32() -> None:
    assert pick_dtype(TINY, CPU) == torch.float32
    assert pick_device("cpu") == CPU


def test_an_unknown_device_setting_is_refused() -> None:
    with pytest.raises(DeviceError, match="unknown device 'gpu'"):
        pick_device("gpu")  # type: ignore[arg-type]


@no_gpu
def test_auto_device_without_a_gpu_refuses_a_real_model_but_not_tiny() -> None:
    with pytest.raises(DeviceError) as raised:
        pick_device_for(get_preset("wan-1.3b"), "auto")
    assert "--device cpu" in str(raised.value) and "--preset tiny" in str(raised.value)
    assert pick_device_for(TINY, "auto") == CPU
    assert pick_device_for(get_preset("wan-1.3b"), "cpu") == CPU


@no_gpu
def test_asking_for_cuda_without_a_gpu_is_refused() -> None:
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        pick_device("cuda")


@pytest.mark.parametrize("offload", ["model", "group", "sequential"])
def test_offload_is_skipped_on_a_cpu_with_a_log_line(offload: Offload, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="model.pipeline"):
        offloaded = load_pipeline(TINY, CPU, torch.float32, SpeedOptions(offload=offload))
    assert f"offload {offload!r} skipped: the pipeline runs on the CPU" in caplog.messages
    assert execution_device(offloaded) == CPU
    assert render_quietly(offloaded, tiny_clip()).shape[0] == TINY.default_frames


def test_the_cache_hook_and_vae_tiling_still_render(pipe: DiffusionPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    options = SpeedOptions(vae_tiling=True, cache=FirstBlockCache(threshold=0.5))
    cached = load_pipeline(TINY, CPU, torch.float32, options)
    assert cached.transformer.is_cache_enabled
    tiled_decode = cached.vae.tiled_decode
    tiled_decodes: list[tuple[Any, ...]] = []

    def counted_tiled_decode(*args: Any, **kwargs: Any) -> Any:
        tiled_decodes.append(args)
        return tiled_decode(*args, **kwargs)

    monkeypatch.setattr(cached.vae, "tiled_decode", counted_tiled_decode)
    wide = tiny_clip(width=320, height=64)  # wider than one 256-pixel VAE tile

    clip = render_quietly(cached, wide)
    assert clip.shape == (wide.frames, 64, 320, 3) and len(tiled_decodes) == 1
    assert np.isfinite(clip).all() and clip.min() >= 0 and clip.max() <= 1
    # A threshold this loose skips blocks on the tiny model: the hook is really in the loop.
    assert np.abs(clip - render_quietly(pipe, wide)).max() > 0.01


# torch.compile imports inductor, whose own imports use a torch API torch deprecates.
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("names_its_blocks", [True, False], ids=["regional", "module-lists"])
def test_compile_wraps_each_transformer_block_not_the_whole_model(
    names_its_blocks: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiling happens at the first render (minutes on a CPU): here only the wiring is seen."""
    if not names_its_blocks:  # like CogVideoX, whose transformer names no repeated blocks
        monkeypatch.setattr(WanTransformer3DModel, "_repeated_blocks", [])
    compiled = load_pipeline(TINY, CPU, torch.float32, SpeedOptions(compile=True))
    transformer = compiled.transformer
    assert all(block._compiled_call_impl is not None for block in transformer.blocks)
    assert transformer._compiled_call_impl is None


def test_a_download_reports_what_has_arrived(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    with (blobs / "abc.incomplete").open("wb") as partial:
        partial.truncate(2_500_000_000)  # sparse: a large size, no disk
    with caplog.at_level(logging.INFO, logger="model.pipeline"):
        with reporting_download("Wan-AI/Wan", blobs, total=10_000_000_000, every=0.01):
            deadline = time.monotonic() + 5
            while not caplog.messages and time.monotonic() < deadline:
                time.sleep(0.01)
    assert caplog.messages[0] == "downloading Wan-AI/Wan: 2.5 GB of 10.0 GB so far"


def test_a_render_that_fails_mid_denoise_leaves_the_pipeline_usable() -> None:
    """diffusers resets the cache hook's state only at the end of a successful call: after a
    failure, the next job of another size would meet the stale cached tensors."""
    cached = load_fragile_mid_denoise(TINY, CPU, torch.float32, SpeedOptions(cache=FirstBlockCache(threshold=0.05)))
    steps: list[int] = []
    with pytest.raises(RuntimeError, match=f"injected failure in denoising step {FAILING_STEP}"):
        render(
            cached,
            TINY,
            tiny_clip(prompt=f"a vase, {MID_DENOISE_FAIL_WORD}", width=64, height=64),
            on_step=lambda step, *_: steps.append(step),
            should_stop=lambda: False,
        )
    assert steps == list(range(1, FAILING_STEP))  # it failed inside denoising, not before
    clip = render_quietly(cached, tiny_clip(width=112, height=64))
    assert clip.shape == (TINY.default_frames, 64, 112, 3)
