"""How much does the live preview slow a render?

    .venv/bin/python benchmarks/preview.py [--rounds 15] [--steps 10] [--preset tiny] [--size small|full]

The same clip is rendered through model.pipeline.render, with the preview as the worker runs it (model.preview's
live_preview: the clean middle frame projected on the render thread, the JPEG on the preview's own thread), in
interleaved rounds: each round renders it once without previews, once with a preview after every step, and once at
the production interval (PREVIEW_INTERVAL_SECONDS), in an order that turns each round, so that a shared machine's
load drifts over the three alike. Each render is timed whole by the wall clock, from the call until its frames are
in hand and its previews sent (as the worker waits for them); nothing inside the render synchronises a GPU for the
measurement (the frames' copy to the CPU at its end waits for the GPU's work), and the preview thread's CPU time
counts because it competes with the render's threads. Figures are medians over the rounds:

- `render_ms_plain`, `render_ms_every_step`, `render_ms_interval`: one render of each kind.
- `previews_every_step`, `previews_interval`: the previews sent by one render of that kind.
- `per_preview_ms`: (every_step - plain) / previews_every_step, what one preview costs the render.
- `overhead_every_step_percent`, `overhead_percent`: (median_with - median_plain) / median_plain, every step and at
  the production interval. The tiny clip renders in about a second, so at the interval it takes one preview in a
  render that short: its overhead_percent is far above a real model's, whose steps take seconds.
  `overhead_real_render_percent` is per_preview_ms over PREVIEW_INTERVAL_SECONDS, what one preview every interval
  costs a render longer than the interval.
- `overhead_paired_percent`, `overhead_every_step_paired_percent`: the median over rounds of each round's own
  (with - plain) / plain, less swayed by a neighbour's burst of load than the difference of medians.

By default the `tiny` preset (a real WanPipeline, random weights) at 128x64, 33 frames; `--preset cogvideox-2b`
(`--size small`) runs a scheduler whose clean frame takes two steps' latents (model.preview.ImpliedByDdim) on a CPU,
and `--preset wan-1.3b --size full` the real architecture (random weights, nothing downloaded) at the preset's
default size, for a GPU.
The last lines are ``name=value`` figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import torch
from diffusers.pipelines.pipeline_utils import DiffusionPipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.architectures import SIZES, Size, build_pipeline
from model.contract import ClipSpec
from model.pipeline import load_pipeline, pick_device, pick_dtype, prepare_pipeline, render
from model.presets import PRESETS, TINY_PRESET_ID, Preset
from model.preview import PREVIEW_INTERVAL_SECONDS, live_preview

KINDS = ("plain", "every_step", "interval")
EVERY: dict[str, float | None] = {"plain": None, "every_step": 0.0, "interval": PREVIEW_INTERVAL_SECONDS}


def pipeline_and_clip(
    preset: Preset, size: Size, device: torch.device, steps: int
) -> tuple[DiffusionPipeline, ClipSpec]:
    """The preset's pipeline with random weights and the clip to render: the preset's default clip at full size, a
    CPU's 128x64, 8 frame steps at most, at small size (tiny is small)."""
    dtype = pick_dtype(preset, device)
    clip = dataclasses.replace(preset.default_clip("a fox running through snow"), steps=steps)
    if preset.id == TINY_PRESET_ID:
        pipe = load_pipeline(preset, device, dtype)
    else:
        pipe = prepare_pipeline(build_pipeline(preset, size, device, dtype), preset, device)
    if preset.id == TINY_PRESET_ID or size == "small":
        clip = dataclasses.replace(clip, frames=min(preset.max_frames, 1 + 8 * preset.frame_step), width=128, height=64)
    return pipe, clip


def render_once(
    pipe: DiffusionPipeline, preset: Preset, clip: ClipSpec, every: float | None
) -> tuple[float, list[int]]:
    """Seconds the render took with previews every `every` seconds (None: none), and the size of each one sent."""
    sent: list[int] = []
    started = time.perf_counter()
    previews = (
        None if every is None else live_preview(pipe, clip, lambda step, image: sent.append(len(image)), every=every)
    )
    if every is not None and previews is None:
        raise SystemExit(f"{type(pipe).__name__} gets no live preview")
    render(
        pipe,
        preset,
        clip,
        on_step=lambda *_: None,
        should_stop=lambda: False,
        on_latents=None if previews is None else previews.offer,
    )
    if previews is not None:
        previews.close()
    return time.perf_counter() - started, sent


def figures(pipe: DiffusionPipeline, preset: Preset, clip: ClipSpec, rounds: int) -> dict[str, str]:
    seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
    sent: dict[str, list[int]] = {kind: [] for kind in KINDS}
    sizes: list[int] = []
    for kind in KINDS:  # warm up: lazy set-up, the preview thread's first start, allocator caches
        render_once(pipe, preset, clip, EVERY[kind])
    for turn in range(rounds):
        for kind in KINDS[turn % 3 :] + KINDS[: turn % 3]:
            took, images = render_once(pipe, preset, clip, EVERY[kind])
            seconds[kind].append(took)
            sent[kind].append(len(images))
            sizes.extend(images)
    median = {kind: statistics.median(times) * 1000 for kind, times in seconds.items()}
    paired = {
        kind: statistics.median(
            (took - plain) / plain for took, plain in zip(seconds[kind], seconds["plain"], strict=True)
        )
        for kind in KINDS
    }
    previews = {kind: statistics.median(counts) for kind, counts in sent.items()}
    per_preview = (median["every_step"] - median["plain"]) / previews["every_step"]

    def overhead(kind: str) -> str:
        return f"{(median[kind] - median['plain']) / median['plain'] * 100:.2f}"

    return {
        "clip": f"{clip.width}x{clip.height}x{clip.frames}, {clip.steps} steps",
        "rounds": str(rounds),
        **{f"render_ms_{kind}": f"{median[kind]:.1f}" for kind in KINDS},
        **{
            f"render_ms_{kind}_range": f"{min(seconds[kind]) * 1000:.1f}-{max(seconds[kind]) * 1000:.1f}"
            for kind in KINDS
        },
        "previews_every_step": f"{previews['every_step']:g}",
        "previews_interval": f"{previews['interval']:g}",
        "preview_bytes_max": str(max(sizes, default=0)),
        "per_preview_ms": f"{per_preview:.2f}",
        "overhead_every_step_percent": overhead("every_step"),
        "overhead_percent": overhead("interval"),
        "overhead_real_render_percent": f"{per_preview / (PREVIEW_INTERVAL_SECONDS * 1000) * 100:.3f}",
        "overhead_every_step_paired_percent": f"{paired['every_step'] * 100:.2f}",
        "overhead_paired_percent": f"{paired['interval'] * 100:.2f}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--preset", default=TINY_PRESET_ID, choices=sorted(PRESETS))
    parser.add_argument("--size", default="small", choices=SIZES, help="the architecture's size (not for tiny)")
    arguments = parser.parse_args()
    device = pick_device("auto")
    preset = PRESETS[arguments.preset]
    pipe, clip = pipeline_and_clip(preset, arguments.size, device, arguments.steps)
    results: dict[str, str] = {"device": str(device), "threads": str(torch.get_num_threads()), "preset": preset.id}
    results |= figures(pipe, preset, clip, arguments.rounds)
    for name, value in results.items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
