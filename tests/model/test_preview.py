"""The live preview (model.preview): each family's projection against the real architectures and the real
pipelines' latent layouts, the clean frame it projects against what each scheduler itself predicts, the picture
it makes, and how often a render takes one."""

from __future__ import annotations

import copy
import dataclasses
import functools
import io
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import torch
from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXConditionPipeline
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.schedulers.scheduling_ddim import DDIMScheduler
from diffusers.schedulers.scheduling_flow_match_euler_discrete import FlowMatchEulerDiscreteScheduler
from diffusers.schedulers.scheduling_unipc_multistep import UniPCMultistepScheduler

from model import preview
from model.architectures import PIPELINE_FAMILIES, Family, architecture_for, build_pipeline
from model.contract import ClipSpec, Preview, Started
from model.pipeline import load_pipeline, prepare_pipeline, render
from model.presets import PRESETS, TINY_PRESET_ID
from model.preview import (
    COGVIDEOX,
    PREVIEW_LONG_SIDE,
    PROJECTIONS,
    WAN_2_1,
    LatentProjection,
    LivePreview,
    PackedGrid,
    Projector,
    clean_middle_for,
    live_preview,
    middle_frame,
    packed_grid,
    preview_size,
    projector_for,
)
from model.speed import SpeedOptions
from model.worker.runtime import Rendered, RenderRuntime
from tests.model.specs import TINY, tiny_spec

CPU = torch.device("cpu")
ONE_OF_EACH_FAMILY = ("wan-1.3b", "ltx", "cogvideox-2b")
# As in tests/model/test_selfcheck.py: LTXConditionPipeline hands numpy a torch tensor; harmless, not ours.
ignore_numpy_copy_warning = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def decoded(jpeg: bytes) -> np.ndarray:
    with av.open(io.BytesIO(jpeg), mode="r") as container:
        array: np.ndarray = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return array


def expected_pixel(rgb: torch.Tensor | tuple[float, ...]) -> np.ndarray:
    """ComfyUI's convention: [-1, 1] to [0, 255]."""
    return np.clip((np.asarray(rgb, dtype=np.float64) + 1) * 127.5, 0, 255)


# The tables against the architectures they are for.


@pytest.mark.parametrize("preset_id", [preset_id for preset_id in PRESETS if preset_id != TINY_PRESET_ID])
def test_each_built_in_preset_s_latents_have_its_family_s_channel_count(preset_id: str) -> None:
    preset = PRESETS[preset_id]
    vae = architecture_for(preset, "full").vae
    channels = vae.get("z_dim") or vae["latent_channels"]
    assert PROJECTIONS[PIPELINE_FAMILIES[preset.pipeline]].channels == channels


def test_tiny_is_a_wan_whose_latents_take_wan_s_projection() -> None:
    pipe = load_pipeline(TINY, CPU, torch.float32)
    assert PIPELINE_FAMILIES[TINY.pipeline] == "wan"
    assert pipe.vae.config.z_dim == WAN_2_1.channels
    projector = projector_for(pipe, TINY.default_clip("a fox"))
    assert projector is not None and projector.family == "wan"


def test_every_table_has_three_numbers_a_row_and_a_bias() -> None:
    for projection in PROJECTIONS.values():
        assert all(len(row) == 3 for row in projection.factors) and len(projection.bias) == 3


def test_a_pipeline_whose_latents_do_not_fit_its_family_s_table_gets_no_preview() -> None:
    small_ltx = build_pipeline(PRESETS["ltx"], "small", CPU, torch.float32)  # 16 channels, not LTX's 128
    assert projector_for(small_ltx, PRESETS["ltx"].default_clip("a fox")) is None


# Where the middle frame is: against diffusers' own layouts.


def numbered(channels: int, frames: int, height: int, width: int) -> torch.Tensor:
    """(1, C, F, H, W) whose every value is different, so a misplaced one shows."""
    return torch.arange(channels * frames * height * width, dtype=torch.float32).reshape(
        1, channels, frames, height, width
    )


def test_wan_s_middle_frame_is_the_middle_of_its_frame_axis() -> None:
    latents = numbered(16, 5, 4, 6)  # (B, C, F, H, W)
    assert torch.equal(middle_frame("wan", latents), latents[0, :, 2])


def test_cogvideox_s_middle_frame_is_the_middle_of_its_frame_axis() -> None:
    latents = numbered(16, 5, 4, 6).permute(0, 2, 1, 3, 4)  # (B, F, C, H, W)
    assert torch.equal(middle_frame("cogvideox", latents), latents[0, 2])


@pytest.mark.parametrize(("patch", "patch_t"), [(1, 1), (2, 1), (2, 2)])
@pytest.mark.parametrize("conditioning_tokens", [0, 3])
def test_ltx_s_packed_tokens_unpack_to_the_middle_frame(patch: int, patch_t: int, conditioning_tokens: int) -> None:
    latents = numbered(8, 6, 4, 6)
    packed = LTXConditionPipeline._pack_latents(latents, patch, patch_t)
    # A conditioned render puts its conditioning tokens first; the video's follow.
    packed = torch.cat([torch.full((1, conditioning_tokens, packed.shape[2]), -1.0), packed], dim=1)
    grid = PackedGrid(frames=6, height=4, width=6, patch=patch, patch_t=patch_t)
    middle = (6 // patch_t) // 2 * patch_t  # the first frame of the middle temporal patch
    assert torch.equal(middle_frame("ltx", packed, grid), latents[0, :, middle])


def sixteen_channel_ltx() -> LatentProjection:
    return LatentProjection(factors=WAN_2_1.factors, bias=WAN_2_1.bias)


@pytest.mark.parametrize("preset_id", ONE_OF_EACH_FAMILY)
@ignore_numpy_copy_warning
def test_the_real_pipelines_latents_are_where_the_preview_looks(preset_id: str) -> None:
    """Each family's small pipeline (its real class, callback and packing) renders a 128x64 clip: the preview
    finds its middle frame as the pipeline itself lays it out (LTX: as it unpacks it), at the latent size."""
    preset = PRESETS[preset_id]
    pipe = prepare_pipeline(build_pipeline(preset, "small", CPU, torch.float32), preset, CPU, SpeedOptions())
    clip = dataclasses.replace(
        preset.default_clip("a fox"), frames=1 + 2 * preset.frame_step, width=128, height=64, steps=1
    )
    seen: list[torch.Tensor] = []
    render(
        pipe,
        preset,
        clip,
        on_step=lambda *_: None,
        should_stop=lambda: False,
        on_latents=lambda step, latents: seen.append(latents.clone()),
    )
    [latents] = seen
    family: Family = PIPELINE_FAMILIES[preset.pipeline]
    projections: Mapping[Family, LatentProjection] = {family: sixteen_channel_ltx()} if family == "ltx" else PROJECTIONS
    projector = projector_for(pipe, clip, projections)
    assert projector is not None
    grid = packed_grid(pipe, clip) if family == "ltx" else None
    frame = middle_frame(family, latents, grid)

    if family == "ltx":
        assert grid is not None
        video = pipe._unpack_latents(latents, grid.frames, grid.height, grid.width, grid.patch, grid.patch_t)
        assert torch.equal(frame, video[0, :, grid.frames // 2])
        spatial = pipe.vae_spatial_compression_ratio
    elif family == "wan":
        assert latents.shape[1] == pipe.vae.config.z_dim  # (B, C, F, H, W)
        spatial = pipe.vae_scale_factor_spatial
    else:
        assert latents.shape[2] == pipe.vae.config.latent_channels  # (B, F, C, H, W)
        spatial = pipe.vae_scale_factor_spatial
    assert frame.shape == (16, clip.height // spatial, clip.width // spatial)
    image = decoded(projector.capture(1, projector.middle(latents)).jpeg())
    assert image.shape == (PREVIEW_LONG_SIDE // 2, PREVIEW_LONG_SIDE, 3)  # 2:1, like the clip


# The clean frame: what each scheduler itself predicts, from the real small pipelines.


def small_pipeline(preset_id: str) -> DiffusionPipeline:
    preset = PRESETS[preset_id]
    return prepare_pipeline(build_pipeline(preset, "small", CPU, torch.float32), preset, CPU, SpeedOptions())


def small_clip(preset_id: str, steps: int) -> ClipSpec:
    preset = PRESETS[preset_id]
    return dataclasses.replace(
        preset.default_clip("a fox"), frames=1 + 2 * preset.frame_step, width=128, height=64, steps=steps
    )


def the_scheduler_s_own_predictions(pipe: DiffusionPipeline) -> list[torch.Tensor]:
    """After each of pipe's steps, the clean sample x0 as its scheduler's own code has it: UniPC's flow x0 from the
    step's model output and sigma (what the preview reads from model_outputs must be that, not v or noise), the
    flow-matching Euler step taken again by a copy of the scheduler down to sigma 0, DDIM's pred_original_sample."""
    scheduler, step = pipe.scheduler, pipe.scheduler.step
    predictions: list[torch.Tensor] = []

    @functools.wraps(step)
    def spied(
        model_output: torch.Tensor, timestep: torch.Tensor, sample: torch.Tensor, *args: Any, **kwargs: Any
    ) -> Any:
        twin = copy.deepcopy(scheduler)  # as it was before the step
        result = step(model_output, timestep, sample, *args, **kwargs)
        if isinstance(scheduler, UniPCMultistepScheduler):
            predictions.append(sample - scheduler.sigmas[scheduler.step_index - 1] * model_output)
        elif isinstance(scheduler, FlowMatchEulerDiscreteScheduler):
            twin.sigmas = twin.sigmas.clone()
            twin.sigmas[scheduler.step_index :] = 0.0  # every sigma after this step's: it steps to x0
            predictions.append(type(twin).step(twin, model_output, timestep, sample, *args, **kwargs)[0])
        else:
            predictions.append(result[1])  # CogVideoXDDIMScheduler: (prev_sample, pred_original_sample)
        return result

    scheduler.step = spied
    return predictions


@pytest.mark.parametrize(("preset_id", "first_told"), [("wan-1.3b", 1), ("ltx", 2), ("cogvideox-2b", 2)])
@ignore_numpy_copy_warning
def test_the_preview_s_frame_is_the_clean_one_each_family_s_scheduler_predicts(preset_id: str, first_told: int) -> None:
    """Not the noisy latents the step leaves: the clean middle frame, told from the first step that has one (Wan's
    UniPC keeps it; the others imply it from two steps' latents) and at every step after it."""
    pipe, clip = small_pipeline(preset_id), small_clip(preset_id, steps=4)
    projector = projector_for(pipe, clip, {PIPELINE_FAMILIES[type(pipe).__name__]: sixteen_channel_ltx()})
    assert projector is not None
    clean = clean_middle_for(pipe, projector.middle)
    assert clean is not None
    predictions = the_scheduler_s_own_predictions(pipe)
    told: dict[int, torch.Tensor | None] = {}

    def tell(step: int, latents: torch.Tensor) -> None:
        told[step] = clean.after(step, latents)
        if step < clip.steps:  # the last step leaves x0 itself
            assert not torch.allclose(projector.middle(latents), projector.middle(predictions[step - 1]), atol=0.1)

    render(pipe, PRESETS[preset_id], clip, on_step=lambda *_: None, should_stop=lambda: False, on_latents=tell)
    assert [step for step, frame in told.items() if frame is not None] == list(range(first_told, clip.steps + 1))
    for step, frame in told.items():
        if frame is not None:
            expected = projector.middle(predictions[step - 1]).float()
            torch.testing.assert_close(frame, expected, rtol=1e-4, atol=1e-4)


def test_a_scheduler_whose_prediction_the_preview_does_not_know_gets_no_preview(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="model.preview")
    pipe = load_pipeline(TINY, CPU, torch.float32)
    pipe.scheduler = DDIMScheduler()  # a DDIM step may clip or threshold its x0: not CogVideoX's
    assert live_preview(pipe, TINY.default_clip("a fox"), lambda step, image: None) is None
    assert "its scheduler DDIMScheduler is not one" in caplog.text


# The picture.


@pytest.mark.parametrize(
    ("width", "height", "size"), [(832, 480, (256, 148)), (480, 832, (148, 256)), (8, 8, (256, 256))]
)
def test_the_preview_is_the_long_side_s_pixels_with_the_clip_s_aspect(
    width: int, height: int, size: tuple[int, int]
) -> None:
    assert preview_size(width, height) == size


def test_zero_latents_show_the_bias_colour_and_ones_the_factors_sums() -> None:
    projector = Projector("wan", WAN_2_1, grid=None)
    zeros = torch.zeros(1, 16, 3, 6, 10)
    ones = torch.ones(1, 16, 3, 6, 10)
    sums = tuple(sum(row[i] for row in WAN_2_1.factors) + WAN_2_1.bias[i] for i in range(3))
    for latents, rgb in ((zeros, WAN_2_1.bias), (ones, sums)):
        image = decoded(projector.capture(1, projector.middle(latents)).jpeg())
        assert image.shape == (154, 256, 3)  # 6x10 latent pixels, 256 on the long side, even
        # A flat colour survives JPEG within a level or two (YUV rounding).
        np.testing.assert_allclose(image.reshape(-1, 3).mean(axis=0), expected_pixel(rgb), atol=3)


def test_one_channel_lights_its_own_row() -> None:
    projector = Projector("cogvideox", COGVIDEOX, grid=None)
    latents = torch.zeros(1, 3, 16, 4, 4)  # (B, F, C, H, W)
    latents[0, 1, 9] = 2.0  # the middle frame's channel 9: CogVideoX's bluest row
    pixels = projector.capture(1, projector.middle(latents))
    image = decoded(pixels.jpeg())
    rgb = tuple(2.0 * COGVIDEOX.factors[9][i] + COGVIDEOX.bias[i] for i in range(3))
    np.testing.assert_allclose(image.reshape(-1, 3).mean(axis=0), expected_pixel(rgb), atol=3)


def test_cogvideox_latents_are_rescaled_to_the_scale_the_factors_were_fitted_at() -> None:
    preset = PRESETS["cogvideox-2b"]
    pipe = build_pipeline(preset, "small", CPU, torch.float32)
    scaling = pipe.vae.config.scaling_factor  # CogVideoX-2b's 1.15258426
    projector = projector_for(pipe, preset.default_clip("a fox"))
    assert projector is not None
    latents = torch.full((1, 3, 16, 4, 4), 0.5)
    image = decoded(projector.capture(1, projector.middle(latents)).jpeg())
    rgb = tuple(0.5 * 0.7 / scaling * sum(row[i] for row in COGVIDEOX.factors) + COGVIDEOX.bias[i] for i in range(3))
    np.testing.assert_allclose(image.reshape(-1, 3).mean(axis=0), expected_pixel(rgb), atol=3)


# How often.


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def wan_latents() -> torch.Tensor:
    return torch.randn(1, 16, 3, 6, 10, generator=torch.Generator().manual_seed(1))


def as_if_clean(projector: Projector) -> Callable[[int, torch.Tensor], torch.Tensor | None]:
    """A clean frame for the made-up latents of the tests on timing: their own middle frame."""
    return lambda step, latents: projector.middle(latents)


def wan_previews(emit: Callable[[int, bytes], None], **timing: Any) -> LivePreview:
    projector = Projector("wan", WAN_2_1, grid=None)
    return LivePreview(projector, as_if_clean(projector), emit, **timing)


def test_a_render_takes_a_preview_at_its_first_step_then_one_every_interval() -> None:
    clock, images, arrived = ManualClock(), list[tuple[int, bytes]](), threading.Condition()

    def emit(step: int, image: bytes) -> None:
        with arrived:
            images.append((step, image))
            arrived.notify()

    previews = wan_previews(emit, every=10.0, clock=clock)
    taken = 0
    for step, now in enumerate((0.0, 4.0, 9.9, 10.0, 15.0, 20.5), start=1):
        clock.now = now
        previews.offer(step, wan_latents())
        taken += step in (1, 4, 6)
        with arrived:  # each taken one goes out before the next offer: none is dropped for a newer one
            arrived.wait_for(lambda: len(images) >= taken, timeout=10)  # noqa: B023 (called right here)
    previews.close()
    assert [step for step, _ in images] == [1, 4, 6]
    assert all(decoded(image).shape == (154, 256, 3) for _, image in images)


def test_a_due_preview_whose_clean_frame_comes_a_step_later_is_taken_then() -> None:
    clock, steps = ManualClock(), list[int]()
    projector = Projector("wan", WAN_2_1, grid=None)

    def clean(step: int, latents: torch.Tensor) -> torch.Tensor | None:
        return None if step in (1, 5) else projector.middle(latents)  # as an estimate needing two steps would

    previews = LivePreview(projector, clean, lambda step, image: steps.append(step), every=10.0, clock=clock)
    for step, now in enumerate((0.0, 1.0, 5.0, 10.9, 11.0, 12.0), start=1):
        clock.now = now
        previews.offer(step, wan_latents())
    previews.close()
    # Step 1 was due but could not be told: step 2 is taken (at 1.0), so 10.9 is too soon, 11.0 due but not told.
    assert steps[-1] == 6 and set(steps) <= {2, 6}


def test_the_picture_is_the_clean_frame_not_the_latents() -> None:
    images: list[bytes] = []
    projector = Projector("wan", WAN_2_1, grid=None)
    clean = torch.zeros(16, 6, 10)
    previews = LivePreview(projector, lambda step, latents: clean, lambda step, image: images.append(image), every=0.0)
    previews.offer(1, torch.ones(1, 16, 3, 6, 10))
    previews.close()
    [image] = images
    np.testing.assert_allclose(decoded(image).reshape(-1, 3).mean(axis=0), expected_pixel(WAN_2_1.bias), atol=3)


def test_a_preview_that_cannot_be_taken_never_fails_the_render(caplog: pytest.LogCaptureFixture) -> None:
    images: list[Any] = []
    wrong_grid = PackedGrid(frames=9, height=9, width=9, patch=1, patch_t=1)  # more tokens than there are
    projector = Projector("ltx", sixteen_channel_ltx(), grid=wrong_grid)
    previews = LivePreview(projector, as_if_clean(projector), lambda step, image: images.append(step), every=0.0)
    previews.offer(1, torch.zeros(1, 12, 16))
    previews.offer(2, torch.zeros(1, 12, 16))
    previews.close()
    assert images == []
    assert caplog.text.count("could not take a preview of step 1; none more for this render") == 1


def test_a_preview_that_cannot_be_sent_is_lost_and_the_next_goes_out(caplog: pytest.LogCaptureFixture) -> None:
    sent, tried = [], threading.Event()

    def emit(step: int, image: bytes) -> None:
        if step == 1:
            tried.set()
            raise ValueError("the events queue is closed")
        sent.append(step)

    previews = wan_previews(emit, every=0.0)
    previews.offer(1, wan_latents())
    assert tried.wait(timeout=10)
    previews.offer(2, wan_latents())
    previews.close()
    assert sent == [2]
    assert "could not send the preview of step 1" in caplog.text


def test_close_sends_what_was_taken_and_nothing_after() -> None:
    steps: list[int] = []
    previews = wan_previews(lambda step, image: steps.append(step), every=0.0)
    previews.offer(1, wan_latents())
    previews.close()
    previews.offer(2, wan_latents())
    previews.close()
    assert steps == [1]


def test_the_tiny_render_takes_its_previews_through_the_pipeline_s_callback() -> None:
    pipe = load_pipeline(TINY, CPU, torch.float32)
    clip: ClipSpec = dataclasses.replace(TINY.default_clip("a fox"), steps=3)
    images: list[tuple[int, bytes]] = []
    previews = live_preview(pipe, clip, lambda step, image: images.append((step, image)), every=0.0)
    assert previews is not None
    render(pipe, TINY, clip, on_step=lambda *_: None, should_stop=lambda: False, on_latents=previews.offer)
    previews.close()
    # Every step offered one (an interval of 0): the thread may drop one for a newer, never the last, nor the order.
    steps = [step for step, _ in images]
    assert steps[-1] == 3 and steps == sorted(set(steps))
    width, height = TINY.resolutions[TINY.default_aspect]
    assert decoded(images[-1][1]).shape == (*reversed(preview_size(width, height)), 3)


def test_a_preview_that_cannot_be_set_up_leaves_the_job_to_render_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = RenderRuntime.load((TINY,), data_dir=tmp_path, device="cpu", speed=SpeedOptions())

    def projector_that_raises(*args: object) -> Projector:
        raise RuntimeError("CUDA error: out of memory")  # as making its weights on the GPU could

    monkeypatch.setattr(preview, "projector_for", projector_that_raises)
    started: list[Started] = []
    previews: list[Preview] = []
    outcome = runtime.render(
        tiny_spec(steps=2),
        on_started=started.append,
        on_step=lambda *_: None,
        should_stop=lambda: False,
        on_preview=previews.append,
    )
    assert isinstance(outcome, Rendered) and started and previews == []
    assert "no live preview for job 1: it could not be set up" in caplog.text
