"""The render runtime: loaded, warmed-up pipelines that turn a RenderSpec into frames and the
frames into a credited MP4 and poster under DATA_DIR.

It owns no process, thread or queue, so the local worker process and a remote (arq) worker drive
the same code. Every outcome is a contract event: a failure is a code with details, never a
sentence, and never an exception escaping to the host.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common.failures import Failure, FailureCode
from model.contract import (
    MEDIA_FOLDER,
    ClipSpec,
    Done,
    Failed,
    RenderResult,
    RenderSpec,
    VideoFile,
    manifest_key,
    result_to_manifest,
)
from model.presets import Preset
from model.speed import DeviceSetting, SpeedOptions

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import torch
    from diffusers.pipelines.pipeline_utils import DiffusionPipeline

    from model.encode import EncodedVideo
    from model.pipeline import OnStep

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 200
WARM_UP_STEPS = 2

PipelineLoader = Callable[[Preset, "torch.device", "torch.dtype", SpeedOptions], "DiffusionPipeline"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """Denoised and decoded frames, waiting to be encoded."""

    spec: RenderSpec
    frames: npt.NDArray[np.floating]
    render_seconds: float


@dataclass(frozen=True, slots=True)
class _Served:
    preset: Preset
    pipe: DiffusionPipeline


class RenderRuntime:
    def __init__(self, served: Mapping[str, _Served], data_dir: Path) -> None:
        self._served = served
        self._data_dir = data_dir

    @property
    def preset_ids(self) -> tuple[str, ...]:
        return tuple(self._served)

    @classmethod
    def load(
        cls,
        presets: Iterable[Preset],
        *,
        data_dir: Path,
        device: DeviceSetting,
        speed: SpeedOptions,
        loader: str = "model.pipeline:load_pipeline",
    ) -> RenderRuntime:
        """Load each preset's pipeline and warm it up. Raises what loading raises (see start_failure)."""
        import torch

        from model.pipeline import pick_device_for, pick_dtype, render

        (data_dir / MEDIA_FOLDER).mkdir(parents=True, exist_ok=True)  # before a download that may take minutes
        load = _import_loader(loader)
        served: dict[str, _Served] = {}
        for preset in presets:
            where = pick_device_for(preset, device)
            if where.type == "cpu":
                torch.set_num_threads(threads_for_cpu_rendering())
                log.info("rendering on the CPU with %d threads", torch.get_num_threads())
            log.info("loading preset %s on %s (%s)", preset.id, where, speed)
            pipe = load(preset, where, pick_dtype(preset, where), speed)
            # A short render of the preset's default clip (the shape most jobs have), so the first
            # member's job does not pay for lazy CUDA/kernel setup, nor, with VIDEO_COMPILE, for
            # compiling: compiled blocks are specialised to the shapes they first see.
            started = time.monotonic()
            render(pipe, preset, warm_up_clip(preset), on_step=lambda *_: None, should_stop=lambda: False)
            log.info("warmed up %s in %.1f s", preset.id, time.monotonic() - started)
            served[preset.id] = _Served(preset, pipe)
        return cls(served, data_dir)

    def render(self, spec: RenderSpec, *, on_step: OnStep, should_stop: Callable[[], bool]) -> Rendered | Failed:
        """Denoise and decode spec; a cancel (should_stop) ends in Failed(CANCELLED)."""
        import torch

        from model.pipeline import RenderInterrupted, execution_device, render

        served = self._served.get(spec.clip.preset_id)
        if served is None:
            return Failed(spec.job_id, Failure(FailureCode.PRESET_NOT_SERVED, {"preset_id": spec.clip.preset_id}))
        started = time.monotonic()
        try:
            frames = render(served.pipe, served.preset, spec.clip, on_step=on_step, should_stop=should_stop)
        except RenderInterrupted:
            failure = Failure(FailureCode.CANCELLED)
        except torch.OutOfMemoryError:
            log.exception("job %s ran out of GPU memory", spec.job_id)
            failure = Failure(FailureCode.OUT_OF_MEMORY)
        except torch.AcceleratorError as exc:
            # An illegal address or a failed launch leaves the CUDA context unusable for every later job.
            log.exception("job %s hit a GPU error", spec.job_id)
            failure = Failure(FailureCode.GPU_ERROR, {"error": short_reason(exc)})
        except Exception as exc:
            log.exception("job %s failed", spec.job_id)
            failure = Failure(FailureCode.RENDER_ERROR, {"error": short_reason(exc)})
        else:
            return Rendered(spec, frames, time.monotonic() - started)
        # Only now, outside the except block: its traceback pinned the failed render's tensors.
        if execution_device(served.pipe).type == "cuda" and failure.code is not FailureCode.GPU_ERROR:
            torch.cuda.empty_cache()
        return Failed(spec.job_id, failure)

    def encode(self, rendered: Rendered) -> Done | Failed:
        """The MP4 within spec.max_bytes and its poster, written under DATA_DIR/media."""
        from model.encode import write_poster

        spec = rendered.spec
        started = time.monotonic()
        video_key = f"{MEDIA_FOLDER}/{spec.job_id}.mp4"
        poster_key = f"{MEDIA_FOLDER}/{spec.job_id}.jpg"
        try:
            video = encode_clip(rendered.frames, spec, self._data_dir / video_key)
            write_poster(rendered.frames, self._data_dir / poster_key)
            result = RenderResult(
                video=VideoFile(
                    key=video_key,
                    bytes=video.bytes,
                    width=video.width,
                    height=video.height,
                    frames=video.frames,
                    fps=video.fps,
                ),
                poster_key=poster_key,
                render_seconds=rendered.render_seconds,
                encode_seconds=time.monotonic() - started,
            )
            write_manifest(result, self._data_dir / manifest_key(spec.job_id))
        except Exception as exc:
            log.exception("encoding job %s failed", spec.job_id)
            return Failed(spec.job_id, Failure(FailureCode.ENCODE_ERROR, {"error": short_reason(exc)}))
        return Done(spec.job_id, result)


def write_manifest(result: RenderResult, path: Path) -> None:
    """The finished clip's RenderResult next to it, written last and atomically (a temporary file, then a rename):
    a manifest that exists names an MP4 and poster that are complete, and it is never half written."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(result_to_manifest(result)), encoding="utf-8")
    os.replace(temporary, path)


def warm_up_clip(preset: Preset) -> ClipSpec:
    clip = preset.default_clip("warm-up")
    return dataclasses.replace(clip, steps=min(WARM_UP_STEPS, clip.steps))


def credit_metadata(spec: RenderSpec) -> dict[str, str]:
    """The MP4 tags that keep the credit with the file wherever it travels.

    No standard tag names a model's authors, and a key without an iTunes atom would turn every tag
    into a QuickTime mdta key (model/encode.py) that fewer players show, so the authors go in the text.
    """
    credit, clip = spec.credit, spec.clip
    description = (
        f"AI-generated video. Prompted by {credit.requester_name} (id {credit.requester_id}). "
        f"Model: {credit.model_id} by {credit.authors}; preset: {clip.preset_id}; licence: {credit.licence}; "
        f"seed: {clip.seed}; job: {spec.job_id}."
    )
    return {
        "title": clip.prompt,
        "artist": credit.requester_name,
        "comment": description,
        "description": description,
    }


def encode_clip(frames: npt.NDArray[np.floating], spec: RenderSpec, path: Path) -> EncodedVideo:
    """The clip as an MP4 at path within spec.max_bytes, carrying its credit."""
    from model.encode import encode_mp4

    return encode_mp4(frames, fps=spec.clip.fps, path=path, max_bytes=spec.max_bytes, metadata=credit_metadata(spec))


def short_reason(exc: BaseException) -> str:
    """One line for a failure: never a traceback (that goes to the log)."""
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return detail if len(detail) <= MAX_ERROR_CHARS else detail[: MAX_ERROR_CHARS - 1] + "…"


def threads_for_cpu_rendering() -> int:
    """Every core this process may use but one.

    A CPU render takes every thread torch is given, and the bot's event loop must still answer
    Discord within 3 seconds meanwhile: on a small machine one core stays free for it.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def _import_loader(path: str) -> PipelineLoader:
    module_name, _, function_name = path.partition(":")
    loader: PipelineLoader = getattr(importlib.import_module(module_name), function_name)
    return loader
