"""What the bot and its local worker process say to each other. Plain data: the bot imports this
module and must stay free of torch."""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.contract import RenderEvent, RenderSpec
from model.presets import Preset
from model.speed import DeviceSetting, SpeedOptions

DEFAULT_STALL_TIMEOUT_SECONDS = 600.0
"""Generous: a real model's step takes seconds to a minute, its encode up to a few minutes."""


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    presets: tuple[Preset, ...]
    """What the worker serves, the default (loaded and warmed up at start) first, as the parent loaded them
    (built-ins plus the presets file): a presets file edited later cannot make a restarted worker disagree
    with the bot, or fail to start. One GPU serves them all, one pipeline loaded at a time."""
    data_dir: str
    """Absolute DATA_DIR: the worker writes media/<job_id>.mp4 and .jpg under it."""
    device: DeviceSetting = "auto"
    speed: SpeedOptions = SpeedOptions()
    log_level: str = "INFO"
    pipeline_loader: str = "model.pipeline:load_pipeline"
    """'module:function' with load_pipeline's signature; an import path so it crosses a spawn."""
    stall_timeout: float = DEFAULT_STALL_TIMEOUT_SECONDS
    """A started job that sends no Progress, Done or Failed for this long has hung the worker:
    the backend kills it, fails the job and starts a new one."""

    def __post_init__(self) -> None:
        if not self.presets:
            raise ValueError("a worker must serve at least one preset")
        if len(set(self.preset_ids)) < len(self.presets):
            raise ValueError(f"a worker serves each preset once, not {list(self.preset_ids)}")
        if not (self.stall_timeout > 0 and math.isfinite(self.stall_timeout)):
            raise ValueError(f"stall_timeout must be a positive number, not {self.stall_timeout}")
        if ":" not in self.pipeline_loader:
            raise ValueError(f"pipeline_loader must look like 'module:function', not {self.pipeline_loader!r}")

    @property
    def preset_ids(self) -> tuple[str, ...]:
        return tuple(preset.id for preset in self.presets)


# Parent -> worker


@dataclass(frozen=True, slots=True)
class Cancel:
    job_id: int


@dataclass(frozen=True, slots=True)
class Shutdown:
    pass


Request = RenderSpec | Cancel | Shutdown


# Worker -> parent, besides the RenderEvents


@dataclass(frozen=True, slots=True)
class Ready:
    """The model is loaded and warm."""


@dataclass(frozen=True, slots=True)
class LoadFailed:
    reason: str
    """For the operator's log and the bot's exit message: what to do about it."""
    permanent: bool = False
    """Trying again cannot help (the model does not fit the GPU, a setting must change): the backend stops starting
    the worker again, and a first start that fails so stops the bot."""


WorkerMessage = Ready | LoadFailed | RenderEvent
