"""The plain-data contract between the job domain and an inference backend.

Everything here crosses a process boundary (and, later, Redis), so it is frozen
dataclasses of str/int/float only, and this module imports nothing heavy:
`jobs` depends on it without pulling in torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Protocol


@dataclass(frozen=True, slots=True)
class Credit:
    """Who and what made a clip; written into the MP4's metadata."""

    requester_name: str
    requester_id: int
    preset_id: str
    model_id: str
    licence: str
    seed: int
    job_id: int


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """One clip to render, fully resolved (no defaults left to the worker)."""

    job_id: int
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
    max_bytes: int
    credit: Credit


@dataclass(frozen=True, slots=True)
class RenderResult:
    video_path: str
    poster_path: str
    video_bytes: int
    width: int
    height: int
    frames: int
    fps: int
    render_seconds: float
    encode_seconds: float


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
    reason: str
    cancelled: bool = False


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
