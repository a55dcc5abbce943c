"""Encode rendered frames into a Discord-ready H.264 MP4 that always fits a byte budget.

The file is libx264 High profile, yuv420p, BT.709-tagged, even-sized, with the moov box
first (``+faststart``) so every Discord client can play it inline while it downloads.

Fit strategy, best-looking first; each rung runs only if the one before made too big a file:

1. **quality**: constant quality (CRF), capped by a VBV maxrate/bufsize solved from the
   budget and the clip's duration. Ordinary clips come out far below the cap at the quality
   the CRF promises; noise-like clips hit the cap and still land in budget. In sweeps of
   ~300 noise clips (1-81 frames, 2x2 to 832x480, 3 KB to 10 MiB budgets) this rung fitted
   every clip whose budget could hold the container, so the others are a safety net for
   x264 overshooting its VBV model.
2. **bitrate**: average bitrate lowered below the cap in proportion to the overshoot (with the
   same maxrate/bufsize), lowered again while the miss stays small (rate-control slop).
3. **downscale**: a large miss at a bitrate x264 was told to respect means it cannot make
   frames that small at this size, so halve the pixels (or more; aspect and even sides kept)
   and lower the bitrate again, until it fits or the picture is smaller than a macroblock.

The result is never over budget: a budget that cannot be met raises :class:`EncodeError`.
Output goes to a hidden temp file beside ``path`` and is renamed into place, so ``path``
never holds a half-written file.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TypeGuard

import av
import numpy as np
import numpy.typing as npt
from av.container import OutputContainer
from av.video.reformatter import (
    ColorPrimaries,
    ColorRange,
    Colorspace,
    ColorTrc,
    Interpolation,
    VideoReformatter,
)
from av.video.stream import VideoStream

X264_PRESET = "veryfast"
"""Measured on 2 cores (81 x 832x480): medium is ~1.6x slower for ~1.5 dB PSNR at equal size,
and 3x slower on noise; veryfast at a lower CRF buys that quality back with bytes we have spare."""

QUALITY_CRF = 18
"""With veryfast, about the fidelity medium gives at CRF 21 (PSNR); a 5 s 480p clip stays
well under 1 MB."""

VBV_BUFFER_SECONDS = 1.0
"""VBV buffer length. The file holds at most maxrate x (duration + buffer), which sizes the cap."""

CONTAINER_BYTES = 2048
"""Measured ~850 bytes of boxes (ftyp, moov, avcC) and x264's ~700-byte settings SEI in the
first frame; the rest is slack."""

CONTAINER_BYTES_PER_FRAME = 16
"""Sample tables (stsz, ctts, stss, stco): measured 4-8 bytes a frame."""

CONTAINER_BYTES_PER_TAG = 48
"""A metadata entry costs its key and value plus ~37 bytes of atom headers (measured)."""

RATE_SAFETY = 0.95
"""x264 VBV is a model, not a hard limit; leave 5% of slack for it."""

RATE_STEP = 0.85
"""Each retry lowers the bitrate at least this much, so the search always terminates."""

SLOP_OVERSHOOT = 1.1
"""Misses below this are rate-control slop that a lower bitrate fixes; above, downscale."""

MAX_BITRATE = 20_000_000
"""High@4.0 allows 25 Mbit/s. x264 picks the level from the cap, so a short clip's huge budget
would otherwise claim level 5 (which some older phones refuse) for a stream that never needs it."""

MIN_SIDE = 16
"""Smaller than one macroblock is not a video anyone can watch."""

MIN_BITRATE = 8_000
"""FFmpeg hands x264 whole kbit/s, and a maxrate that rounds to 0 means no cap at all;
below 8 kbit/s nothing watchable is left anyway."""

ITUNES_TEXT_KEYS = frozenset(
    {
        "title", "artist", "album_artist", "composer", "album", "date", "comment", "genre",
        "copyright", "grouping", "lyrics", "description", "synopsis", "show", "episode_id",
        "network", "keywords",
    }
)  # fmt: skip
"""Keys FFmpeg's mp4 muxer writes as iTunes (ilst) atoms; any other key is silently dropped
unless the whole set is written as QuickTime ``mdta`` keys instead (``+use_metadata_tags``)."""

POSTER_QUANTISER = 3
"""MJPEG quantiser (ffmpeg's -q:v scale, 2 best to 31 worst): visually clean at ~170 KB for 480p."""

Frames = npt.NDArray[np.uint8] | npt.NDArray[np.floating]


@dataclass(frozen=True, slots=True)
class EncodedVideo:
    path: Path
    bytes: int
    width: int
    height: int
    frames: int
    fps: int
    seconds: float
    """Wall time encode_mp4 took: float conversion and all attempts together."""
    attempts: int
    """How many encodes it took to fit the budget."""
    strategy: str
    """"quality", "bitrate" or "downscale": which rung of the fit strategy produced the file."""


class EncodeError(Exception):
    """The clip cannot be encoded within the byte budget."""


@dataclass(frozen=True, slots=True)
class _Settings:
    """One x264 configuration: constant quality (crf set) or average bitrate, at a size."""

    width: int
    height: int
    maxrate: int
    """VBV cap in bit/s; also the average bitrate when crf is None."""
    crf: int | None


def encode_mp4(frames: Frames, *, fps: int, path: Path, max_bytes: int, metadata: Mapping[str, str]) -> EncodedVideo:
    """Encode (T, H, W, 3) RGB frames into an MP4 at ``path`` of at most ``max_bytes`` bytes.

    ``frames`` is uint8, or float in [0, 1] as diffusers returns it (clipped, converted once).
    Raises :class:`EncodeError` when the budget cannot be met; ``path`` is then left untouched.
    """
    started = time.perf_counter()
    if fps < 1:
        raise ValueError(f"fps must be at least 1, got {fps}")
    pixels = _even_sized(_as_uint8(_checked(frames)))
    first = _Settings(
        width=pixels.shape[2],
        height=pixels.shape[1],
        maxrate=_budget_bitrate(max_bytes, len(pixels), fps, metadata),
        crf=QUALITY_CRF,
    )
    part = _part_path(path)
    try:
        settings, attempts = first, 1
        size = _encode_once(pixels, settings, fps, metadata, part)
        while size > max_bytes:
            settings = _next_settings(settings, size, max_bytes)
            attempts += 1
            size = _encode_once(pixels, settings, fps, metadata, part)
        _durably_replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return EncodedVideo(
        path=path,
        bytes=size,
        width=settings.width,
        height=settings.height,
        frames=len(pixels),
        fps=fps,
        seconds=time.perf_counter() - started,
        attempts=attempts,
        strategy=_strategy(settings, first),
    )


def write_poster(frames: Frames, path: Path) -> Path:
    """Write the middle frame, at its full size, as a JPEG at ``path``."""
    middle = len(_checked(frames)) // 2
    jpeg = jpeg_bytes(_as_uint8(frames[middle : middle + 1])[0])
    part = _part_path(path)
    try:
        part.write_bytes(jpeg)
        _durably_replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    return path


def jpeg_bytes(
    rgb: npt.NDArray[np.uint8], size: tuple[int, int] | None = None, *, quantiser: int = POSTER_QUANTISER
) -> bytes:
    """One (H, W, 3) uint8 RGB image as a JPEG, scaled (bicubic) to size (width, height) when one is given."""
    width, height = size or (rgb.shape[1], rgb.shape[0])
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p"  # JFIF: BT.601 matrix, full range
    encoder.time_base = Fraction(1, 1)
    # Pinning the quantiser is PyAV's way to say -q:v (it cannot set a frame's quality).
    encoder.qmin = encoder.qmax = quantiser
    frame = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(rgb)).reformat(
        width, height, format="yuvj420p", interpolation="BICUBIC", dst_color_range=ColorRange.JPEG
    )
    return b"".join(bytes(packet) for packet in [*encoder.encode(frame), *encoder.encode(None)])


def _checked(frames: Frames) -> Frames:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f"frames must be a (T, H, W, 3) RGB array, got {_describe(frames)}")
    if frames.dtype != np.uint8 and not np.issubdtype(frames.dtype, np.floating):
        raise ValueError(f"frames must be uint8 or float in [0, 1], got {frames.dtype}")
    if frames.shape[0] < 1 or frames.shape[1] < 2 or frames.shape[2] < 2:
        raise ValueError(f"need at least one frame of 2x2 pixels, got shape {frames.shape}")
    return frames


def _describe(value: object) -> str:
    shape = getattr(value, "shape", None)
    return f"shape {shape}" if shape is not None else type(value).__name__


def _as_uint8(frames: Frames) -> npt.NDArray[np.uint8]:
    """The frames as uint8 with contiguous pixel rows (what PyAV wraps without copying)."""
    if _is_uint8(frames):
        return frames if _rows_contiguous(frames) else np.ascontiguousarray(frames)
    pixels = np.empty(frames.shape, dtype=np.uint8)
    # One frame-sized float32 scratch instead of whole-clip temporaries (a clip is ~400 MB).
    scratch = np.empty(frames.shape[1:], dtype=np.float32)
    for source, target in zip(frames, pixels, strict=True):
        np.multiply(source, 255.0, out=scratch, casting="same_kind")
        # fmax/fmin rather than clip: they also turn NaN (an fp16 VAE overflow) into black.
        np.fmax(scratch, 0.0, out=scratch)
        np.fmin(scratch, 255.0, out=scratch)
        np.rint(scratch, out=scratch)
        np.copyto(target, scratch, casting="unsafe")
    return pixels


def _is_uint8(frames: Frames) -> TypeGuard[npt.NDArray[np.uint8]]:
    return frames.dtype == np.uint8


def _rows_contiguous(frames: npt.NDArray[np.uint8]) -> bool:
    """Whether every pixel row is packed RGB at a forward stride, as PyAV needs to wrap it."""
    return frames.strides[2:] == (3, 1) and frames.strides[1] >= 3 * frames.shape[2]


def _even_sized(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Crop an odd height or width by one line, as yuv420p needs even sides.

    Crop, not pad: a padded line is a black bar or a smeared edge the model never rendered,
    whereas one dropped edge line is invisible, and a crop is a view rather than a copy.
    """
    height, width = pixels.shape[1], pixels.shape[2]
    return pixels[:, : height - height % 2, : width - width % 2]


def _container_bytes(frames: int, metadata: Mapping[str, str]) -> int:
    tags = sum(len(key.encode()) + len(value.encode()) + CONTAINER_BYTES_PER_TAG for key, value in metadata.items())
    return CONTAINER_BYTES + CONTAINER_BYTES_PER_FRAME * frames + tags


def _budget_bitrate(max_bytes: int, frames: int, fps: int, metadata: Mapping[str, str]) -> int:
    """The VBV maxrate (bit/s) at which the whole file cannot outgrow ``max_bytes``.

    A VBV-conformant stream holds at most bufsize + maxrate x duration bits, and bufsize is
    maxrate x VBV_BUFFER_SECONDS, so solve for maxrate on what the container leaves over.
    """
    container = _container_bytes(frames, metadata)
    payload_bits = (max_bytes - container) * 8 * RATE_SAFETY
    maxrate = min(MAX_BITRATE, int(payload_bits / (frames / fps + VBV_BUFFER_SECONDS)))
    if maxrate < MIN_BITRATE:
        raise EncodeError(
            f"a budget of {max_bytes:,} bytes is too small for {frames} frames: "
            f"the MP4 container alone takes about {container:,}"
        )
    return maxrate


def _next_settings(last: _Settings, size: int, max_bytes: int) -> _Settings:
    """What to try after ``last`` made ``size`` bytes: a lower bitrate, then fewer pixels."""
    overshoot = size / max_bytes
    maxrate = int(last.maxrate * min(RATE_STEP, RATE_SAFETY / overshoot))
    width, height = last.width, last.height
    if last.crf is None and overshoot >= SLOP_OVERSHOOT:
        # x264 is at its coarsest quantiser: only fewer pixels make the frames smaller.
        width, height = _scaled(width, height, area=1 / max(2.0, overshoot))
    if maxrate < MIN_BITRATE or min(width, height) < MIN_SIDE:
        raise EncodeError(
            f"cannot fit the clip into {max_bytes:,} bytes: at {last.width}x{last.height} it still takes {size:,}"
        )
    return _Settings(width=width, height=height, maxrate=maxrate, crf=None)


def _scaled(width: int, height: int, *, area: float) -> tuple[int, int]:
    """Both sides scaled so the picture has ``area`` times the pixels, kept even."""
    side = math.sqrt(area)
    return int(width * side) // 2 * 2, int(height * side) // 2 * 2


def _strategy(settings: _Settings, first: _Settings) -> str:
    if settings.crf is not None:
        return "quality"
    if (settings.width, settings.height) != (first.width, first.height):
        return "downscale"
    return "bitrate"


def _encode_once(
    pixels: npt.NDArray[np.uint8],
    settings: _Settings,
    fps: int,
    metadata: Mapping[str, str],
    part: Path,
) -> int:
    """One complete encode into ``part``; returns the file's size in bytes."""
    with av.open(str(part), "w", format="mp4", options=_muxer_options(metadata)) as container:
        container.metadata.update(metadata)
        stream = _h264_stream(container, settings, fps)
        for packet in _packets(stream, pixels, settings):
            container.mux(packet)
    return part.stat().st_size


def _muxer_options(metadata: Mapping[str, str]) -> dict[str, str]:
    # iTunes atoms are what most players show, but the muxer drops keys it has no atom for;
    # then write every key as a QuickTime mdta key, which FFmpeg-based readers all show.
    custom_keys = not ITUNES_TEXT_KEYS.issuperset(metadata)
    return {"movflags": "+faststart+use_metadata_tags" if custom_keys else "+faststart"}


def _h264_stream(container: OutputContainer, settings: _Settings, fps: int) -> VideoStream:
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = settings.width, settings.height, "yuv420p"
    codec = stream.codec_context
    # Tag what _packets converts to, so browsers and phones pick the same matrix.
    codec.colorspace = Colorspace.ITU709
    codec.color_primaries = ColorPrimaries.BT709
    codec.color_trc = ColorTrc.BT709
    codec.color_range = ColorRange.MPEG
    # x264's own frame threads (PyAV defaults to slices): ~2% smaller at the same speed,
    # and they run alongside the RGB->YUV conversion on this thread. 0 = x264 picks the count.
    codec.thread_type = "FRAME"
    codec.thread_count = 0
    stream.options = _x264_options(settings)
    return stream


def _x264_options(settings: _Settings) -> dict[str, object]:
    # High profile, yuv420p 8-bit: every Discord client decodes it in hardware. x264 derives
    # the level from size, frame rate and the VBV cap, so the level always tells the truth.
    options: dict[str, object] = {
        "preset": X264_PRESET,
        "profile": "high",
        "maxrate": str(settings.maxrate),
        "bufsize": str(int(settings.maxrate * VBV_BUFFER_SECONDS)),
    }
    if settings.crf is None:
        options["b"] = str(settings.maxrate)
    else:
        options["crf"] = str(settings.crf)
    return options


def _packets(
    stream: VideoStream, pixels: npt.NDArray[np.uint8], settings: _Settings
) -> Iterator[av.Packet[VideoStream]]:
    reformatter = VideoReformatter()  # reused so swscale's context is built once
    for index, rgb in enumerate(pixels):
        yuv = reformatter.reformat(
            av.VideoFrame.from_numpy_buffer(rgb),  # wraps the array's memory, no copy
            width=settings.width,
            height=settings.height,
            format="yuv420p",
            dst_colorspace=Colorspace.ITU709,
            dst_color_range=ColorRange.MPEG,
            dst_color_primaries=ColorPrimaries.BT709,
            dst_color_trc=ColorTrc.BT709,
            interpolation=Interpolation.AREA,  # only used when downscaling; least aliasing
        )
        yuv.pts = index
        yield from stream.encode(yuv)
    yield from stream.encode(None)


def _part_path(path: Path) -> Path:
    """A hidden, unique sibling of ``path``: same filesystem, so the final rename is atomic."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


def _durably_replace(part: Path, path: Path) -> None:
    # fsync first, or a crash just after the rename can leave an empty file at path.
    with part.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(part, path)
