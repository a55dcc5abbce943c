"""`python -m model selfcheck`: a preset's real architecture on this machine, timed and measured, without its weights.

The preset's pipeline is built with random weights (model.architectures: at full size, or small for a CPU).
Then, for each speed option worth knowing, it is prepared as the worker prepares it
(model.pipeline.prepare_pipeline) and renders the preset's default clip, with fewer steps, through
model.pipeline.render. Each figure is one `name=value` line on stdout:

    device=cuda
    gpu_name=<the GPU's name>
    dtype=bfloat16
    wan-14b.offload_none.error=OutOfMemoryError
    wan-14b.offload_model.seconds_per_step=<seconds>
    wan-14b.offload_model.peak_gpu_gib=<GiB>

The frames are noise; the figures are what count. Every option gets a fresh build, so no option's hooks
(offloading, the cache, compiled blocks) reach the next. An option that fails, out of memory say, prints
`<preset>.<option>.error=<exception class>` and the next one runs; the exit status is then 1.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import diffusers
import torch
from diffusers.pipelines.pipeline_utils import DiffusionPipeline

from model.architectures import Size, architecture_for, build_pipeline, count_parameters
from model.contract import ClipSpec
from model.pipeline import pick_device, pick_dtype, prepare_pipeline, render
from model.presets import TINY_PRESET_ID, Preset
from model.speed import DeviceSetting, FirstBlockCache, SpeedOptions
from model.tiny import build_tiny_pipeline

log = logging.getLogger(__name__)

DEFAULT_STEPS = 2
"""Two steps: the first pays for the prompt's encoding (and, compiling, for the compilation); the second is
a plain step, which seconds_per_step measures."""
GIB = 2**30
SELFCHECK_PROMPT = "selfcheck"
_COMPONENTS = ("text_encoder", "transformer", "vae")


@dataclass(frozen=True, slots=True)
class Option:
    """One set-up to measure; gpu_only says why a CPU skips it (None: a CPU runs it too)."""

    name: str
    speed: SpeedOptions
    gpu_only: str | None = None


_OFF = SpeedOptions(offload="none", vae_tiling=False)
_OFFLOAD_ON_CPU = "offloading parks weights in CPU memory, where a CPU render keeps them anyway"
OPTIONS: tuple[Option, ...] = (
    Option("offload_none", _OFF),
    Option("offload_model", dataclasses.replace(_OFF, offload="model"), _OFFLOAD_ON_CPU),
    Option("offload_group", dataclasses.replace(_OFF, offload="group"), _OFFLOAD_ON_CPU),
    Option("offload_sequential", dataclasses.replace(_OFF, offload="sequential"), _OFFLOAD_ON_CPU),
    Option("vae_tiling", dataclasses.replace(_OFF, vae_tiling=True)),
    Option("first_block_cache", dataclasses.replace(_OFF, cache=FirstBlockCache())),
    Option(
        "compile",
        dataclasses.replace(_OFF, compile=True),
        "a CPU compile takes minutes and says nothing about a GPU",
    ),
)
"""Each offload alone, then each other switch on top of offload none (compare them with offload_none)."""
OPTION_NAMES = tuple(option.name for option in OPTIONS)


class SelfcheckError(Exception):
    """The check cannot start as asked; the message says what to change."""


class RenderShapeError(Exception):
    """The render returned frames of another shape than the clip asked for."""


def selfcheck(
    preset: Preset,
    *,
    size: Size = "full",
    device: DeviceSetting = "auto",
    steps: int = DEFAULT_STEPS,
    frames: int | None = None,
    only: Sequence[str] = (),
    out: Callable[[str], None] | None = None,
) -> int:
    """The command: check the arguments, then run. 0 when every option that ran succeeded, else 1."""
    unknown = [name for name in only if name not in OPTION_NAMES]
    if unknown:
        raise SelfcheckError(f"unknown option {', '.join(unknown)}; choose from {', '.join(OPTION_NAMES)}")
    if steps < 1:
        raise SelfcheckError(f"steps must be at least 1, not {steps}")
    if frames is not None and not preset.accepts_frames(frames):
        raise SelfcheckError(
            f"{preset.id} renders {preset.frame_step}k+1 frames up to {preset.max_frames}, not {frames}"
        )
    if preset.id != TINY_PRESET_ID:
        architecture_for(preset, size)  # ArchitectureError (a LookupError) before anything is built
    chosen = pick_device(device)
    if device == "auto" and chosen.type == "cpu" and size == "full" and preset.id != TINY_PRESET_ID:
        raise SelfcheckError(
            f"no CUDA GPU found for a full-size {preset.id}; use --size small to check the pipeline on this CPU, "
            "or --device cpu to insist (tens of GB of memory, and hours)"
        )
    clip = dataclasses.replace(
        preset.default_clip(SELFCHECK_PROMPT), steps=steps, frames=frames or preset.default_frames
    )
    options = [option for option in OPTIONS if not only or option.name in only]
    return run(preset, size, chosen, clip, options, out)


def print_now(line: str) -> None:
    """print, flushed: a check that is stopped (a time limit, say) keeps the figures it has printed."""
    print(line, flush=True)


def run(
    preset: Preset,
    size: Size,
    device: torch.device,
    clip: ClipSpec,
    options: Sequence[Option] = OPTIONS,
    out: Callable[[str], None] | None = None,
) -> int:
    """Measure each option rendering clip; print the figures through out (default: print_now). 0 when none
    failed, else 1."""
    out = out or print_now
    # 1. Where and in what it runs, and what it runs.
    dtype, vae_dtype = component_dtypes(preset, device)
    out(f"device={device.type}")
    out(f"gpu_name={torch.cuda.get_device_name(device) if device.type == 'cuda' else 'none'}")
    out(f"dtype={_name(dtype)}")
    out(f"vae_dtype={_name(vae_dtype)}")
    out(f"torch={torch.__version__}")
    out(f"diffusers={diffusers.__version__}")
    out(f"preset={preset.id}")
    out(f"size={size}")
    for component, count in _parameters(preset, size).items():
        out(f"{component}_params={count}")
    out(f"frames={clip.frames}")
    out(f"width={clip.width}")
    out(f"height={clip.height}")
    out(f"steps={clip.steps}")

    # 2. Each option from a fresh build; a failure is one line, and the next option runs.
    failed = 0
    for option in options:
        prefix = f"{preset.id}.{option.name}"
        if device.type != "cuda" and option.gpu_only is not None:
            out(f"{prefix}.skipped={option.gpu_only}")
            continue
        try:
            figures = measure(preset, size, device, dtype, vae_dtype, clip, option.speed)
        except Exception as error:  # out of memory above all: report it and go on
            failed += 1
            log.error("%s failed: %s: %s", prefix, type(error).__name__, str(error).strip().split("\n")[0])
            out(f"{prefix}.error={type(error).__name__}")
        else:
            for figure, value in figures:
                out(f"{prefix}.{figure}={value}")
        finally:
            _release(device, option.speed)
    return 1 if failed else 0


def component_dtypes(preset: Preset, device: torch.device) -> tuple[torch.dtype, torch.dtype]:
    """(the pipeline's dtype, the VAE's), chosen as model.pipeline.load_pipeline chooses them."""
    if preset.id == TINY_PRESET_ID:
        return torch.float32, torch.float32  # random weights gain nothing from half precision
    dtype = pick_dtype(preset, device)
    vae_dtype = dtype if preset.vae_dtype is None or device.type != "cuda" else getattr(torch, preset.vae_dtype)
    return dtype, vae_dtype


def measure(
    preset: Preset,
    size: Size,
    device: torch.device,
    dtype: torch.dtype,
    vae_dtype: torch.dtype,
    clip: ClipSpec,
    speed: SpeedOptions,
) -> list[tuple[str, str]]:
    """Build, prepare and render once with speed; the figures as (name, formatted value).

    The memory peaks count from the moment the weights are in place: what preparing and rendering add to them,
    not the scratch space of drawing random numbers (a real load has its own, and it is not this).
    """
    started = time.monotonic()

    # 1. The components, resting where the option keeps them: on the GPU when nothing is offloaded, else in
    #    CPU memory (the offload hooks move them in turn). The random numbers are drawn on the device.
    rests_on = device if speed.offload == "none" else torch.device("cpu")
    pipe = _build(preset, size, rests_on, dtype, vae_dtype, draw_on=device)
    if device.type == "cuda":
        torch.cuda.empty_cache()  # the drawing's scratch tensors
    _reset_peaks(device)

    # 2. Prepared as the worker prepares it.
    pipe = prepare_pipeline(pipe, preset, device, speed)
    _synchronize(device)
    load_seconds = time.monotonic() - started

    # 3. The render, each step's end stamped once the device has finished it.
    stamps: list[float] = []

    def on_step(step: int, total: int, elapsed: float) -> None:
        _synchronize(device)
        stamps.append(time.monotonic())

    begun = time.monotonic()
    rendered = render(pipe, preset, clip, on_step=on_step, should_stop=lambda: False)
    _synchronize(device)
    ended = time.monotonic()
    expected = (clip.frames, clip.height, clip.width, 3)
    if rendered.shape != expected:
        raise RenderShapeError(f"rendered frames of shape {rendered.shape}, not {expected}")

    # 4. The figures. The first step also encodes the prompt (and compiles, with compile on); the later
    #    ones are plain denoising steps, so seconds_per_step is theirs where there are any.
    first_step = stamps[0] - begun
    per_step = (stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else first_step
    figures = [
        ("seconds_per_step", f"{per_step:.3f}"),
        ("first_step_seconds", f"{first_step:.3f}"),
        ("decode_seconds", f"{ended - stamps[-1]:.3f}"),
        ("render_seconds", f"{ended - begun:.3f}"),
        ("load_seconds", f"{load_seconds:.3f}"),
        ("peak_gpu_gib", f"{_peak_gpu_bytes(device) / GIB:.2f}"),
        ("peak_gpu_reserved_gib", f"{_peak_gpu_reserved_bytes(device) / GIB:.2f}"),
        ("host_peak_rss_gib", f"{peak_rss_bytes() / GIB:.2f}"),
    ]
    current = current_rss_bytes()
    if current is not None:
        figures.append(("host_rss_gib", f"{current / GIB:.2f}"))
    return figures


def _build(
    preset: Preset,
    size: Size,
    device: torch.device,
    dtype: torch.dtype,
    vae_dtype: torch.dtype,
    *,
    draw_on: torch.device,
) -> DiffusionPipeline:
    if preset.id == TINY_PRESET_ID and size == "full":
        # tiny's full size is tiny itself, exactly what the bot runs for it.
        pipe: DiffusionPipeline = build_tiny_pipeline().to(device)
        return pipe
    return build_pipeline(preset, size, device, dtype, vae_dtype, draw_on=draw_on)


def _parameters(preset: Preset, size: Size) -> dict[str, int]:
    if preset.id == TINY_PRESET_ID and size == "full":
        pipe = build_tiny_pipeline()
        return {name: sum(p.numel() for p in getattr(pipe, name).parameters()) for name in _COMPONENTS}
    return count_parameters(architecture_for(preset, size))


def _release(device: torch.device, speed: SpeedOptions) -> None:
    """Give back what the last option held: its pipeline (hooks make reference cycles), compiled code, and
    the GPU memory PyTorch's allocator keeps cached."""
    gc.collect()
    if speed.compile:
        torch.compiler.reset()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()


def _reset_peaks(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    reset_peak_rss()


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_gpu_bytes(device: torch.device) -> int:
    return torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0


def _peak_gpu_reserved_bytes(device: torch.device) -> int:
    return torch.cuda.max_memory_reserved(device) if device.type == "cuda" else 0


def peak_rss_bytes() -> int:
    """This process's peak resident memory: since reset_peak_rss where Linux allows it, else since it began."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def reset_peak_rss() -> None:
    """Start the peak over (Linux: writing 5 to clear_refs resets the high-water mark getrusage reads)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        log.debug("the peak resident memory cannot be reset here: it counts from the process's start")


def current_rss_bytes() -> int | None:
    """This process's resident memory now (Linux); None where /proc has no statm."""
    try:
        with open("/proc/self/statm") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
