"""Benchmark the Discord encoder: 81 frames of 832x480 (a Wan 2.1 clip) against a 10 MiB budget.

Run as ``python benchmarks/encode.py``. Each content is encoded once to warm up, then three
times; the median time is reported (for float input it includes the conversion to uint8).
The last lines are ``name=value`` figures.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.encode import EncodedVideo, encode_mp4

FRAMES, HEIGHT, WIDTH, FPS = 81, 480, 832, 16
BUDGET = 10 * 1024 * 1024
RUNS = 3
CREDITS = {
    "title": "a fox running through snow at dusk 🦊",
    "artist": "benchmark",
    "comment": "Wan 2.1 T2V 1.3B, seed 42",
    "copyright": "Apache-2.0",
}

Clip = npt.NDArray[np.uint8]
FloatClip = npt.NDArray[np.float32]


def smooth() -> Clip:
    """Soft colour waves drifting across the frame: what a calm, simple shot compresses like."""
    t = np.arange(FRAMES, dtype=np.float32)[:, None, None]
    y = np.arange(HEIGHT, dtype=np.float32)[None, :, None]
    x = np.arange(WIDTH, dtype=np.float32)[None, None, :]
    red, green, blue = np.broadcast_arrays(
        np.sin((x + 4 * t) / 60), np.sin((y - 3 * t) / 45), np.sin((x + y + 2 * t) / 80)
    )
    return (127.5 + 127.5 * np.stack([red, green, blue], axis=-1)).astype(np.uint8)


def smooth_float() -> FloatClip:
    """The smooth clip as diffusers returns it (output_type="np"): float32 in [0, 1]."""
    clip = smooth().astype(np.float32)
    clip /= 255  # in place: stays float32
    return clip


def textured() -> Clip:
    """A slow pan over 1/f ("natural image") texture: detail everywhere, coherent motion."""
    rng = np.random.default_rng(1)
    height, width = HEIGHT + 2 * FRAMES, WIDTH + 4 * FRAMES
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    falloff = np.maximum(np.hypot(fy, fx), 1 / width)
    spectrum = np.fft.rfft2(rng.standard_normal((height, width))) / falloff
    plane = np.fft.irfft2(spectrum, (height, width))
    plane = (plane - plane.mean()) / plane.std()
    image = np.stack([plane, np.roll(plane, 7, axis=0), np.roll(plane, 13, axis=1)], axis=-1)
    image = np.clip(128 + 40 * image, 0, 255).astype(np.uint8)
    return np.stack([image[2 * t : 2 * t + HEIGHT, 4 * t : 4 * t + WIDTH] for t in range(FRAMES)])


def noise() -> Clip:
    """Uniform noise, what the random-weight `tiny` preset renders: the hardest case."""
    return np.random.default_rng(0).integers(0, 256, (FRAMES, HEIGHT, WIDTH, 3), dtype=np.uint8)


def measure(frames: Clip | FloatClip, directory: Path) -> tuple[float, EncodedVideo]:
    def once() -> EncodedVideo:
        path = directory / "clip.mp4"
        return encode_mp4(frames, fps=FPS, path=path, max_bytes=BUDGET, metadata=CREDITS)

    once()  # warm-up: first use of x264 and swscale
    results = [once() for _ in range(RUNS)]
    return statistics.median(result.seconds for result in results), results[-1]


def main() -> None:
    contents: dict[str, Callable[[], Clip | FloatClip]] = {
        "smooth": smooth,
        "smooth_float": smooth_float,
        "textured": textured,
        "noise": noise,
    }
    figures: dict[str, str] = {}
    fitted = True
    print(f"{FRAMES} frames {WIDTH}x{HEIGHT} @ {FPS} fps, budget {BUDGET:,} B, median of {RUNS}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, make in contents.items():
            seconds, result = measure(make(), Path(scratch))
            fitted &= result.bytes <= BUDGET
            print(
                f"{name:12s} {seconds:6.3f} s {result.bytes:>10,} bytes"
                f"  {result.width}x{result.height}"
                f"  attempts={result.attempts} strategy={result.strategy}"
            )
            figures[f"{name}_encode_s"] = f"{seconds:.3f}"
            figures[f"{name}_bytes"] = str(result.bytes)
            figures[f"{name}_attempts"] = str(result.attempts)
            figures[f"{name}_strategy"] = result.strategy
    figures["budget_bytes"] = str(BUDGET)
    figures["under_budget"] = str(fitted).lower()
    for key, value in figures.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
