"""What does the live preview cost a render?

    .venv/bin/python benchmarks/preview.py [--rounds 5] [--repeat 20]

On a CPU every figure is the CPU time of the thread doing the work (time.thread_time): this machine is shared,
and wall-clock times of a loaded machine measure the load; on a GPU, wall-clock time, waiting for the GPU.

1. One preview at each family's real size. Latents shaped as each built-in family's pipeline hands them to its
   step callback for its preset's default clip (Wan 2.1 1.3B: 832x480, 81 frames; LTX-Video: packed tokens of
   128 channels; CogVideoX-2b: 720x480, 49 frames), random values. `capture_ms` is what the render thread
   pays (the middle frame, the C→3 matmul, the copy started), `jpeg_ms` what the preview thread pays (waiting
   for the copy, the JPEG), both medians over REPEAT. `overhead_percent` is their sum over the 10 s between two
   previews: on a CPU the preview thread competes with the render for cores, so it counts; on a GPU only
   capture_ms does, and the copy's wait lands on the preview thread.

2. The tiny preset (the real WanPipeline through model.pipeline.render) at 112x64, 33 frames, ROUNDS renders with
   a preview after every step (an interval of 0): `offer_ms` is the median render-thread time of the step
   callback's preview part, `preview_thread_ms` the preview thread's time per preview (its CPU time over the
   previews it sent), `per_preview_ms` their sum and `measured_overhead_percent` that over 10 s. `step_ms` is the
   median wall-clock time of a step without previews, for scale (a real model's step takes seconds: the 10 s
   interval, not the step, bounds the cost).

The last lines are ``name=value`` figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.architectures import Family
from model.contract import ClipSpec
from model.pipeline import load_pipeline, pick_device, pick_dtype, render
from model.presets import PRESETS, TINY_PRESET_ID
from model.preview import PREVIEW_INTERVAL_SECONDS, PROJECTIONS, LivePreview, PackedGrid, Projector, projector_for

LTX_SPATIAL, LTX_TEMPORAL = 32, 8
"""LTX-Video's VAE compression (its transformer's patches are 1x1x1)."""
WAN_SPATIAL, WAN_TEMPORAL = 8, 4
COGVIDEOX_SPATIAL, COGVIDEOX_TEMPORAL = 8, 4
FAMILY_PRESETS: dict[Family, str] = {"wan": "wan-1.3b", "ltx": "ltx", "cogvideox": "cogvideox-2b"}


def callback_latents(family: Family, clip: ClipSpec, device: torch.device) -> tuple[torch.Tensor, PackedGrid | None]:
    """Random latents laid out as the family's pipeline hands them to callback_on_step_end for clip."""
    channels = PROJECTIONS[family].channels
    if family == "ltx":
        grid = PackedGrid(
            (clip.frames - 1) // LTX_TEMPORAL + 1, clip.height // LTX_SPATIAL, clip.width // LTX_SPATIAL, 1, 1
        )
        return torch.randn(1, grid.tokens, channels, device=device), grid
    if family == "wan":
        frames, shape = (clip.frames - 1) // WAN_TEMPORAL + 1, (clip.height // WAN_SPATIAL, clip.width // WAN_SPATIAL)
        return torch.randn(1, channels, frames, *shape, device=device), None
    frames = (clip.frames - 1) // COGVIDEOX_TEMPORAL + 1
    return torch.randn(1, frames, channels, clip.height // 8, clip.width // 8, device=device), None


def timer(device: torch.device) -> Callable[[], float]:
    """Seconds: the calling thread's CPU time on a CPU, wall-clock time on a GPU (with its work waited for)."""
    if device.type == "cpu":
        return time.thread_time

    def waited() -> float:
        torch.cuda.synchronize(device)
        return time.perf_counter()

    return waited


def milliseconds(work: Callable[[], object], repeat: int, device: torch.device) -> float:
    clock, times = timer(device), []
    for _ in range(repeat):
        started = clock()
        work()
        times.append((clock() - started) * 1000)
    return statistics.median(times)


def family_figures(device: torch.device, repeat: int) -> dict[str, str]:
    figures: dict[str, str] = {}
    for family in FAMILY_PRESETS:
        figures |= one_family(family, device, repeat)
    return figures


def one_family(family: Family, device: torch.device, repeat: int) -> dict[str, str]:
    clip = PRESETS[FAMILY_PRESETS[family]].default_clip("a fox")
    latents, grid = callback_latents(family, clip, device)
    projector = Projector(family, PROJECTIONS[family], grid=grid)
    projector.capture(1, latents).jpeg()  # warm up
    capture_ms = milliseconds(lambda: projector.capture(1, latents), repeat, device)
    captured = [projector.capture(1, latents) for _ in range(repeat)]
    jpegs: list[bytes] = []
    jpeg_ms = milliseconds(lambda: jpegs.append(captured[len(jpegs)].jpeg()), repeat, device)
    counts = capture_ms + jpeg_ms if device.type == "cpu" else capture_ms
    return {
        f"{family}_latents": "x".join(map(str, latents.shape)),
        f"{family}_capture_ms": f"{capture_ms:.2f}",
        f"{family}_jpeg_ms": f"{jpeg_ms:.2f}",
        f"{family}_jpeg_bytes": str(max(map(len, jpegs))),
        f"{family}_overhead_percent": f"{counts / (PREVIEW_INTERVAL_SECONDS * 1000) * 100:.4f}",
    }


def tiny_figures(device: torch.device, rounds: int) -> dict[str, str]:
    tiny = PRESETS[TINY_PRESET_ID]
    pipe = load_pipeline(tiny, device, pick_dtype(tiny, device))
    clip = dataclasses.replace(tiny.default_clip("a fox running through snow"), frames=33, width=112, height=64)
    projector = projector_for(pipe, clip)
    assert projector is not None
    clock = timer(device)
    offers: list[float] = []
    thread_seconds: list[float] = []  # per render: the preview thread's time when it sent its last preview
    sent: list[int] = []

    def render_once(previews: LivePreview | None) -> float:
        def offer(step: int, latents: torch.Tensor) -> None:
            assert previews is not None
            started = clock()
            previews.offer(step, latents)
            offers.append(clock() - started)

        started = time.perf_counter()
        render(
            pipe,
            tiny,
            clip,
            on_step=lambda *_: None,
            should_stop=lambda: False,
            on_latents=None if previews is None else offer,
        )
        if previews is not None:
            previews.close()
        return time.perf_counter() - started

    def sending(step: int, image: bytes) -> None:  # on the preview thread
        sent.append(step)
        thread_seconds[-1] = clock() - thread_started[0]

    thread_started = [0.0]
    render_once(None)  # warm up
    plain = []
    for _ in range(rounds):
        plain.append(render_once(None))
        previews = LivePreview(projector, sending, every=0.0)
        thread_seconds.append(0.0)
        # The preview thread's clock starts at zero (CPU time), or when it starts (wall-clock, on a GPU).
        thread_started[0] = 0.0 if device.type == "cpu" else time.perf_counter()
        render_once(previews)
    offer_ms = statistics.median(offers) * 1000
    thread_ms = sum(thread_seconds) / len(sent) * 1000
    per_preview = offer_ms + thread_ms
    return {
        "tiny_clip": f"{clip.width}x{clip.height}x{clip.frames}, {clip.steps} steps",
        "step_ms": f"{statistics.median(plain) / clip.steps * 1000:.1f}",
        "previews_sent": str(len(sent)),
        "offer_ms": f"{offer_ms:.2f}",
        "preview_thread_ms": f"{thread_ms:.2f}",
        "per_preview_ms": f"{per_preview:.2f}",
        "measured_overhead_percent": f"{per_preview / (PREVIEW_INTERVAL_SECONDS * 1000) * 100:.4f}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    device = pick_device("auto")
    figures = {"device": str(device), "threads": str(torch.get_num_threads())}
    figures |= family_figures(device, arguments.repeat)
    figures |= tiny_figures(device, arguments.rounds)
    for name, value in figures.items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
