"""The plain-data contract between the job domain and an inference backend.

Everything here crosses a process boundary (and, later, Redis), so it is frozen dataclasses of
plain values only, and this module imports nothing heavy: `jobs` depends on it without pulling in
torch. ClipSpec is the one list of render parameters: the job row stores it column by column
(same names), the Discord command fills it, the pipeline reads it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from common.failures import Failure

DEFAULT_UPLOAD_LIMIT_BYTES = 10 * 2**20
"""Discord's upload limit for bots in a server without boosts (each interaction says its own)."""
MEDIA_FOLDER = "media"
"""Where rendered files live under DATA_DIR; their keys start with it ("media/12.mp4")."""


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """One clip, fully resolved: no default is left to the worker, so a restart renders the same clip."""

    preset_id: str
    prompt: str
    negative_prompt: str
    seed: int
    frames: int
    width: int
    height: int
    fps: int
    steps: int
    guidance: float

    @property
    def work(self) -> int:
        """Frames × pixels × steps: what the clip asks of the GPU, for pricing."""
        return self.frames * self.width * self.height * self.steps


@dataclass(frozen=True, slots=True)
class Credit:
    """Who and what made a clip, beyond its spec; written into the MP4's metadata."""

    requester_name: str
    requester_id: int
    model_id: str
    licence: str
    authors: str
    """The model's authors, as the catalogue named them when the job was created."""


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """A job as a backend sees it."""

    job_id: int
    clip: ClipSpec
    max_bytes: int
    """The encoded file must fit this (the channel's upload limit)."""
    credit: Credit
    attempt: int = 1
    """Which hand-over to a render backend this is (the job's attempts so far, this one included)."""


@dataclass(frozen=True, slots=True)
class VideoFile:
    """What the encoder actually wrote: after a downscale to fit the upload limit, smaller than the clip asked."""

    key: str
    """Relative to DATA_DIR ("media/12.mp4"): any process that shares DATA_DIR can find it."""
    bytes: int
    width: int
    height: int
    frames: int
    fps: int


@dataclass(frozen=True, slots=True)
class RenderResult:
    video: VideoFile
    poster_key: str
    render_seconds: float
    encode_seconds: float


def manifest_key(job_id: int) -> str:
    """The key of a finished clip's manifest ("media/12.json"): its RenderResult, written after the MP4 and poster,
    so a clip finished just before a shutdown is recorded on the next start instead of rendered again."""
    return f"{MEDIA_FOLDER}/{job_id}.json"


def result_to_manifest(result: RenderResult) -> dict[str, Any]:
    """A RenderResult as plain JSON data (the manifest's content)."""
    return asdict(result)


def write_manifest(result: RenderResult, path: Path) -> None:
    """The finished clip's RenderResult next to it, written last and atomically (a temporary file, then a rename):
    a manifest that exists names an MP4 and poster that are complete, and it is never half written."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(result_to_manifest(result)), encoding="utf-8")
    os.replace(temporary, path)


def result_from_manifest(data: object) -> RenderResult:
    """The RenderResult a manifest holds; ValueError if it does not hold one."""
    if not isinstance(data, Mapping) or not isinstance(data.get("video"), Mapping):
        raise ValueError("a manifest is an object with a video object")
    video = data["video"]
    try:
        result = RenderResult(
            video=VideoFile(
                key=typed(video["key"], str),
                bytes=typed(video["bytes"], int),
                width=typed(video["width"], int),
                height=typed(video["height"], int),
                frames=typed(video["frames"], int),
                fps=typed(video["fps"], int),
            ),
            poster_key=typed(data["poster_key"], str),
            render_seconds=float(typed(data["render_seconds"], (int, float))),
            encode_seconds=float(typed(data["encode_seconds"], (int, float))),
        )
    except KeyError as missing:
        raise ValueError(f"the manifest has no {missing}") from None
    return result


def typed(value: object, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a {kind}")
    return value


@dataclass(frozen=True, slots=True)
class Started:
    job_id: int
    load_seconds: float | None = None
    """How long loading the job's preset took before its render (another preset's pipeline was loaded, or none);
    None when the pipeline was loaded already."""


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: int
    step: int
    total: int
    elapsed: float


@dataclass(frozen=True, slots=True)
class Preview:
    """A small JPEG of the clip's middle frame as it forms (model/preview.py): at most one every few seconds per
    job, and only a courtesy: a backend may drop one, and none ever delays the job's Done or Failed."""

    job_id: int
    step: int
    """The denoising step after which it was taken (from 1)."""
    image: bytes

    def __post_init__(self) -> None:
        if len(self.image) > MAX_PREVIEW_BYTES:
            raise ValueError(f"a preview is at most {MAX_PREVIEW_BYTES} bytes, not {len(self.image)}")


MAX_PREVIEW_BYTES = 32 * 1024
"""A preview JPEG is 4 to 15 KB (pure noise at 256 × 256 pixels, the worst case, about 29 KB); anything larger is not
one, and the events stream Redis keeps (EVENTS_KEPT entries) stays megabytes, not gigabytes."""


@dataclass(frozen=True, slots=True)
class Done:
    job_id: int
    result: RenderResult


@dataclass(frozen=True, slots=True)
class Failed:
    job_id: int
    failure: Failure


RenderEvent = Started | Progress | Preview | Done | Failed


class RenderBackend(Protocol):
    """What the job domain needs from inference: submit, cancel, a stream of events.

    Every submitted job ends in exactly one `Done` or `Failed` event, including
    when the process serving it dies.
    """

    @property
    def capacity(self) -> int:
        """How many jobs may be outstanding at once (rendering plus waiting in the workers); with remote
        workers it follows the workers that are alive."""
        ...

    @property
    def serves(self) -> frozenset[str]:
        """Preset ids this backend can render now: with remote workers, the union of theirs."""
        ...

    @property
    def renders_at_once(self) -> int:
        """How many clips render at the same time now (one per live GPU worker): what a wait is estimated with."""
        ...

    @property
    def elastic(self) -> bool:
        """The workers live apart from the bot: they come and go (a preset nobody serves now may be served later,
        so its jobs wait for one), and they render on through a restart of the bot (`resume` finds their jobs)."""
        ...

    async def start(self) -> None:
        """Return once jobs may be submitted. What may pass (a worker's load cut short) is tried again meanwhile; it
        raises only when the backend cannot start at all (a setting must change), and the runner then fails and
        refunds the jobs waiting for it (JobRunner.start_failed)."""
        ...

    async def resume(self, specs: Sequence[RenderSpec]) -> frozenset[int]:
        """The jobs of `specs` (left running by the last bot process) that this backend still has: a remote worker
        renders them, or has finished them and their events follow. The others were lost with that process."""
        ...

    async def submit(self, spec: RenderSpec) -> None: ...

    async def cancel(self, job_id: int) -> None: ...

    def events(self) -> AsyncIterator[RenderEvent]: ...

    async def close(self) -> None: ...
