"""`python -m model` as a person runs it: real subprocesses, warnings as errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import pytest
import torch

from model.presets import PRESETS

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_model_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-W", "error", "-m", "model", *args]
    # PYTHONPATH, not cwd, finds the package: generate writes relative to the caller's directory.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
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
        "cost",
    ]
    assert [row.split()[0] for row in rows] == list(PRESETS)
    wan = rows[0]
    for cell in (
        "(default)",
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "Apache-2.0",
        "81 frames 832x480 (5.1 s)",
        "x1",
    ):
        assert cell in wan


def test_generate_renders_the_tiny_preset_to_a_credited_mp4(tmp_path: Path) -> None:
    done = run_model_cli(
        "generate",
        "a fox in the snow",
        "--preset",
        "tiny",
        "--seed",
        "1",
        "-o",
        "fox.mp4",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    video = tmp_path / "fox.mp4"
    assert done.stdout.startswith(f"wrote {video.name} (") and "seed 1" in done.stdout
    assert "step 4/4" in done.stderr  # the progress bar

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
    done = run_model_cli(
        "generate", "a fox", "--preset", "cogvideox-2b", "--aspect", "9:16", cwd=tmp_path
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: cogvideox-2b offers aspects 16:9, not 9:16"
