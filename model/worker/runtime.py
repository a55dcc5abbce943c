"""The render runtime: one loaded pipeline at a time that turns a RenderSpec into frames, and the frames
into a credited MP4 and poster under DATA_DIR.

It serves several presets on one GPU by holding at most one pipeline: the default (first) preset's, loaded
and warmed up at start, then whichever preset the last job needed; a job for another preset releases the
loaded pipeline before loading its own. Every preset is checked at start, so one that cannot be served stops
the start instead of failing jobs later.

It owns no process, thread or queue, so the local worker process and a remote (arq) worker drive
the same code. Every outcome is a contract event: a failure is a code with details, never a
sentence, and never an exception escaping to the host.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common.failures import Failure, FailureCode
from model.contract import (
    MEDIA_FOLDER,
    ClipSpec,
    Done,
    Failed,
    Preview,
    RenderResult,
    RenderSpec,
    Started,
    VideoFile,
    manifest_key,
    write_manifest,
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
class _Placement:
    """Where a preset computes and in what precision: chosen once, at start."""

    preset: Preset
    device: torch.device
    dtype: torch.dtype


@dataclass(frozen=True, slots=True)
class _Loaded:
    preset: Preset
    pipe: DiffusionPipeline


class RenderRuntime:
    def __init__(
        self,
        placements: Mapping[str, _Placement],
        loaded: _Loaded,
        *,
        load: PipelineLoader,
        speed: SpeedOptions,
        data_dir: Path,
    ) -> None:
        self._placements = placements
        self._loaded: _Loaded | None = loaded
        self._load = load
        self._speed = speed
        self._data_dir = data_dir

    @property
    def preset_ids(self) -> tuple[str, ...]:
        """What it serves, the default first."""
        return tuple(self._placements)

    @property
    def loaded_preset_id(self) -> str | None:
        """The preset whose pipeline it holds (the only one); None after a load failed, until a job loads its own."""
        return None if self._loaded is None else self._loaded.preset.id

    @classmethod
    def load(
        cls,
        presets: Sequence[Preset],
        *,
        data_dir: Path,
        device: DeviceSetting,
        speed: SpeedOptions,
        loader: str = "model.pipeline:load_pipeline",
    ) -> RenderRuntime:
        """Check every preset can be served here, then load the first (the default) and warm it up.

        Each preset's device and precision are chosen before any weights load, so a device that cannot serve
        one is refused at once. Each other preset is then loaded once and released: what pipeline.py refuses
        only with the components at hand (PresetLoadError), weights missing with downloads off, a first
        download, a model that does not fit, all happen at start rather than in a member's job. Raises what
        loading raises (see start_failure).
        """
        import torch

        from model.pipeline import pick_device_for, pick_dtype, render

        (data_dir / MEDIA_FOLDER).mkdir(parents=True, exist_ok=True)  # before a download that may take minutes
        load = _import_loader(loader)
        placements: dict[str, _Placement] = {}
        for preset in presets:
            where = pick_device_for(preset, device)
            placements[preset.id] = _Placement(preset, where, pick_dtype(preset, where))
        if any(placement.device.type == "cpu" for placement in placements.values()):
            torch.set_num_threads(threads_for_cpu_rendering())
            log.info("rendering on the CPU with %d threads", torch.get_num_threads())
        default, *others = placements.values()
        for placement in others:
            started = time.monotonic()
            _load(load, placement, speed)  # and dropped at once
            _free_memory(placement.device, speed)
            log.info(
                "checked preset %s: it loads (in %.1f s); released until a job needs it",
                placement.preset.id,
                time.monotonic() - started,
            )
        loaded = _load(load, default, speed)
        # A short render of the preset's default clip (the shape most jobs have), so the first
        # member's job does not pay for lazy CUDA/kernel setup, nor, with VIDEO_COMPILE, for
        # compiling: compiled blocks are specialised to the shapes they first see.
        started = time.monotonic()
        clip = warm_up_clip(loaded.preset)
        render(loaded.pipe, loaded.preset, clip, on_step=lambda *_: None, should_stop=lambda: False)
        log.info("warmed up %s in %.1f s", loaded.preset.id, time.monotonic() - started)
        return cls(placements, loaded, load=load, speed=speed, data_dir=data_dir)

    def render(
        self,
        spec: RenderSpec,
        *,
        on_started: Callable[[Started], None],
        on_step: OnStep,
        should_stop: Callable[[], bool],
        on_preview: Callable[[Preview], None] | None = None,
    ) -> Rendered | Failed:
        """Load spec's preset in place of the loaded one if it is another, say so (on_started: Started with the
        load's seconds, None when nothing loaded), then denoise and decode spec.

        While it denoises, on_preview gets a Preview now and then (model.preview), from a thread of its own, never
        after this returns. A cancel (should_stop) ends in Failed(CANCELLED); a failed load in
        Failed(MODEL_LOAD_FAILED), leaving no pipeline loaded, so the next job loads its own.
        """
        import torch

        from model.pipeline import RenderInterrupted, render
        from model.preview import live_preview

        placement = self._placements.get(spec.clip.preset_id)
        if placement is None:
            return Failed(spec.job_id, Failure(FailureCode.PRESET_NOT_SERVED, {"preset_id": spec.clip.preset_id}))
        load_seconds = None
        if self.loaded_preset_id != placement.preset.id:
            swapped = self._swap_to(placement, spec.job_id)
            if isinstance(swapped, Failed):
                return swapped
            load_seconds = swapped
        on_started(Started(spec.job_id, load_seconds))
        if should_stop():  # asked while it loaded
            return Failed(spec.job_id, Failure(FailureCode.CANCELLED))
        assert self._loaded is not None
        loaded = self._loaded
        previews = None
        if on_preview is not None:
            job_id = spec.job_id
            try:
                previews = live_preview(
                    loaded.pipe, spec.clip, lambda step, image: on_preview(Preview(job_id, step, image))
                )
            except Exception:  # a preview is a courtesy: the job renders without one
                log.exception("no live preview for job %s: it could not be set up", job_id)
        started = time.monotonic()
        try:
            frames = render(
                loaded.pipe,
                loaded.preset,
                spec.clip,
                on_step=on_step,
                should_stop=should_stop,
                on_latents=None if previews is None else previews.offer,
            )
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
        finally:
            if previews is not None:
                previews.close()
        # Only now, outside the except block: its traceback pinned the failed render's tensors.
        if placement.device.type == "cuda" and failure.code is not FailureCode.GPU_ERROR:
            torch.cuda.empty_cache()
        return Failed(spec.job_id, failure)

    def _swap_to(self, placement: _Placement, job_id: int) -> float | Failed:
        """Release the loaded pipeline, then load placement's: the seconds both took, or why the load failed."""
        import torch

        started = time.monotonic()
        was = self.loaded_preset_id
        if self._loaded is not None:
            released = self._placements[self._loaded.preset.id]
            self._loaded = None  # the only reference: the host holds none between jobs
            _free_memory(released.device, self._speed)
        preset_id = placement.preset.id
        try:
            self._loaded = _load(self._load, placement, self._speed)
        except torch.AcceleratorError as exc:
            log.exception("loading preset %s for job %s hit a GPU error", preset_id, job_id)
            failure = Failure(FailureCode.GPU_ERROR, {"error": short_reason(exc)})
        except Exception as exc:  # out of memory, a file gone from the cache, a refusal: this job fails, not the next
            log.exception("could not load preset %s for job %s", preset_id, job_id)
            failure = Failure(FailureCode.MODEL_LOAD_FAILED, {"preset_id": preset_id, "error": short_reason(exc)})
        else:
            seconds = time.monotonic() - started
            log.info("loaded preset %s in place of %s in %.1f s", preset_id, was or "none", seconds)
            return seconds
        # Only now, outside the except block: its traceback pinned what the failed load had built.
        if failure.code is not FailureCode.GPU_ERROR:
            _free_memory(placement.device, self._speed)
        return Failed(job_id, failure)

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


def _load(load: PipelineLoader, placement: _Placement, speed: SpeedOptions) -> _Loaded:
    log.info("loading preset %s on %s (%s)", placement.preset.id, placement.device, speed)
    return _Loaded(placement.preset, load(placement.preset, placement.device, placement.dtype, speed))


def _free_memory(device: torch.device, speed: SpeedOptions) -> None:
    """Give back the memory of a pipeline nothing refers to any more, for the next preset's load.

    With VIDEO_COMPILE, torch.compile's caches go too: they are keyed to the released modules, and each new
    pipeline's blocks would add entries until torch stops compiling them.
    """
    import torch

    if speed.compile:
        torch.compiler.reset()
    gc.collect()  # diffusers' hooks and the pipeline's own methods make reference cycles
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _import_loader(path: str) -> PipelineLoader:
    module_name, _, function_name = path.partition(":")
    loader: PipelineLoader = getattr(importlib.import_module(module_name), function_name)
    return loader
