"""Command line for the inference layer, without Discord.

    python -m model presets
    python -m model generate "a fox in the snow" --preset tiny --seed 1 -o fox.mp4
    python -m model selfcheck --preset wan-1.3b --size full --device cuda
    python -m model worker

`generate` renders with the same pipeline, speed options and encoder the bot's worker uses.
Options default to the bot's settings, read like the bot reads them (the environment over .env:
VIDEO_PRESETS_FILE, VIDEO_MODEL, VIDEO_DEVICE, VIDEO_OFFLOAD, VIDEO_VAE_TILING, VIDEO_CACHE,
VIDEO_COMPILE), so both see the same catalogue and set-up.

`worker` is a GPU worker for the distributed mode (model.distributed.worker).

`selfcheck` builds a preset's real architecture with random weights (no download) and prints, for each
speed option, its seconds per step and memory peaks as name=value lines (model.selfcheck).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import secrets
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from model.catalogue import PresetsFileError, load_catalogue
from model.contract import DEFAULT_UPLOAD_LIMIT_BYTES, Credit, RenderSpec
from model.presets import DEFAULT_PRESET_ID, Preset, UnknownPresetError, get_preset
from model.prompts import MAX_PROMPT_CHARS, PromptError, PromptProblem, clean_prompt
from model.speed import (
    DEVICE_SETTINGS,
    OFFLOADS,
    SpeedOptions,
    as_settings,
    parse_cache,
    parse_device,
    parse_offload,
    parse_switch,
)
from settings.environment import Environment

T = TypeVar("T")

PROGRESS_BAR_WIDTH = 30
PROMPT_PROBLEMS: dict[PromptProblem, str] = {
    "empty": "is empty: describe the video you want",
    "too_long": f"is longer than {MAX_PROMPT_CHARS} characters",
    "control_characters": "contains control characters or direction overrides: retype it as plain text",
    "not_text": "is not text",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser(Environment.read()).parse_args(argv)
    if args.command == "worker":
        from model.distributed.worker import main as serve_jobs  # arq and Redis: only this command needs them

        return serve_jobs()
    try:
        catalogue = load_catalogue(args.presets_file)
    except PresetsFileError as exc:
        return _fail(str(exc))
    if args.command == "presets":
        print(presets_table(catalogue.values()))
        return 0
    try:
        preset = get_preset(args.preset, catalogue)
    except UnknownPresetError as exc:
        return _fail(str(exc))
    if args.command == "selfcheck":
        return _selfcheck(preset, args)
    return _generate(preset, args)


def presets_table(presets: Iterable[Preset]) -> str:
    header = ("id", "model", "licence", "default clip", "fps", "steps", "VRAM", "credits")
    rows = [header, *map(_preset_row, presets)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _preset_row(preset: Preset) -> tuple[str, ...]:
    width, height = preset.default_size
    default = " (default)" if preset.id == DEFAULT_PRESET_ID else ""
    return (
        preset.id + default,
        preset.repo,
        preset.licence,
        f"{preset.default_frames} frames {width}x{height} ({preset.default_seconds:.1f} s)",
        str(preset.fps),
        f"{preset.default_steps} ({preset.min_steps}-{preset.max_steps})",  # the default, and a member's range
        f"~{preset.vram_hint_gb:g} GB",
        str(preset.cost_weight),
    )


def _parser(env: Environment) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model", description="Render text-to-video clips locally.")
    catalogue = argparse.ArgumentParser(add_help=False)
    catalogue.add_argument(
        "--presets-file",
        default=env.raw("VIDEO_PRESETS_FILE") or None,
        help="TOML or JSON file adding or overriding presets (default: $VIDEO_PRESETS_FILE)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "worker",
        help="render the bot's jobs from Redis on this machine's GPU (QUEUE_URL and the bot's VIDEO_* settings)",
    )
    commands.add_parser("presets", parents=[catalogue], help="list the models on offer")
    generate = commands.add_parser("generate", parents=[catalogue], help="render one clip to an MP4 file")
    generate.add_argument("prompt")
    generate.add_argument(
        "--preset",
        default=_default_preset(env),
        help=f"a preset id (`presets` lists them; default: $VIDEO_MODEL's first, else {DEFAULT_PRESET_ID})",
    )
    generate.add_argument("--seed", type=int, help="default: a random seed, printed with the result")
    generate.add_argument("-o", "--output", type=Path, help="default: <preset>-<seed>.mp4")
    generate.add_argument("--aspect", help="16:9, 9:16 or 1:1, as far as the preset offers it")
    generate.add_argument(
        "--max-mb",
        type=float,
        default=DEFAULT_UPLOAD_LIMIT_BYTES / 2**20,
        help="largest file to write, in MiB (default: Discord's upload limit for bots)",
    )
    _add_setting_options(generate, env)
    _add_selfcheck(commands, catalogue, env)
    return parser


def _add_selfcheck(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    catalogue: argparse.ArgumentParser,
    env: Environment,
) -> None:
    selfcheck = commands.add_parser(
        "selfcheck",
        parents=[catalogue],
        help="time and measure a preset's real architecture with random weights, per speed option (no download)",
    )
    selfcheck.add_argument(
        "--preset",
        default=_default_preset(env),
        help=f"a preset id (default: $VIDEO_MODEL's first, else {DEFAULT_PRESET_ID})",
    )
    selfcheck.add_argument(
        "--size",
        choices=("full", "small"),
        default="full",
        help="full: the real architecture; small: the same classes, tiny, for a CPU (default: full)",
    )
    selfcheck.add_argument(
        "--device",
        type=_argument_type(parse_device),
        default="auto",
        help=f"{', '.join(DEVICE_SETTINGS)} (default: auto; a full size needs a GPU unless cpu is named)",
    )
    selfcheck.add_argument("--steps", type=int, default=2, help="denoising steps per render (default: 2)")
    selfcheck.add_argument("--frames", type=int, help="frames per render (default: the preset's default clip's)")
    selfcheck.add_argument(
        "--only",
        type=lambda raw: [name.strip() for name in raw.split(",") if name.strip()],
        default=[],
        help="comma-separated options to run, e.g. offload_none,offload_model (default: all)",
    )


def _default_preset(env: Environment) -> str:
    """The bot's default preset: the first of VIDEO_MODEL's comma-separated list (checked when it is looked up)."""
    return env.raw("VIDEO_MODEL").split(",")[0].strip() or DEFAULT_PRESET_ID


def _add_setting_options(parser: argparse.ArgumentParser, env: Environment) -> None:
    defaults = {"VIDEO_DEVICE": "auto", **as_settings(SpeedOptions())}
    group = parser.add_argument_group("device, speed and memory (see the README)")
    options: tuple[tuple[str, str, Callable[[str], object], str], ...] = (
        ("--device", "VIDEO_DEVICE", parse_device, ", ".join(DEVICE_SETTINGS)),
        ("--offload", "VIDEO_OFFLOAD", parse_offload, ", ".join(OFFLOADS)),
        ("--vae-tiling", "VIDEO_VAE_TILING", parse_switch, "on or off"),
        ("--cache", "VIDEO_CACHE", parse_cache, "off or first-block[:threshold]"),
        ("--compile", "VIDEO_COMPILE", parse_switch, "on or off"),
    )
    for flag, setting, parse, choices in options:
        # argparse parses a string default too: a bad setting is reported like a bad flag.
        group.add_argument(
            flag,
            type=_argument_type(parse),
            default=env.raw(setting) or defaults[setting],
            help=f"{choices} (default: ${setting}, else {defaults[setting]})",
        )


def _argument_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    def parse_argument(raw: str) -> T:
        try:
            return parse(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse_argument


def _speed(args: argparse.Namespace) -> SpeedOptions:
    return SpeedOptions(offload=args.offload, vae_tiling=args.vae_tiling, cache=args.cache, compile=args.compile)


def _generate(preset: Preset, args: argparse.Namespace) -> int:
    aspect = args.aspect or preset.default_aspect
    if aspect not in preset.resolutions:
        return _fail(f"{preset.id} offers aspects {', '.join(preset.resolutions)}, not {aspect}")
    try:
        prompt = clean_prompt(args.prompt)
    except PromptError as error:
        return _fail(f"the prompt {PROMPT_PROBLEMS[error.problem]}")
    try:
        speed = _speed(args)
    except ValueError as error:  # options that cannot work together
        return _fail(str(error))

    # Imported only now: `presets` and argument mistakes answer at once, without loading torch.
    from model.encode import EncodeError
    from model.pipeline import (
        DeviceError,
        PresetLoadError,
        WeightsUnavailableError,
        load_pipeline,
        pick_device_for,
        pick_dtype,
        render,
    )
    from model.worker.runtime import encode_clip

    spec = _spec(preset, prompt, args, aspect)
    output: Path = args.output or Path(f"{preset.id}-{spec.clip.seed}.mp4")
    # The pipeline's own lines (a first download's progress, skipped options) go to stderr.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        device = pick_device_for(preset, args.device)
        print(f"loading {preset.id} on {device}…", file=sys.stderr)
        pipe = load_pipeline(preset, device, pick_dtype(preset, device), speed)
    except (DeviceError, WeightsUnavailableError, PresetLoadError) as exc:
        return _fail(str(exc))
    frames = render(pipe, preset, spec.clip, on_step=_show_progress, should_stop=lambda: False)
    try:
        video = encode_clip(frames, spec, output)
    except EncodeError as exc:
        return _fail(f"could not encode the video: {exc}", status=1)
    print(
        f"wrote {video.path} ({video.bytes / 1024:.0f} KiB, {video.frames} frames "
        f"{video.width}x{video.height} at {video.fps} fps, seed {spec.clip.seed})"
    )
    return 0


def _selfcheck(preset: Preset, args: argparse.Namespace) -> int:
    # Imported only now, as for generate: argument mistakes answer at once, without loading torch.
    from model.architectures import ArchitectureError
    from model.pipeline import DeviceError
    from model.selfcheck import SelfcheckError, selfcheck

    # The figures go to stdout; the pipeline's own lines (chosen dtype, failures) to stderr.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return selfcheck(
            preset, size=args.size, device=args.device, steps=args.steps, frames=args.frames, only=args.only
        )
    except (SelfcheckError, ArchitectureError, DeviceError) as exc:
        return _fail(str(exc))


def _spec(preset: Preset, prompt: str, args: argparse.Namespace, aspect: str) -> RenderSpec:
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    return RenderSpec(
        job_id=0,
        clip=preset.default_clip(prompt, seed=seed, aspect=aspect),
        max_bytes=int(args.max_mb * 2**20),
        credit=Credit(
            requester_name=_local_user(),
            requester_id=0,
            model_id=preset.repo,
            licence=preset.licence,
            authors=preset.authors,
        ),
    )


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        return "local user"


def _show_progress(step: int, total: int, elapsed: float) -> None:
    filled = PROGRESS_BAR_WIDTH * step // total
    bar = "#" * filled + "." * (PROGRESS_BAR_WIDTH - filled)
    end = "\n" if step == total else ""
    print(
        f"\rrendering [{bar}] step {step}/{total}, {elapsed:.1f} s",
        end=end,
        file=sys.stderr,
        flush=True,
    )


def _fail(message: str, *, status: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status
