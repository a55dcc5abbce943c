"""The set-up: `python -m bot --check` before the first start, and scripts/torch-index's choice of torch build."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "MTIz.check-token-that-must-stay-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": TOKEN,
        # Nothing listens on the discard port: the check must not need Discord.
        "DISCORD_API_URL": "http://127.0.0.1:9/api/v10",
        "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db' / 'bot.db'}",
        "DATA_DIR": str(tmp_path / "data"),
        "VIDEO_MODEL": "tiny",
        "VIDEO_DEVICE": "cpu",
        "GALLERY_PORT": "0",
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "--check"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_reports_each_item_then_ok(tmp_path: Path) -> None:
    port = free_port()
    run = check(tmp_path, GALLERY_PORT=str(port))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "settings: OK",
        f"database: sqlite+aiosqlite:///{tmp_path / 'db' / 'bot.db'} at migration 0011",
        f"DATA_DIR: {tmp_path / 'data'} is writable",
        "preset: tiny (tiny-wan, random weights built in code): ~0.5 GB of GPU memory, "
        "~0.5 GB with VIDEO_OFFLOAD=model",
        "queue: a local render worker process (QUEUE_URL unset)",
        "device: cpu (VIDEO_DEVICE=cpu)",
        f"web gallery: can listen on http://127.0.0.1:{port}; its links point to http://127.0.0.1:{port}",
        "OK",
    ]
    assert run.stderr == ""
    assert (tmp_path / "db" / "bot.db").is_file()  # opened and migrated
    assert TOKEN not in run.stdout


def test_check_says_where_the_gallery_is_and_when_its_port_is_taken(tmp_path: Path) -> None:
    off = check(tmp_path, GALLERY_PUBLIC_URL="https://gallery.example.org")
    assert off.returncode == 0, off.stderr
    assert (
        "web gallery: not served by the bot (GALLERY_PORT=0); its links point to https://gallery.example.org"
        in off.stdout.splitlines()
    )
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        run = check(tmp_path, GALLERY_PORT=str(port))
    assert run.returncode == 2
    assert run.stderr.startswith(
        f"error: GALLERY_HOST and GALLERY_PORT: the web gallery cannot listen on 127.0.0.1:{port}: "
    )
    assert run.stderr.count("\n") == 1


def test_check_probes_the_device_in_a_process_of_its_own(tmp_path: Path) -> None:
    run = check(tmp_path, VIDEO_DEVICE="auto")
    assert run.returncode == 0, run.stderr
    [device] = [line for line in run.stdout.splitlines() if line.startswith("device: ")]
    assert device in ("device: cpu (VIDEO_DEVICE=auto)",) or device.startswith("device: cuda (")


def test_check_names_every_problem_on_a_line_of_its_own_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    run = check(
        tmp_path,
        DATA_DIR=str(tmp_path / "a-file" / "data"),
        DATABASE_URL="postgresql+nosuchdriver://bot:s3cret%40pw@127.0.0.1:9/promptreel",
    )
    assert run.returncode == 2
    problems = run.stderr.splitlines()
    assert len(problems) == 2, run.stderr
    assert problems[0].startswith("error: DATABASE_URL postgresql+nosuchdriver://bot:***@127.0.0.1:9/promptreel ")
    assert problems[1].startswith(f"error: DATA_DIR {tmp_path / 'a-file' / 'data'} is not writable")
    assert "OK" not in run.stdout.splitlines()
    output = run.stdout + run.stderr
    assert "s3cret" not in output and TOKEN not in output and "Traceback" not in output


@pytest.mark.skipif(Path("/proc/driver/nvidia/version").exists(), reason="this machine has an NVIDIA driver")
def test_check_refuses_cuda_where_torch_sees_none(tmp_path: Path) -> None:
    run = check(tmp_path, VIDEO_DEVICE="cuda")
    assert run.returncode == 2
    assert run.stderr == "error: VIDEO_DEVICE is cuda but PyTorch sees no CUDA GPU\n"


def test_check_stops_on_a_bad_setting_like_the_bot(tmp_path: Path) -> None:
    run = check(tmp_path, QUEUE_MAX_ATTEMPTS="many")
    assert run.returncode == 2
    assert run.stderr.startswith("error: QUEUE_MAX_ATTEMPTS") and run.stderr.count("\n") == 1
    assert not (tmp_path / "db").exists()


CPU_TORCH = "torch --index-url https://download.pytorch.org/whl/cpu\n"


def torch_index(tmp_path: Path, nvidia_smi: str | None) -> str:
    """scripts/torch-index with a PATH that holds only a stub nvidia-smi (exiting with that script), if any."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if nvidia_smi is not None:
        stub = bin_dir / "nvidia-smi"
        stub.write_text(f"#!/bin/sh\n{nvidia_smi}\n")
        stub.chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    run = subprocess.run(
        [bash, str(ROOT / "scripts" / "torch-index")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return run.stdout


def test_torch_index_leaves_a_machine_with_an_nvidia_gpu_to_pypi(tmp_path: Path) -> None:
    assert torch_index(tmp_path, "echo 'GPU 0: NVIDIA H200 (UUID: GPU-1)'") == ""


@pytest.mark.skipif(Path("/proc/driver/nvidia/version").exists(), reason="this machine has an NVIDIA driver")
@pytest.mark.parametrize("nvidia_smi", [None, "echo 'NVIDIA-SMI has failed' >&2; exit 9"])
def test_torch_index_picks_the_cpu_build_without_a_working_nvidia_gpu(tmp_path: Path, nvidia_smi: str | None) -> None:
    assert torch_index(tmp_path, nvidia_smi) == CPU_TORCH
