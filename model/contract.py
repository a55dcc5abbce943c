"""The plain-data contract between the job domain and an inference backend.

Everything here crosses a process boundary (and, later, Redis), so it is frozen dataclasses of
plain values only, and this module imports nothing heavy: `jobs` depends on it without pulling in
torch. ClipSpec is the one list of render parameters: the job row stores it column by column
(same names), the Discord command fills it, the pipeline reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
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


def result_from_manifest(data: object) -> RenderResult:
    """The RenderResult a manifest holds; ValueError if it does not hold one."""
    if not isinstance(data, Mapping) or not isinstance(data.get("video"), Mapping):
        raise ValueError("a manifest is an object with a video object")
    video = data["video"]
    try:
        result = RenderResult(
            video=VideoFile(
                key=_typed(video["key"], str),
                bytes=_typed(video["bytes"], int),
                width=_typed(video["width"], int),
                height=_typed(video["height"], int),
                frames=_typed(video["frames"], int),
                fps=_typed(video["fps"], int),
            ),
            poster_key=_typed(data["poster_key"], str),
            render_seconds=float(_typed(data["render_seconds"], (int, float))),
            encode_seconds=float(_typed(data["encode_seconds"], (int, float))),
        )
    except KeyError as missing:
        raise ValueError(f"the manifest has no {missing}") from None
    return result


def _typed(value: object, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a {kind}")
    return value


@dataclass(frozen=True, slots=True)
class Started:
    job_id: int


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: int
    step: int
    total: int
    elapsed: float


@dataclass(frozen=True, slots=True)
class Done:
    job_id: int
    result: RenderResult


@dataclass(frozen=True, slots=True)
class Failed:
    job_id: int
    failure: Failure


RenderEvent = Started | Progress | Done | Failed


class RenderBackend(Protocol):
    """What the job domain needs from inference: submit, cancel, a stream of events.

    Every submitted job ends in exactly one `Done` or `Failed` event, including
    when the process serving it dies.
    """

    capacity: int
    """How many jobs may be outstanding at once (rendering plus waiting in the worker)."""

    serves: frozenset[str]
    """Preset ids this backend can render."""

    async def start(self) -> None: ...

    async def submit(self, spec: RenderSpec) -> None: ...

    async def cancel(self, job_id: int) -> None: ...

    def events(self) -> AsyncIterator[RenderEvent]: ...

    async def close(self) -> None: ...
