"""Pipeline loaders the worker tests inject by import path (WorkerConfig.pipeline_loader)."""

from __future__ import annotations

import os
import time

import torch
from diffusers import DiffusionPipeline

from model.pipeline import load_pipeline
from model.presets import Preset
from model.speed import SpeedOptions

FAIL_WORD = "explode"
"""A prompt containing this word makes the fragile pipeline raise."""
STEP_DELAY_SECONDS = 0.05
"""Added to every transformer call (two per step with guidance), so a cancel lands mid-render."""


def load_slow_and_fragile(
    preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions
) -> DiffusionPipeline:
    pipe = load_pipeline(preset, device, dtype, speed)
    pipe.transformer.register_forward_pre_hook(lambda module, args: time.sleep(STEP_DELAY_SECONDS))
    encode_prompt = pipe.encode_prompt

    def fragile_encode_prompt(prompt: str | list[str], *args: object, **kwargs: object) -> object:
        if FAIL_WORD in str(prompt):
            raise RuntimeError(f"injected failure for a prompt containing {FAIL_WORD!r}")
        return encode_prompt(prompt, *args, **kwargs)

    pipe.encode_prompt = fragile_encode_prompt
    return pipe


def load_nothing(
    preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions
) -> DiffusionPipeline:
    raise OSError(
        f"no weights for {preset.id} on this machine\n(a second line the reason must not carry)"
    )


def die_while_loading(
    preset: Preset, device: torch.device, dtype: torch.dtype, speed: SpeedOptions
) -> DiffusionPipeline:
    os._exit(3)
