"""Behaviour of the size-budgeted H.264 encoder: fits, plays, keeps its credits."""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from model import encode
from model.encode import EncodedVideo, EncodeError, encode_mp4, write_poster

MIB = 1024 * 1024

CREDITS = {
    "title": "Cáo chạy trên tuyết lúc hoàng hôn 🦊❄️ 狐狸在雪中奔跑",
    "artist": "Nguyễn Thị Hoa (1234567890)",
    "comment": "Made with Wan 2.1 T2V 1.3B · seed 42 · ✨",
    "description": "a fox running through snow at dusk — 夕暮れの雪原を走る狐",
    "copyright": "Apache-2.0",
}


def noise(count: int, height: int, width: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    return np.random.default_rng(seed).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


def gradient(count: int, height: int, width: int) -> npt.NDArray[np.uint8]:
    """Smooth colour ramps drifting a little each frame."""
    t = np.arange(count, dtype=np.float32)[:, None, None]
    y = np.arange(height, dtype=np.float32)[None, :, None] / height
    x = np.arange(width, dtype=np.float32)[None, None, :] / width
    channels = np.broadcast_arrays(200 * x + t, 200 * y + 2 * t, 128 + 60 * (x - y))
    return np.stack(channels, axis=-1).clip(0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Probe:
    frames: int
    width: int
    height: int
    codec: str
    pix_fmt: str
    profile: str
    level: int
    metadata: Mapping[str, str]
    boxes: list[str]


def probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        context = stream.codec_context
        return Probe(
            frames=frames,
            width=context.width,
            height=context.height,
            codec=context.name,
            pix_fmt=context.pix_fmt or "",
            profile=context.profile or "",
            level=context.level,
            metadata=dict(container.metadata),
            boxes=top_level_boxes(path),
        )


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types, in file order."""
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:  # 64-bit size follows the type
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size == 0:  # box runs to the end of the file
            break
        offset += size
    return boxes


def decoded_rgb(path: Path) -> npt.NDArray[np.uint8]:
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def assert_plays_inline(result: EncodedVideo, count: int, height: int, width: int) -> None:
    found = probe(result.path)
    assert (found.frames, found.height, found.width) == (count, height, width)
    assert (result.frames, result.height, result.width) == (count, height, width)
    assert (found.codec, found.pix_fmt, found.profile) == ("h264", "yuv420p", "High")
    assert found.level <= 40
    assert found.boxes.index("moov") < found.boxes.index("mdat"), found.boxes


def encoded(
    directory: Path,
    frames: npt.NDArray[np.uint8] | npt.NDArray[np.floating],
    *,
    max_bytes: int = MIB,
    metadata: Mapping[str, str] | None = None,
) -> EncodedVideo:
    path = directory / "clip.mp4"
    return encode_mp4(frames, fps=8, path=path, max_bytes=max_bytes, metadata=metadata or {})


def assert_no_leftovers(directory: Path) -> None:
    assert [entry.name for entry in directory.iterdir()] == []


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    count=st.integers(1, 49),
    height=st.integers(2, 240),
    width=st.integers(2, 320),
    fps=st.integers(8, 30),
    content=st.sampled_from(["noise", "gradient"]),
    budget=st.sampled_from([MIB, 10 * MIB]),
    seed=st.integers(0, 2**32 - 1),
)
# Where the budget bites: ~2.7 MB of noise at the quality setting, capped to 1 MiB.
@example(count=49, height=239, width=319, fps=8, content="noise", budget=MIB, seed=1)
@example(count=1, height=3, width=2, fps=30, content="gradient", budget=MIB, seed=2)
def test_any_clip_fits_its_budget_and_plays_inline(
    tmp_path: Path,
    count: int,
    height: int,
    width: int,
    fps: int,
    content: str,
    budget: int,
    seed: int,
) -> None:
    frames = noise(count, height, width, seed) if content == "noise" else gradient(count, height, width)
    path = tmp_path / f"{seed}.mp4"

    result = encode_mp4(frames, fps=fps, path=path, max_bytes=budget, metadata=CREDITS)

    assert result.bytes == path.stat().st_size <= budget
    assert_plays_inline(result, count, height - height % 2, width - width % 2)
    assert result.fps == fps and result.attempts >= 1 and result.seconds > 0


def test_noise_under_a_tight_budget_still_fits(tmp_path: Path) -> None:
    frames = noise(25, 240, 416)  # about 4 MB at the quality setting
    result = encoded(tmp_path, frames, max_bytes=40_000)

    assert result.bytes == result.path.stat().st_size <= 40_000
    assert_plays_inline(result, 25, result.height, result.width)


EncodeOnce = Callable[[npt.NDArray[np.uint8], "encode._Settings", int, Mapping[str, str], Path], int]


def overshooting(times: int) -> EncodeOnce:
    """A real encode whose first ``times`` files are reported 100 x too big.

    x264 keeps to its VBV cap in practice, so the later rungs only run when it does not;
    this makes it not, while the files written are still real.
    """
    real = encode._encode_once
    calls = 0

    def encode_once(
        pixels: npt.NDArray[np.uint8],
        settings: encode._Settings,
        fps: int,
        metadata: Mapping[str, str],
        part: Path,
    ) -> int:
        nonlocal calls
        calls += 1
        size = real(pixels, settings, fps, metadata, part)
        return size * 100 if calls <= times else size

    return encode_once


def stuck_at_coarsest_quantiser(bytes_per_pixel: int) -> EncodeOnce:
    """A real encode reported as if its size followed the pixel count whatever the bitrate."""
    real = encode._encode_once

    def encode_once(
        pixels: npt.NDArray[np.uint8],
        settings: encode._Settings,
        fps: int,
        metadata: Mapping[str, str],
        part: Path,
    ) -> int:
        real(pixels, settings, fps, metadata, part)
        return len(pixels) * settings.width * settings.height * bytes_per_pixel

    return encode_once


def test_an_overshoot_is_re_encoded_at_a_lower_bitrate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encode, "_encode_once", overshooting(times=1))

    result = encoded(tmp_path, noise(9, 120, 160))

    assert (result.strategy, result.attempts) == ("bitrate", 2)
    assert result.bytes <= MIB
    assert_plays_inline(result, 9, 120, 160)


def test_a_large_miss_at_a_set_bitrate_downscales_keeping_aspect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encode, "_encode_once", stuck_at_coarsest_quantiser(bytes_per_pixel=10))

    result = encoded(tmp_path, noise(9, 120, 160))

    assert (result.strategy, result.attempts) == ("downscale", 3)
    assert 9 * result.width * result.height * 10 <= MIB
    assert result.width < 160 and result.width % 2 == 0 and result.height % 2 == 0
    assert result.width / result.height == pytest.approx(160 / 120, rel=0.05)
    assert_plays_inline(result, 9, result.height, result.width)


def test_a_budget_that_never_fits_raises_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encode, "_encode_once", stuck_at_coarsest_quantiser(bytes_per_pixel=1_000))

    with pytest.raises(EncodeError, match="cannot fit"):
        encoded(tmp_path, noise(9, 120, 160))

    assert_no_leftovers(tmp_path)


@pytest.mark.parametrize("max_bytes", [0, 1_000, 3_000])
def test_an_impossibly_small_budget_raises_and_leaves_nothing(tmp_path: Path, max_bytes: int) -> None:
    with pytest.raises(EncodeError, match="too small"):
        encoded(tmp_path, noise(49, 64, 64), max_bytes=max_bytes)

    assert_no_leftovers(tmp_path)


def test_a_failed_encode_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"previous render")

    with pytest.raises(EncodeError):
        encoded(tmp_path, noise(49, 64, 64), max_bytes=1_000)

    assert path.read_bytes() == b"previous render"
    assert [entry.name for entry in tmp_path.iterdir()] == ["clip.mp4"]


def test_credits_round_trip_including_unicode(tmp_path: Path) -> None:
    result = encoded(tmp_path, gradient(8, 64, 96), metadata=CREDITS)

    assert CREDITS.items() <= probe(result.path).metadata.items()


def test_custom_keys_round_trip_alongside_the_standard_ones(tmp_path: Path) -> None:
    tags = {**CREDITS, "model": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "seed": "42", "job": "7"}

    result = encoded(tmp_path, gradient(8, 64, 96), metadata=tags)

    assert tags.items() <= probe(result.path).metadata.items()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_frames_in_unit_range_encode_like_their_uint8_values(tmp_path: Path, dtype: type[np.floating]) -> None:
    expected = gradient(5, 64, 96)
    frames = expected.astype(dtype) / 255
    # Out of range is clipped, not wrapped; NaN (an fp16 VAE overflow) becomes black.
    frames[2], expected[2] = -0.5, 0
    frames[3], expected[3] = 1.5, 255
    frames[4], expected[4] = np.nan, 0

    decoded = decoded_rgb(encoded(tmp_path, frames).path).astype(int)

    assert decoded.shape == expected.shape
    assert np.abs(decoded - expected).mean(axis=(1, 2, 3)).max() < 3


def test_colours_survive_the_yuv_round_trip(tmp_path: Path) -> None:
    frames = np.zeros((4, 64, 64, 3), dtype=np.uint8)
    frames[0, ..., 0] = frames[1, ..., 1] = frames[2, ..., 2] = 255
    frames[3] = (200, 120, 40)

    centres = decoded_rgb(encoded(tmp_path, frames).path)[:, 32, 32].astype(int)
    assert np.abs(centres - frames[:, 32, 32]).max() <= 3


def test_odd_sizes_are_cropped_by_one_line(tmp_path: Path) -> None:
    frames = gradient(3, 65, 97)

    result = encoded(tmp_path, frames)

    assert (result.height, result.width) == (64, 96)
    assert np.abs(decoded_rgb(result.path).astype(int) - frames[:, :64, :96]).mean() < 3


def test_the_poster_is_the_middle_frame_as_a_jpeg(tmp_path: Path) -> None:
    frames = np.zeros((5, 61, 87, 3), dtype=np.uint8)
    frames[2] = (30, 140, 220)

    poster = write_poster(frames, tmp_path / "poster.jpg")

    assert poster.read_bytes()[:3] == b"\xff\xd8\xff"
    with av.open(str(poster)) as container:
        image = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert image.shape == (61, 87, 3)
    assert np.abs(image.astype(int) - (30, 140, 220)).max() <= 4
    assert [entry.name for entry in tmp_path.iterdir()] == ["poster.jpg"]


def test_the_poster_accepts_float_frames(tmp_path: Path) -> None:
    frames = np.full((3, 32, 48, 3), 0.5, dtype=np.float32)

    with av.open(str(write_poster(frames, tmp_path / "poster.jpg"))) as container:
        image = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert np.abs(image.astype(int) - 128).max() <= 2


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((2, 8, 8), np.uint8),
        np.zeros((2, 8, 8, 4), np.uint8),
        np.zeros((0, 8, 8, 3), np.uint8),
        np.zeros((2, 1, 8, 3), np.uint8),
        np.zeros((2, 8, 8, 3), np.int16),
    ],
)
def test_malformed_frames_are_refused(tmp_path: Path, frames: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(ValueError):
        encoded(tmp_path, frames)
    assert_no_leftovers(tmp_path)
