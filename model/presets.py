"""The preset catalogue: which open text-to-video models the bot offers, as plain data.

The job domain imports this for costs and defaults, so it must stay free of torch and diffusers.
Figures are the model authors' own defaults (model cards and diffusers' pipeline docstrings).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from model.contract import ClipSpec

Size = tuple[int, int]
"""(width, height) in pixels."""

ASPECTS = ("16:9", "9:16", "1:1")

DEFAULT_PRESET_ID = "wan-1.3b"
TINY_PRESET_ID = "tiny"
"""Built in code with random weights: no download, and a CPU renders it in well under a second."""

KNOWN_PIPELINES = (
    "WanPipeline",
    "LTXPipeline",
    "CogVideoXPipeline",
    "HunyuanVideoPipeline",
    "MochiPipeline",
    "SkyReelsV2Pipeline",
)
"""diffusers text-to-video pipelines whose call takes what model.pipeline.render passes
(negative prompt, frames, size, steps, guidance, a step-end callback) and honours an interrupt.
Names, not classes: importing diffusers here would load torch into the job domain."""

PRESET_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
"""Short, lowercase and without spaces: ids are typed in Discord and shown in embeds."""

MAX_COST_WEIGHT = 1_000_000
"""Credits for one default clip, at most: beyond it a price is a typo, not a policy."""

APACHE_2_0_URL = "https://www.apache.org/licenses/LICENSE-2.0"


class UnknownPresetError(KeyError):
    def __init__(self, preset_id: str, choices: Iterable[str]) -> None:
        super().__init__(preset_id)
        self.preset_id = preset_id
        self.choices = tuple(choices)

    def __str__(self) -> str:
        return f"unknown preset {self.preset_id!r}; choose one of: {', '.join(self.choices)}"


class PresetError(ValueError):
    """A catalogue entry contradicts its own model's constraints; `field` names the culprit
    (None where the entry as a whole is wrong)."""

    def __init__(self, preset_id: str, field: str | None, problem: str) -> None:
        where = f"preset {preset_id!r}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}")
        self.preset_id = preset_id
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Preset:
    id: str
    repo: str
    """Hugging Face repo id (for `tiny`, a descriptive id: it is built in code)."""
    pipeline: str
    """diffusers pipeline class name, one of KNOWN_PIPELINES."""
    licence: str
    licence_url: str
    authors: str
    default_frames: int
    max_frames: int
    fps: int
    resolutions: Mapping[str, Size]
    """aspect ("16:9", "9:16", "1:1") -> (width, height), for the aspects the model handles well."""
    default_aspect: str
    default_steps: int
    guidance: float
    vram_hint_gb: float
    """Rough peak GPU memory with the whole pipeline resident on the GPU in bf16/fp16."""
    cost_weight: int
    """Credits for one default clip; the job domain prices other clips by their work relative to it."""
    frame_step: int
    """Frame counts must be frame_step * k + 1 (the VAE's temporal compression)."""
    size_step: int
    """Width and height must be multiples of this (VAE downscale times transformer patch size)."""
    flow_shift: float | None = None
    """Scheduler flow shift to set at load; None keeps the repo's scheduler config."""

    def __post_init__(self) -> None:
        self._check_names()
        self._check_counts()
        self._check_resolutions()
        self._check_frames()

    @property
    def default_size(self) -> Size:
        return self.resolutions[self.default_aspect]

    @property
    def default_seconds(self) -> float:
        return self.default_frames / self.fps

    def default_clip(
        self, prompt: str = "", *, negative_prompt: str = "", seed: int = 0, aspect: str | None = None
    ) -> ClipSpec:
        """The clip this preset renders when nothing else is asked: the one way to build it."""
        width, height = self.resolutions[aspect or self.default_aspect]
        return ClipSpec(
            preset_id=self.id,
            prompt=prompt,
            negative_prompt=negative_prompt,
            seed=seed,
            frames=self.default_frames,
            width=width,
            height=height,
            fps=self.fps,
            steps=self.default_steps,
            guidance=self.guidance,
        )

    def accepts_frames(self, frames: int) -> bool:
        return 1 <= frames <= self.max_frames and (frames - 1) % self.frame_step == 0

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # A MappingProxyType does not pickle; a preset crosses into the worker process as it is.
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return _rebuilt, ({**values, "resolutions": dict(self.resolutions)},)

    def _refuse(self, field: str, problem: str) -> PresetError:
        return PresetError(self.id, field, problem)

    def _check_names(self) -> None:
        if not PRESET_ID_PATTERN.fullmatch(self.id):
            raise self._refuse("id", "must be 1-32 characters of a-z, 0-9, '.', '_' and '-'")
        if self.pipeline not in KNOWN_PIPELINES:
            raise self._refuse(
                "pipeline",
                f"{self.pipeline!r} is not one of {', '.join(KNOWN_PIPELINES)}",
            )

    def _check_counts(self) -> None:
        at_least_one = ("fps", "default_steps", "frame_step", "size_step")
        for field in at_least_one:
            if getattr(self, field) < 1:
                raise self._refuse(field, "must be at least 1")
        if not 1 <= self.cost_weight <= MAX_COST_WEIGHT:
            raise self._refuse("cost_weight", f"must be between 1 and {MAX_COST_WEIGHT:_}")
        for field in ("guidance", "vram_hint_gb", "flow_shift"):
            value = getattr(self, field)
            if value is not None and not math.isfinite(value):
                raise self._refuse(field, f"must be a finite number, not {value}")
        for field in ("guidance", "flow_shift"):
            value = getattr(self, field)
            if value is not None and value <= 0:
                raise self._refuse(field, "must be greater than 0")
        if self.vram_hint_gb < 0:
            raise self._refuse("vram_hint_gb", "must not be negative")

    def _check_resolutions(self) -> None:
        for aspect, (width, height) in self.resolutions.items():
            if aspect not in ASPECTS:
                raise self._refuse("resolutions", f"unknown aspect {aspect!r} (use {', '.join(ASPECTS)})")
            if width < 1 or height < 1:
                raise self._refuse("resolutions", f"{aspect} is {width}x{height}; both must be at least 1")
            if width % self.size_step or height % self.size_step:
                raise self._refuse(
                    "resolutions",
                    f"{width}x{height} is not a multiple of {self.size_step} (size_step)",
                )
        if self.default_aspect not in self.resolutions:
            raise self._refuse("default_aspect", f"default aspect {self.default_aspect} has no resolution")

    def _check_frames(self) -> None:
        for field in ("default_frames", "max_frames"):
            frames = getattr(self, field)
            if (frames - 1) % self.frame_step:
                raise self._refuse(field, f"{frames} frames is not {self.frame_step}k+1 (frame_step)")
        if not 1 <= self.default_frames <= self.max_frames:
            raise self._refuse(
                "default_frames",
                f"default {self.default_frames} frames is outside 1..{self.max_frames}",
            )


_CATALOGUE = (
    Preset(
        id="wan-1.3b",
        repo="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        pipeline="WanPipeline",
        licence="Apache-2.0",
        licence_url=APACHE_2_0_URL,
        authors="Wan Team, Alibaba Group",
        default_frames=81,
        max_frames=81,
        fps=16,
        resolutions=MappingProxyType({"16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624)}),
        default_aspect="16:9",
        default_steps=50,
        guidance=5.0,
        vram_hint_gb=16,
        cost_weight=1,
        frame_step=4,
        size_step=16,
    ),
    Preset(
        id="ltx",
        repo="Lightricks/LTX-Video",
        pipeline="LTXPipeline",
        licence="LTX-Video Open RAIL-M",
        licence_url="https://huggingface.co/Lightricks/LTX-Video/blob/main/License.txt",
        authors="Lightricks",
        default_frames=121,
        max_frames=257,
        fps=24,
        resolutions=MappingProxyType({"16:9": (832, 480), "9:16": (480, 832), "1:1": (640, 640)}),
        default_aspect="16:9",
        default_steps=50,
        guidance=3.0,
        vram_hint_gb=16,
        cost_weight=1,
        frame_step=8,
        size_step=32,
    ),
    Preset(
        id="cogvideox-2b",
        repo="THUDM/CogVideoX-2b",
        pipeline="CogVideoXPipeline",
        licence="Apache-2.0",
        licence_url=APACHE_2_0_URL,
        authors="Zhipu AI and Tsinghua University (THUDM)",
        default_frames=49,
        max_frames=49,
        fps=8,
        # Trained at a single size; other sizes degrade badly.
        resolutions=MappingProxyType({"16:9": (720, 480)}),
        default_aspect="16:9",
        default_steps=50,
        guidance=6.0,
        vram_hint_gb=18,
        cost_weight=1,
        frame_step=4,
        size_step=16,
    ),
    Preset(
        id="wan-14b",
        repo="Wan-AI/Wan2.1-T2V-14B-Diffusers",
        pipeline="WanPipeline",
        licence="Apache-2.0",
        licence_url=APACHE_2_0_URL,
        authors="Wan Team, Alibaba Group",
        default_frames=81,
        max_frames=81,
        fps=16,
        resolutions=MappingProxyType({"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)}),
        default_aspect="16:9",
        default_steps=50,
        guidance=5.0,
        vram_hint_gb=48,
        cost_weight=1,
        frame_step=4,
        size_step=16,
        flow_shift=5.0,  # Wan's advice for 720p; the repo's scheduler config carries 480p's 3.0
    ),
    Preset(
        id=TINY_PRESET_ID,
        repo="tiny-wan, random weights built in code",
        pipeline="WanPipeline",
        licence="Apache-2.0",
        licence_url=APACHE_2_0_URL,
        authors="promptreel (random weights, for tests and demos)",
        default_frames=9,
        max_frames=33,
        fps=8,
        resolutions=MappingProxyType({"16:9": (112, 64), "9:16": (64, 112), "1:1": (64, 64)}),
        default_aspect="1:1",
        default_steps=4,
        guidance=5.0,
        vram_hint_gb=0.5,
        cost_weight=1,
        frame_step=4,
        size_step=16,
    ),
)


def _rebuilt(values: dict[str, Any]) -> Preset:
    return Preset(**{**values, "resolutions": MappingProxyType(values["resolutions"])})


PRESETS: Mapping[str, Preset] = MappingProxyType({preset.id: preset for preset in _CATALOGUE})


def get_preset(preset_id: str, catalogue: Mapping[str, Preset] = PRESETS) -> Preset:
    try:
        return catalogue[preset_id]
    except KeyError:
        raise UnknownPresetError(preset_id, catalogue) from None
