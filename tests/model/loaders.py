"""Pipeline loaders the worker tests inject by import path (WorkerConfig.pipeline_loader)."""

from __future__ import annotations

import os
import time

import torch
from diffusers.pipelines.pipeline_utils import DiffusionPipeline

from model.pipeline import load_pipeline
from model.presets import Preset
from model.speed import SpeedOptions

FAIL_WORD = "explode"
"""A prompt containing this word makes the fragile pipeline raise."""
STEP_DELAY_SECONDS = 0.05
"""Added to every transformer call (two per step with guidance), so a cancel lands mid-render."""


HANG_WORD = "freeze"
"""A prompt containing this word makes the slow pipeline hang in its first denoising step."""
HANG_SECONDS = 120.0
BLOCK_LOAD_ENV = "TESTS_MODEL_BLOCK_LOAD_FILE"
"""While the file this environment variable names exists, the slow pipeline fails to load."""
NO_ROOM_ENV = "TESTS_MODEL_NO_ROOM_FILE"
"""While the file this environment variable names exists, loading runs out of GPU memory."""
HOLD_LOAD_ENV = "TESTS_MODEL_HOLD_LOAD_FILE"
"""While the file this environment variable names exists, the slow pipeline's load waits, having first made a file
of the same name ending in `.waiting`: a test acts while a worker loads, then lets it finish."""
GPU_ERROR_WORD = "scramble"
"""A prompt containing this word makes the fragile pipeline raise a CUDA error, as an illegal address would."""


def load_slow_and_fragile(
    preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions
) -> DiffusionPipeline:
    hold = os.environ.get(HOLD_LOAD_ENV)
    if hold and os.path.exists(hold):
        open(f"{hold}.waiting", "w").close()
        while os.path.exists(hold):
            time.sleep(0.05)
    block = os.environ.get(BLOCK_LOAD_ENV)
    if block and os.path.exists(block):
        raise OSError(f"loading is blocked while {block} exists")
    no_room = os.environ.get(NO_ROOM_ENV)
    if no_room and os.path.exists(no_room):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 28.58 GiB")
    pipe = load_pipeline(preset, device, dtype, speed)
    hang = {"armed": False}

    def slow_step(module: torch.nn.Module, args: object) -> None:
        time.sleep(HANG_SECONDS if hang["armed"] else STEP_DELAY_SECONDS)

    pipe.transformer.register_forward_pre_hook(slow_step)
    encode_prompt = pipe.encode_prompt

    def fragile_encode_prompt(prompt: str | list[str], *args: object, **kwargs: object) -> object:
        if FAIL_WORD in str(prompt):
            raise RuntimeError(f"injected failure for a prompt containing {FAIL_WORD!r}")
        if GPU_ERROR_WORD in str(prompt):
            raise torch.AcceleratorError("CUDA error: an illegal memory access was encountered")
        hang["armed"] = HANG_WORD in str(prompt)
        return encode_prompt(prompt, *args, **kwargs)

    pipe.encode_prompt = fragile_encode_prompt
    return pipe


def load_nothing(preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions) -> DiffusionPipeline:
    raise OSError(f"no weights for {preset.id} on this machine\n(a second line the reason must not carry)")


def die_while_loading(
    preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions
) -> DiffusionPipeline:
    os._exit(3)


MID_DENOISE_FAIL_WORD = "shatter"
"""A prompt containing this word makes the mid-denoise-fragile pipeline raise inside step 2."""
FAILING_STEP = 2


def load_fragile_mid_denoise(
    preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions
) -> DiffusionPipeline:
    """The real pipeline, whose transformer raises during denoising step FAILING_STEP (not before
    it, as load_slow_and_fragile's does) for prompts containing MID_DENOISE_FAIL_WORD."""
    pipe = load_pipeline(preset, device, dtype, speed)
    state = {"armed": False, "calls": 0}
    encode_prompt = pipe.encode_prompt

    def arming_encode_prompt(prompt: str | list[str], *args: object, **kwargs: object) -> object:
        state["armed"], state["calls"] = MID_DENOISE_FAIL_WORD in str(prompt), 0
        return encode_prompt(prompt, *args, **kwargs)

    def fail_at_step(module: torch.nn.Module, args: object) -> None:
        state["calls"] += 1
        # With guidance, each step calls the transformer twice (conditional, unconditional).
        calls_per_step = 2 if pipe.do_classifier_free_guidance else 1
        if state["armed"] and state["calls"] > (FAILING_STEP - 1) * calls_per_step:
            raise RuntimeError(f"injected failure in denoising step {FAILING_STEP}")

    pipe.encode_prompt = arming_encode_prompt
    pipe.transformer.register_forward_pre_hook(fail_at_step)
    return pipe
