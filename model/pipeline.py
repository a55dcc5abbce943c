"""Load a text-to-video pipeline and render one clip with it.

One readable file in the style of diffusers' own pipelines: numbered steps, explicit device and
dtype. The worker process and the command line both render through here.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import numpy.typing as npt
import torch

# From their own modules: what the package's top level shows a type checker are its placeholder
# classes for a missing torch, not these.
from diffusers.hooks.first_block_cache import FirstBlockCacheConfig
from diffusers.models.modeling_utils import ModelMixin
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from huggingface_hub import HfApi, constants, is_offline_mode, try_to_load_from_cache
from huggingface_hub.file_download import repo_folder_name

from model.contract import ClipSpec
from model.presets import TINY_PRESET_ID, Preset
from model.speed import DEVICE_SETTINGS, DeviceSetting, Offload, SpeedOptions
from model.tiny import build_tiny_pipeline

log = logging.getLogger(__name__)

DOWNLOAD_REPORT_SECONDS = 10.0

OnStep = Callable[[int, int, float], None]
"""on_step(step, total, elapsed_seconds), called after each denoising step (step counts from 1)."""
OnLatents = Callable[[int, torch.Tensor], None]
"""on_latents(step, latents), called after on_step with the latents as the pipeline holds them (model.preview)."""


class DeviceError(Exception):
    """The requested device cannot serve the preset; the message says what to do instead."""


class WeightsUnavailableError(Exception):
    """The preset's weights are not cached and may not be downloaded; the message says why."""


class PresetLoadError(Exception):
    """The preset and the speed options cannot work together as configured; the message says what to change."""


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


def pick_dtype(preset: Preset, device: torch.device) -> torch.dtype:
    """The preset's precision where the GPU computes in it natively, and says which it chose and why.

    A GPU before Ampere (V100, T4, RTX 20xx) only emulates bfloat16, and diffusers' attention then takes a path
    that needs tens of GB at 480p (torch.cuda.is_bf16_supported() counts emulation): it gets float16. A CPU
    computes in float32, where half precision is slow.
    """
    if device.type != "cuda":
        dtype, why = torch.float32, "a CPU computes half precision slowly"
    elif preset.dtype == "bfloat16" and not native_bfloat16(device):
        dtype, why = torch.float16, f"{torch.cuda.get_device_name(device)} only emulates bfloat16"
    else:
        dtype, why = getattr(torch, preset.dtype), "as its authors recommend"
    log.info("preset %s computes in %s on %s (%s)", preset.id, str(dtype).removeprefix("torch."), device, why)
    return dtype


def native_bfloat16(device: torch.device) -> bool:
    major, _ = torch.cuda.get_device_capability(device)
    return major >= 8


def pick_offload(preset: Preset, device: torch.device, setting: Offload) -> Offload:
    """The offload to use for preset on device: the operator's, or for "auto" the least the free memory allows.

    Everything resident when the preset's whole-pipeline peak fits, one component at a time when its largest
    component does, else layers streamed to the GPU as they run. The log says what was chosen and why.
    """
    if device.type != "cuda":
        if setting not in ("auto", "none"):
            log.info("offload %r skipped: the pipeline runs on the CPU", setting)
        return "none"  # offloading parks weights in CPU memory, where a CPU render keeps them anyway
    free_gb = torch.cuda.mem_get_info(device)[0] / 1e9
    needs = (
        f"the GPU has {free_gb:.1f} GB free; everything resident needs ~{preset.vram_hint_gb:g} GB, "
        f"one component at a time ~{preset.offload_vram_gb:g} GB"
    )
    if setting != "auto":
        peak = {"none": preset.vram_hint_gb, "model": preset.offload_vram_gb}.get(setting)
        if peak is not None and free_gb < peak:
            log.warning("offload %r for preset %s may run out of memory: %s", setting, preset.id, needs)
        return setting
    if free_gb >= preset.vram_hint_gb:
        chosen: Offload = "none"
    elif free_gb >= preset.offload_vram_gb:
        chosen = "model"
    else:
        chosen = "group"
    log.info("offload %r for preset %s: %s", chosen, preset.id, needs)
    return chosen


def load_pipeline(
    preset: Preset,
    device: torch.device,
    dtype: torch.dtype,
    speed: SpeedOptions = SpeedOptions(),
) -> DiffusionPipeline:
    """The preset's pipeline on device, ready to render.

    `tiny` always runs in float32: random weights gain nothing from half precision, and only
    from_pretrained knows to keep diffusers' precision-sensitive layers (norms, rope) in float32.
    """
    # 1. Components: built in code for `tiny`, else the repo's weights (the VAE in its own precision
    #    where the preset asks for one) from a local folder or the Hugging Face cache (HF_HOME),
    #    downloaded into it on first use.
    if preset.id == TINY_PRESET_ID:
        log.info("building the %s pipeline with random weights (float32)", preset.id)
        pipe: DiffusionPipeline = build_tiny_pipeline()
    else:
        vae_dtype = dtype if preset.vae_dtype is None else getattr(torch, preset.vae_dtype)
        pipe = _from_hub(preset, {"default": dtype, "vae": vae_dtype})
    return prepare_pipeline(pipe, preset, device, speed)


def prepare_pipeline(
    pipe: DiffusionPipeline, preset: Preset, device: torch.device, speed: SpeedOptions = SpeedOptions()
) -> DiffusionPipeline:
    """Steps 2 to 8 of load_pipeline, for components however they were made (selfcheck builds them in code).

    Raises PresetLoadError for a preset or speed option this pipeline cannot honour: at start, in one line,
    rather than silently ignored or failing every job.
    """
    # 2. Scheduler settings the repo's config does not carry. diffusers drops a flow_shift its scheduler
    #    does not know without a word, so a preset that sets one for such a scheduler is refused.
    if preset.flow_shift is not None:
        config = pipe.scheduler.config
        if "flow_shift" not in config or config.get("use_flow_sigmas") is False:
            raise PresetLoadError(
                f"preset {preset.id} sets flow_shift, but its scheduler ({type(pipe.scheduler).__name__}) has no "
                "flow shift; remove flow_shift from the preset"
            )
        pipe.scheduler = type(pipe.scheduler).from_config(config, flow_shift=preset.flow_shift)

    # 3. The preset's extra call arguments must be the pipeline's own, and not what every clip sets.
    check_call_args(pipe, preset)

    # 4. Placement: the whole pipeline on the device, or weights waiting in CPU memory until used
    #    (the dtype was set as the weights were loaded).
    _place(pipe, device, pick_offload(preset, device, speed.offload))

    # 5. Decode the latents in tiles, capping the VAE's memory peak.
    if speed.vae_tiling:
        _enable_vae_tiling(pipe)

    # 6. A cache hook: skip transformer blocks on steps where their output barely changes.
    if speed.cache is not None:
        enable_first_block_cache(pipe.transformer, speed.cache.threshold)

    # 7. Regional compilation: the transformer's repeated blocks share one compiled code, so
    #    compiling takes a fraction of a whole-model compile. Lazy: the first render pays for it.
    if speed.compile:
        _compile_transformer_blocks(pipe.transformer)

    # 8. Callers report progress themselves; diffusers' tqdm bar would only add noise to logs.
    pipe.set_progress_bar_config(disable=True)
    return pipe


def check_call_args(pipe: DiffusionPipeline, preset: Preset) -> None:
    accepted = inspect.signature(type(pipe).__call__).parameters
    set_per_clip = _call_arguments(preset.default_clip(), generator=None, on_step_end=None).keys()
    for name in preset.call_args:
        if name in set_per_clip:
            raise PresetLoadError(f"preset {preset.id}: call_args may not set {name}, which each clip sets itself")
        if name not in accepted:
            raise PresetLoadError(f"preset {preset.id}: {type(pipe).__name__} takes no argument {name!r} (call_args)")


def enable_first_block_cache(transformer: ModelMixin, threshold: float) -> None:
    """diffusers' FirstBlockCache, or PresetLoadError where diffusers has none for this transformer's blocks."""
    try:
        transformer.enable_cache(FirstBlockCacheConfig(threshold=threshold))
    except ValueError as error:  # "Model class <...Block> not registered."
        raise PresetLoadError(
            f"VIDEO_CACHE=first-block does not work with {type(transformer).__name__} ({error}); set VIDEO_CACHE=off"
        ) from None


def execution_device(pipe: DiffusionPipeline) -> torch.device:
    """Where the pipeline computes. pipe.device says where its weights rest, which is the CPU
    when they are offloaded; diffusers' own pipelines ask _execution_device for this."""
    device: torch.device = pipe._execution_device
    return device


def _from_hub(preset: Preset, dtype: dict[str, torch.dtype]) -> DiffusionPipeline:
    """The preset's weights from a local folder in diffusers' layout, or from the Hugging Face cache,
    downloaded first if they are not there.

    A download logs its progress itself: huggingface_hub's bars hide when stderr is no terminal,
    which is where a service's log goes. Missing weights with downloads off are refused at once,
    not with a traceback from deep in diffusers.
    """
    pipeline_class: type[DiffusionPipeline] = getattr(diffusers, preset.pipeline)
    if Path(preset.repo).is_dir():
        log.info("loading preset %s from the folder %s", preset.id, preset.repo)
        return pipeline_class.from_pretrained(preset.repo, dtype=dtype)
    cache = Path(constants.HF_HUB_CACHE)
    if isinstance(try_to_load_from_cache(preset.repo, "model_index.json"), str):
        log.info("loading %s for preset %s from %s", preset.repo, preset.id, cache)
        return pipeline_class.from_pretrained(preset.repo, dtype=dtype)
    if is_offline_mode():
        raise WeightsUnavailableError(
            f"{preset.repo} is not in the Hugging Face cache ({cache}) and HF_HUB_OFFLINE is "
            "set; unset it to download the weights, or copy them into the cache"
        )
    total = _download_bytes(preset.repo)
    size = "size unknown" if total is None else f"{total / 1e9:.1f} GB"
    log.info(
        "downloading %s for preset %s into %s (%s; first start only)",
        preset.repo,
        preset.id,
        cache,
        size,
    )
    blobs = cache / repo_folder_name(repo_id=preset.repo, repo_type="model") / "blobs"
    with reporting_download(preset.repo, blobs, total):
        return pipeline_class.from_pretrained(preset.repo, dtype=dtype)


def _download_bytes(repo: str) -> int | None:
    """The weights' size from the Hub's file list: one small request before gigabytes."""
    try:
        files = HfApi().model_info(repo, files_metadata=True, timeout=10).siblings or []
    except Exception:  # rate-limited, gated, unreachable: the size is only a courtesy
        return None
    # diffusers fetches each component's folder; top-level files are single-file checkpoints.
    return sum(file.size or 0 for file in files if "/" in file.rfilename and file.rfilename.endswith(".safetensors"))


@contextmanager
def reporting_download(
    repo: str, blobs: Path, total: int | None, every: float = DOWNLOAD_REPORT_SECONDS
) -> Iterator[None]:
    """Log how much of repo has arrived in its cache folder every `every` seconds, until exit."""
    finished = threading.Event()

    def report() -> None:
        while not finished.wait(every):
            arrived = _folder_bytes(blobs) / 1e9
            of_total = "" if total is None else f" of {total / 1e9:.1f} GB"
            log.info("downloading %s: %.1f GB%s so far", repo, arrived, of_total)

    reporter = threading.Thread(target=report, name="download-progress", daemon=True)
    reporter.start()
    try:
        yield
    finally:
        finished.set()
        reporter.join()


def _folder_bytes(folder: Path) -> int:
    """Bytes in folder's files, partial downloads included; files vanish as downloads finish."""
    total = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:  # nothing has arrived yet
        return 0
    for entry in entries:
        with suppress(FileNotFoundError):
            total += entry.stat().st_size
    return total


def _place(pipe: DiffusionPipeline, device: torch.device, offload: Offload) -> None:
    if offload == "none":
        pipe.to(device)
    elif offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        # Leaf by leaf, the next one copied on a CUDA stream while this one computes. The VAE is
        # small and stays resident: streamed offload misbehaves when its first pass is tiled.
        pipe.enable_group_offload(
            onload_device=device,
            offload_type="leaf_level",
            use_stream=True,
            exclude_modules=["vae"],
        )


def _enable_vae_tiling(pipe: DiffusionPipeline) -> None:
    vae: object = getattr(pipe, "vae", None)
    if hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    else:
        log.info("VAE tiling skipped: %s has no tiled VAE", type(pipe).__name__)


def _compile_transformer_blocks(transformer: ModelMixin) -> None:
    # fullgraph=False: cache hooks and offload hooks break graphs on purpose.
    if getattr(transformer, "_repeated_blocks", None):
        transformer.compile_repeated_blocks(fullgraph=False)
        return
    # Models that do not name their repeated blocks keep them in ModuleLists.
    for blocks in transformer.children():
        if isinstance(blocks, torch.nn.ModuleList):
            for block in blocks:
                block.compile(fullgraph=False)


def render(
    pipe: DiffusionPipeline,
    preset: Preset,
    clip: ClipSpec,
    *,
    on_step: OnStep,
    should_stop: Callable[[], bool],
    on_latents: OnLatents | None = None,
) -> npt.NDArray[np.float32]:
    """Render clip into (frames, height, width, 3) RGB floats in [0, 1].

    Raises RenderInterrupted when should_stop() turned true: checked after every denoising step. on_latents sees
    the current latents after every step (the live preview); it must not change them.
    """
    # 1. Refuse what the model would silently round (diffusers warns and adjusts frames and sizes).
    check_clip(preset, clip)

    # 2. Seed a generator where the pipeline computes: same seed, same clip.
    generator = torch.Generator(device=execution_device(pipe)).manual_seed(clip.seed)

    # 3. After each step: report progress, show the latents, and stop when asked. Raising here leaves the pipeline at
    #    once; diffusers' own `_interrupt` would still decode the whole clip with the VAE first.
    started = time.monotonic()

    def step_ended(
        pipeline: DiffusionPipeline, step: int, timestep: torch.Tensor, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        on_step(step + 1, clip.steps, time.monotonic() - started)
        if on_latents is not None:
            on_latents(step + 1, tensors["latents"])
        if should_stop():
            raise RenderInterrupted(f"stopped after step {step + 1} of {clip.steps}")
        return {}  # we change no tensors

    # 4. Denoise and decode. diffusers resets cache hooks and re-offloads models only at the end
    #    of a call that succeeds: after a failure, a cancel (or a KeyboardInterrupt) we do it, or
    #    the next job meets the stale cache state (wrong shapes) and a model left on the GPU.
    if not callable(pipe):  # every text-to-video pipeline is; DiffusionPipeline itself is not
        raise TypeError(f"{type(pipe).__name__} is not a pipeline that renders")
    try:
        output = pipe(**_call_arguments(clip, generator, step_ended), **preset.call_args)
    except BaseException:
        _free_model_hooks(pipe)
        raise

    # 5. One clip per prompt: (T, H, W, 3).
    frames: npt.NDArray[np.float32] = output.frames[0]
    return frames


def _call_arguments(
    clip: ClipSpec, generator: torch.Generator | None, on_step_end: Callable[..., dict[str, Any]] | None
) -> dict[str, Any]:
    """What every clip sets in the pipeline call; a preset's call_args add to it, never replace it."""
    return {
        "prompt": clip.prompt,
        "negative_prompt": clip.negative_prompt,
        "height": clip.height,
        "width": clip.width,
        "num_frames": clip.frames,
        "num_inference_steps": clip.steps,
        "guidance_scale": clip.guidance,
        "generator": generator,
        "output_type": "np",
        "callback_on_step_end": on_step_end,
    }


def _free_model_hooks(pipe: DiffusionPipeline) -> None:
    """What a successful call does last: reset hook state, return offloaded models to the CPU."""
    try:
        pipe.maybe_free_model_hooks()
    except Exception:  # the original failure is the one to report
        log.exception("could not reset the pipeline's hooks after a failed render")


def check_clip(preset: Preset, clip: ClipSpec) -> None:
    if not preset.accepts_frames(clip.frames):
        raise InvalidSpecError(
            f"{preset.id} renders {preset.frame_step}k+1 frames up to {preset.max_frames}, not {clip.frames}"
        )
    if clip.width % preset.size_step or clip.height % preset.size_step:
        raise InvalidSpecError(
            f"{preset.id} needs width and height in multiples of {preset.size_step}, not {clip.width}x{clip.height}"
        )
    if clip.steps < 1:
        raise InvalidSpecError(f"steps must be at least 1, not {clip.steps}")
