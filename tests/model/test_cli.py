"""`python -m model` as a person runs it: real subprocesses, warnings as errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import av
import pytest
import torch

from model.presets import PRESETS

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_model_cli(
    *args: str, cwd: Path = REPO_ROOT, settings: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-W", "error", "-m", "model", *args]
    # PYTHONPATH, not cwd, finds the package: generate writes relative to the caller's directory.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(settings or {})}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_presets_prints_the_catalogue_as_a_table() -> None:
    done = run_model_cli("presets")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == [
        "id",
        "model",
        "licence",
        "default",
        "clip",
        "fps",
        "steps",
        "VRAM",
        "credits",
    ]
    assert [row.split()[0] for row in rows] == list(PRESETS)
    wan = rows[0]
    for cell in (
        "(default)",
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "Apache-2.0",
        "81 frames 832x480 (5.1 s)",
        "50 (20-50)",  # the default steps, and the range a member may choose from
        "~17 GB",
    ):
        assert cell in wan
    assert wan.split()[-1] == "8"  # credits for the default clip


def test_presets_lists_the_presets_file_named_by_the_setting(tmp_path: Path) -> None:
    presets = tmp_path / "presets.toml"
    presets.write_text('[my-wan]\nbase = "wan-1.3b"\nrepo = "me/my-wan"\n')
    done = run_model_cli("presets", settings={"VIDEO_PRESETS_FILE": str(presets)})
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.split()[:2] == ["my-wan", "me/my-wan"]


@pytest.mark.parametrize(
    ("args", "settings", "complaint"),
    [
        (("presets", "--presets-file", "nowhere.json"), {}, "error: nowhere.json: cannot read it"),
        (("generate", "a fox", "--preset", "sora"), {}, "error: unknown preset 'sora'; choose one"),
        (
            ("generate", "a fox", "--offload", "disk"),
            {},
            "argument --offload: must be one of auto, none, model, group, sequential; got 'disk'",
        ),
        (
            ("generate", "a fox"),
            {"VIDEO_CACHE": "fast"},
            "argument --cache: must be off or first-block[:threshold]; got 'fast'",
        ),
        # The same prompt check as /video: nothing renders from a prompt the bot would refuse.
        (("generate", "   ", "--preset", "tiny"), {}, "error: the prompt is empty"),
        (("generate", "x" * 1001, "--preset", "tiny"), {}, "error: the prompt is longer than 1000 characters"),
        (("generate", "a fox\u202e", "--preset", "tiny"), {}, "error: the prompt contains control characters"),
    ],
)
def test_a_bad_option_or_setting_stops_with_one_clear_line(
    args: tuple[str, ...], settings: dict[str, str], complaint: str
) -> None:
    done = run_model_cli(*args, settings=settings)
    assert done.returncode == 2
    assert complaint in done.stderr.splitlines()[-1]


def test_settings_come_from_dotenv_like_the_bots(tmp_path: Path) -> None:
    """Run from a folder with a .env, as an operator who set the bot up would."""
    (tmp_path / ".env").write_text("VIDEO_MODEL=tiny\nVIDEO_CACHE=fast\n")
    done = run_model_cli("generate", "a fox", cwd=tmp_path)
    assert done.returncode == 2
    assert "argument --cache: must be off or first-block[:threshold]; got 'fast'" in done.stderr


def test_generate_renders_the_tiny_preset_to_a_credited_mp4(tmp_path: Path) -> None:
    """With an operator's presets file and speed options, as the bot's worker would run."""
    (tmp_path / "presets.toml").write_text("[tiny]\ndefault_steps = 3\n")
    done = run_model_cli(
        "generate",
        "a fox in the snow",
        "--preset",
        "tiny",
        "--seed",
        "1",
        "-o",
        "fox.mp4",
        "--presets-file",
        "presets.toml",
        "--cache",
        "first-block:0.2",
        cwd=tmp_path,
        settings={"VIDEO_VAE_TILING": "off"},
    )
    assert done.returncode == 0, done.stderr
    video = tmp_path / "fox.mp4"
    assert done.stdout.startswith(f"wrote {video.name} (") and "seed 1" in done.stdout
    assert "step 3/3" in done.stderr  # the progress bar, with the file's step count

    with av.open(str(video)) as container:
        frames = list(container.decode(video=0))
        tags = dict(container.metadata)
    tiny = PRESETS["tiny"]
    assert len(frames) == tiny.default_frames
    assert (frames[0].width, frames[0].height) == tiny.default_size
    assert tags["title"] == "a fox in the snow" and "AI-generated" in tags["comment"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without a CUDA GPU")
def test_a_real_preset_without_a_gpu_stops_at_once_with_advice(tmp_path: Path) -> None:
    done = run_model_cli("generate", "a fox", "--preset", "wan-1.3b", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "--device cpu" in message and "--preset tiny" in message
    assert list(tmp_path.iterdir()) == []


def test_an_aspect_the_preset_lacks_is_refused(tmp_path: Path) -> None:
    done = run_model_cli("generate", "a fox", "--preset", "cogvideox-2b", "--aspect", "9:16", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: cogvideox-2b offers aspects 16:9, not 9:16"
