"""Load a text-to-video pipeline and render one clip with it.

One readable file in the style of diffusers' own pipelines: numbered steps, explicit device and
dtype. The worker process and the command line both render through here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import diffusers
import numpy as np
import numpy.typing as npt
import torch
from diffusers import DiffusionPipeline
from huggingface_hub import try_to_load_from_cache

from model.contract import RenderSpec
from model.presets import TINY_PRESET_ID, Preset, get_preset
from model.tiny import build_tiny_pipeline

logger = logging.getLogger(__name__)

DeviceSetting = Literal["auto", "cuda", "cpu"]
DEVICE_SETTINGS: tuple[DeviceSetting, ...] = ("auto", "cuda", "cpu")

OnStep = Callable[[int, int, float], None]
"""on_step(step, total, elapsed_seconds), called after each denoising step (step counts from 1)."""


class DeviceError(Exception):
    """The requested device cannot serve the preset; the message says what to do instead."""


class InvalidSpecError(ValueError):
    """A render spec the preset's model cannot honour as given."""


class RenderInterrupted(Exception):
    """should_stop() asked the render to stop; it produced no clip."""


def pick_device(setting: DeviceSetting) -> torch.device:
    """'auto' takes the CUDA GPU when there is one; 'cuda' insists on it."""
    if setting not in DEVICE_SETTINGS:
        raise DeviceError(f"unknown device {setting!r}; use one of {', '.join(DEVICE_SETTINGS)}")
    if setting == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if setting == "cuda":
        raise DeviceError("device 'cuda' was requested but PyTorch sees no CUDA GPU")
    return torch.device("cpu")


def pick_device_for(preset: Preset, setting: DeviceSetting) -> torch.device:
    """pick_device, refusing to fall back to a CPU for a real model: that render takes hours."""
    device = pick_device(setting)
    if setting == "auto" and device.type == "cpu" and preset.id != TINY_PRESET_ID:
        raise DeviceError(
            f"no CUDA GPU found for preset {preset.id!r}; use device 'cpu' (--device cpu) to force "
            f"a very slow CPU render, or the {TINY_PRESET_ID!r} preset (--preset {TINY_PRESET_ID}) "
            "to try the pipeline"
        )
    return device


def pick_dtype(device: torch.device) -> torch.dtype:
    """bf16 where the GPU supports it, else fp16; float32 on a CPU, where half precision is slow."""
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def load_pipeline(preset: Preset, device: torch.device, dtype: torch.dtype) -> DiffusionPipeline:
    """The preset's pipeline on device, ready to render.

    `tiny` always runs in float32: random weights gain nothing from half precision, and only
    from_pretrained knows to keep diffusers' precision-sensitive layers (norms, rope) in float32.
    """
    # 1. Components: built in code for `tiny`, else the repo's weights (downloaded on first use).
    if preset.id == TINY_PRESET_ID:
        logger.info("building the %s pipeline with random weights (float32)", preset.id)
        pipe: DiffusionPipeline = build_tiny_pipeline()
    else:
        cached = isinstance(try_to_load_from_cache(preset.repo, "model_index.json"), str)
        action = "loading" if cached else "downloading (first start, several GB)"
        logger.info("%s %s for preset %s in %s", action, preset.repo, preset.id, dtype)
        pipeline_class: type[DiffusionPipeline] = getattr(diffusers, preset.pipeline)
        pipe = pipeline_class.from_pretrained(preset.repo, dtype=dtype)

    # 2. Scheduler settings the repo's config does not carry.
    if preset.flow_shift is not None:
        pipe.scheduler = type(pipe.scheduler).from_config(
            pipe.scheduler.config, flow_shift=preset.flow_shift
        )

    # 3. Move to the device (the dtype was set as the weights were loaded).
    pipe.to(device)

    # 4. Callers report progress themselves; diffusers' tqdm bar would only add noise to logs.
    pipe.set_progress_bar_config(disable=True)
    return pipe


def render(
    pipe: DiffusionPipeline,
    spec: RenderSpec,
    *,
    on_step: OnStep,
    should_stop: Callable[[], bool],
) -> npt.NDArray[np.float32]:
    """Render spec into (frames, height, width, 3) RGB floats in [0, 1].

    Raises RenderInterrupted when should_stop() turned true: checked after every denoising step.
    """
    # 1. Refuse what the model would silently round (diffusers warns and adjusts frames and sizes).
    check_spec(get_preset(spec.preset_id), spec)

    # 2. Seed a generator on the pipeline's device: same seed, same clip.
    generator = torch.Generator(device=pipe.device).manual_seed(spec.seed)

    # 3. After each step: report progress, and stop when asked. diffusers pipelines skip every
    #    remaining step once `_interrupt` is set (then decode what they have, which we drop).
    started = time.monotonic()
    stopped_after: int | None = None

    def step_ended(
        pipeline: DiffusionPipeline, step: int, timestep: torch.Tensor, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        nonlocal stopped_after
        on_step(step + 1, spec.steps, time.monotonic() - started)
        if should_stop():
            pipeline._interrupt = True
            stopped_after = step + 1
        return {}  # we change no tensors

    # 4. Denoise and decode.
    output = pipe(
        prompt=spec.prompt,
        negative_prompt=spec.negative_prompt,
        height=spec.height,
        width=spec.width,
        num_frames=spec.frames,
        num_inference_steps=spec.steps,
        guidance_scale=spec.guidance,
        generator=generator,
        output_type="np",
        callback_on_step_end=step_ended,
    )
    if stopped_after is not None:
        raise RenderInterrupted(
            f"job {spec.job_id} stopped after step {stopped_after} of {spec.steps}"
        )

    # 5. One clip per prompt: (T, H, W, 3).
    frames: npt.NDArray[np.float32] = output.frames[0]
    return frames


def check_spec(preset: Preset, spec: RenderSpec) -> None:
    if not preset.accepts_frames(spec.frames):
        raise InvalidSpecError(
            f"{preset.id} renders {preset.frame_step}k+1 frames up to {preset.max_frames}, "
            f"not {spec.frames}"
        )
    if spec.width % preset.size_step or spec.height % preset.size_step:
        raise InvalidSpecError(
            f"{preset.id} needs width and height in multiples of {preset.size_step}, "
            f"not {spec.width}x{spec.height}"
        )
    if spec.steps < 1:
        raise InvalidSpecError(f"steps must be at least 1, not {spec.steps}")
