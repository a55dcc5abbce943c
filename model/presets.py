"""The preset catalogue: which open text-to-video models the bot offers, as plain data.

The job domain imports this for costs and defaults, so it must stay free of torch and diffusers.
Figures are the model authors' own defaults (model cards and diffusers' pipeline docstrings).
"""

from __future__ import annotations

import dataclasses
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
    "LTXConditionPipeline",
    "CogVideoXPipeline",
    "HunyuanVideoPipeline",
    "MochiPipeline",
    "SkyReelsV2Pipeline",
)
"""diffusers text-to-video pipelines whose call takes what model.pipeline.render passes
(negative prompt, frames, size, steps, guidance, a step-end callback) and honours an interrupt.
Names, not classes: importing diffusers here would load torch into the job domain."""

CREDIT_FIELD_CHARS = {"repo": 200, "licence": 100, "licence_url": 300, "authors": 200}
"""The credit is copied onto each job: these fit the job's columns on every database."""
DTYPES = ("bfloat16", "float16", "float32")
"""Precisions a preset may ask for, by torch's names."""
CALL_ARG_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,63}")

CallArg = str | int | float | bool
"""The value of an extra pipeline call argument: plain data, so a preset pickles and reads from TOML."""

PRESET_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
"""Short, lowercase and without spaces: ids are typed in Discord and shown in embeds."""

MAX_COST_WEIGHT = 1_000_000
"""Credits for one default clip, at most: beyond it a price is a typo, not a policy."""

MAX_STEPS = 10_000
"""Denoising steps a preset may allow, at most: beyond it a bound is a typo (a clip's cost grows with its steps)."""
MAX_DESCRIPTION_CHARS = 80
"""A description is one line beside the preset's id and cost in Discord's autocomplete, whose names hold 100."""

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
    """Hugging Face repo id, or a local folder in diffusers' layout (for `tiny`, a descriptive id: it is built
    in code)."""
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
    """Peak GPU memory, in GB, with the whole pipeline resident in its dtype: the weights (from the
    parameter counts) plus an allowance for the default clip's activations. VIDEO_OFFLOAD=auto keeps
    everything on a GPU with this much free."""
    offload_vram_gb: float
    """Peak GPU memory, in GB, with VIDEO_OFFLOAD=model: the largest component (usually the text encoder
    or the transformer) plus the same allowance. Below it, auto streams layers (group offload)."""
    cost_weight: int
    """Credits for one default clip; the job domain prices other clips by their work relative to it."""
    frame_step: int
    """Frame counts must be frame_step * k + 1 (the VAE's temporal compression)."""
    size_step: int
    """Width and height must be multiples of this (VAE downscale times transformer patch size)."""
    flow_shift: float | None = None
    """Scheduler flow shift to set at load; None keeps the repo's scheduler config. Refused at load for a
    scheduler that has no flow shift (diffusers would drop it silently)."""
    dtype: str = "bfloat16"
    """The precision the model's authors recommend on a GPU; a GPU that only emulates bf16 gets float16."""
    vae_dtype: str | None = None
    """The VAE's own precision when it differs (Wan's decodes best in float32); None: the pipeline's."""
    negative_prompt: str = ""
    """What every clip avoids unless the member gives a negative prompt of their own."""
    call_args: Mapping[str, CallArg] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    """Extra keyword arguments for the pipeline call (LTX's decode_timestep, say); checked at load against
    the pipeline's signature."""
    description: str = ""
    """One line for members choosing a preset (/video's autocomplete): what it is good for, at most
    MAX_DESCRIPTION_CHARS. Empty: the autocomplete shows the id and the cost alone."""
    min_steps: int = 1
    max_steps: int = 100
    """The denoising steps a member may ask for (/video's `steps`), default_steps among them. Below a model's
    minimum its clips are a blur not worth a credit; above its maximum they cost more and look no better."""
    sensitive: bool = False
    """The operator marks a preset whose clips need an age-restricted channel; a server may allow it only there."""

    def __post_init__(self) -> None:
        self._check_names()
        self._check_counts()
        self._check_steps()
        self._check_resolutions()
        self._check_frames()
        self._check_precision_and_calls()

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
            negative_prompt=negative_prompt or self.negative_prompt,
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
        return _rebuilt, ({name: _plain(value) for name, value in values.items()},)

    def _refuse(self, field: str, problem: str) -> PresetError:
        return PresetError(self.id, field, problem)

    def _check_names(self) -> None:
        if not PRESET_ID_PATTERN.fullmatch(self.id):
            raise self._refuse("id", "must be 1-32 characters of a-z, 0-9, '.', '_' and '-'")
        for field_name, limit in CREDIT_FIELD_CHARS.items():
            if not 1 <= len(getattr(self, field_name)) <= limit:
                raise self._refuse(field_name, f"must be 1 to {limit} characters (it is stored with every job)")
        if len(self.description) > MAX_DESCRIPTION_CHARS or not self.description.isprintable():
            raise self._refuse(
                "description", f"must be one line of at most {MAX_DESCRIPTION_CHARS} printable characters"
            )
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
        for field in ("guidance", "vram_hint_gb", "offload_vram_gb", "flow_shift"):
            value = getattr(self, field)
            if value is not None and not math.isfinite(value):
                raise self._refuse(field, f"must be a finite number, not {value}")
        for field in ("guidance", "flow_shift"):
            value = getattr(self, field)
            if value is not None and value <= 0:
                raise self._refuse(field, "must be greater than 0")
        for field in ("vram_hint_gb", "offload_vram_gb"):
            if getattr(self, field) < 0:
                raise self._refuse(field, "must not be negative")

    def _check_steps(self) -> None:
        if not 1 <= self.min_steps <= self.default_steps:
            raise self._refuse("min_steps", f"must be from 1 to default_steps ({self.default_steps})")
        if not self.default_steps <= self.max_steps <= MAX_STEPS:
            raise self._refuse("max_steps", f"must be from default_steps ({self.default_steps}) to {MAX_STEPS}")

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

    def _check_precision_and_calls(self) -> None:
        if self.dtype not in DTYPES:
            raise self._refuse("dtype", f"{self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.vae_dtype is not None and self.vae_dtype not in DTYPES:
            raise self._refuse("vae_dtype", f"{self.vae_dtype!r} is not one of {', '.join(DTYPES)}")
        for name, value in self.call_args.items():
            if not CALL_ARG_PATTERN.fullmatch(name):
                raise self._refuse("call_args", f"{name!r} is not an argument name")
            if not isinstance(value, CallArg):
                raise self._refuse("call_args", f"{name} must be text, a number or true/false, not {value!r}")

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


WAN_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, static, "
    "overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra fingers, poorly "
    "drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, fused fingers, still picture, messy "
    "background, three legs, many people in the background, walking backwards"
)
"""Wan's own (the English of the Wan 2.1 repository's sample_neg_prompt, as diffusers' example gives it)."""
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"
"""What every LTX-Video example in diffusers' documentation passes."""

# Memory figures: weights from parameter counts in the preset's dtype (UMT5-XXL 5.68 B, T5-XXL 4.76 B,
# Wan 1.3B 1.42 B, Wan 14B 14.29 B, CogVideoX-2b 1.69 B, LTX-Video 2B 1.92 B parameters), plus an allowance
# for the default clip's activations (2 GB at 480p, 6 GB at 720p). Estimates, not measurements.
# Steps: a real preset's default (50, as its authors sample) is also its maximum: more steps cost more and add
# nothing its authors found worth it. The minimum, 20, is a judgement, not a measurement: the fast settings commonly
# used with these models are 20 to 30 steps, and with fewer their samplers leave motion and detail unfinished.
# Cost weights: the transformer's work for the default clip (FLOPs: 2 x parameters x tokens plus attention's
# 4 x layers x tokens^2 x width, per step and per guidance pass), relative to wan-1.3b's, times 8 so that
# the cheapest preset costs 1: wan-14b x23.6, cogvideox-2b x0.46, ltx x0.11. README: Credits and limits.
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
        # Wan 2.1 1.3B supports 480p in both orientations (its SUPPORTED_SIZES); no square size.
        resolutions=MappingProxyType({"16:9": (832, 480), "9:16": (480, 832)}),
        default_aspect="16:9",
        default_steps=50,
        guidance=5.0,
        vram_hint_gb=17,  # 11.4 text encoder + 2.8 transformer + 0.5 VAE (fp32) + 2
        offload_vram_gb=13.4,  # the text encoder + 2
        cost_weight=8,
        frame_step=4,
        size_step=16,
        flow_shift=3.0,  # Wan's advice for 480p
        vae_dtype="float32",
        negative_prompt=WAN_NEGATIVE_PROMPT,
        description="Wan 2.1 1.3B: 480p clips up to 5 s, a good all-rounder",
        min_steps=20,
        max_steps=50,
    ),
    Preset(
        id="ltx",
        repo="Lightricks/LTX-Video-0.9.5",
        pipeline="LTXConditionPipeline",
        licence="LTX-Video 0.9.5 Open RAIL-M",
        licence_url="https://huggingface.co/Lightricks/LTX-Video/blob/main/ltx-video-2b-v0.9.5.license.txt",
        authors="Lightricks",
        default_frames=121,
        max_frames=257,
        fps=24,
        resolutions=MappingProxyType({"16:9": (832, 480), "9:16": (480, 832), "1:1": (640, 640)}),
        default_aspect="16:9",
        default_steps=50,
        guidance=3.0,
        vram_hint_gb=17.8,  # 9.5 text encoder + 3.8 transformer + 2.5 VAE (0.9.5's has 1.25 B parameters) + 2
        offload_vram_gb=11.5,  # the text encoder + 2
        cost_weight=1,
        frame_step=8,
        size_step=32,
        negative_prompt=LTX_NEGATIVE_PROMPT,
        # 0.9.1 and later decode with a timestep-aware VAE; frame_rate scales the rotary embedding to the fps.
        call_args=MappingProxyType({"frame_rate": 24, "decode_timestep": 0.03, "decode_noise_scale": 0.025}),
        description="LTX-Video 0.9.5: the fastest, 24 fps, up to 10 s",
        min_steps=20,
        max_steps=50,
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
        vram_hint_gb=15.8,  # 9.5 text encoder + 3.4 transformer + 0.9 VAE + 2
        offload_vram_gb=11.5,  # the text encoder + 2
        cost_weight=4,
        # The VAE compresses 4 frames to one, but decodes an even count of latent frames one frame short:
        # only 8k+1 frames come out as asked.
        frame_step=8,
        size_step=16,
        dtype="float16",  # trained in fp16; its authors recommend the precision it was trained in
        description="CogVideoX 2B: 720×480 landscape clips up to 6 s at 8 fps",
        min_steps=20,
        max_steps=50,
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
        resolutions=MappingProxyType({"16:9": (1280, 720), "9:16": (720, 1280)}),
        default_aspect="16:9",
        default_steps=50,
        guidance=5.0,
        vram_hint_gb=46.5,  # 11.4 text encoder + 28.6 transformer + 0.5 VAE (fp32) + 6
        offload_vram_gb=34.6,  # the transformer + 6
        cost_weight=189,
        frame_step=4,
        size_step=16,
        flow_shift=5.0,  # Wan's advice for 720p
        vae_dtype="float32",
        negative_prompt=WAN_NEGATIVE_PROMPT,
        description="Wan 2.1 14B: 720p, the most detail, and the slowest",
        min_steps=20,
        max_steps=50,
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
        offload_vram_gb=0.5,
        cost_weight=1,
        frame_step=4,
        size_step=16,
        dtype="float32",  # random weights gain nothing from half precision
        description="Random weights, for tests: coloured noise in about a second",
        min_steps=1,
        max_steps=8,
    ),
)

PRESETS: Mapping[str, Preset] = MappingProxyType({preset.id: preset for preset in _CATALOGUE})


def get_preset(preset_id: str, catalogue: Mapping[str, Preset] = PRESETS) -> Preset:
    try:
        return catalogue[preset_id]
    except KeyError:
        raise UnknownPresetError(preset_id, catalogue) from None


def _plain(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value


def _rebuilt(values: dict[str, Any]) -> Preset:
    frozen: dict[str, Any] = {
        name: MappingProxyType(value) if isinstance(value, dict) else value for name, value in values.items()
    }
    return Preset(**frozen)
