"""model.architectures and `python -m model selfcheck` on a CPU: every pipeline class at the small size
builds and renders through model.pipeline, and the full-size configs are the models' own (their parameter
counts, taken on the meta device at no memory cost)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from model import cli
from model.architectures import (
    COGVIDEOX_2B,
    FULL,
    LTX_0_9_0,
    LTX_0_9_5,
    PIPELINE_FAMILIES,
    SMALL,
    WAN_1_3B,
    WAN_14B,
    Architecture,
    ArchitectureError,
    architecture_for,
    build_pipeline,
    count_parameters,
)
from model.contract import ClipSpec
from model.pipeline import prepare_pipeline, render
from model.presets import PRESETS, TINY_PRESET_ID, Preset
from model.selfcheck import OPTION_NAMES, OPTIONS, SelfcheckError, run, selfcheck
from model.speed import SpeedOptions
from model.tiny import build_tiny_pipeline

REPO_ROOT = Path(__file__).resolve().parents[2]
CPU = torch.device("cpu")
ONE_OF_EACH_FAMILY = ("wan-1.3b", "ltx", "cogvideox-2b")
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without a CUDA GPU")

# LTXConditionPipeline hands numpy a torch tensor (np.array(timesteps)); this torch's Tensor.__array__ takes
# no `copy` keyword, which numpy 2 warns about. Not ours to fix, and harmless: the values are the same.
NUMPY_COPY_WARNING = "__array__ implementation doesn't accept a copy keyword"
ignore_numpy_copy_warning = pytest.mark.filterwarnings(f"ignore:{NUMPY_COPY_WARNING}:DeprecationWarning")


def small_clip(preset: Preset, steps: int = 2) -> ClipSpec:
    """Three latent frames at 64x64: seconds on a CPU, whatever the preset's own default size. (An odd count:
    CogVideoX's VAE decodes an even count of latent frames into 4k frames, not 4k+1.)"""
    return dataclasses.replace(
        preset.default_clip("a red fox in the snow"),
        frames=1 + 2 * preset.frame_step,
        width=64,
        height=64,
        steps=steps,
    )


def figures(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


# The full size: the configs are the repos' own.


@pytest.mark.parametrize(
    ("architecture", "billions"),
    [
        (WAN_1_3B, {"text_encoder": 5.681, "transformer": 1.419, "vae": 0.127}),
        (WAN_14B, {"text_encoder": 5.681, "transformer": 14.288, "vae": 0.127}),
        (LTX_0_9_0, {"text_encoder": 4.762, "transformer": 1.923, "vae": 0.419}),
        # 0.9.5's VAE: 1.247 B parameters, 2.49 GB in bf16, the size of the VAE file LTX-Video ships since.
        (LTX_0_9_5, {"text_encoder": 4.762, "transformer": 1.923, "vae": 1.247}),
        (COGVIDEOX_2B, {"text_encoder": 4.762, "transformer": 1.694, "vae": 0.216}),
    ],
    ids=lambda value: value.name if isinstance(value, Architecture) else "",
)
def test_full_configs_have_the_documented_parameter_counts(
    architecture: Architecture, billions: Mapping[str, float]
) -> None:
    counts = count_parameters(architecture)  # on the meta device: no memory
    assert {name: round(count / 1e9, 3) for name, count in counts.items()} == billions


@pytest.mark.parametrize("preset_id", [preset_id for preset_id in PRESETS if preset_id != TINY_PRESET_ID])
def test_every_built_in_preset_has_its_full_architecture(preset_id: str) -> None:
    preset = PRESETS[preset_id]
    architecture = architecture_for(preset, "full")
    assert architecture is FULL[preset.repo]
    assert architecture.family == PIPELINE_FAMILIES[preset.pipeline]


def test_an_unknown_repo_has_no_full_size_but_a_small_one() -> None:
    fine_tune = dataclasses.replace(PRESETS["wan-1.3b"], id="my-wan", repo="someone/Wan2.1-finetune")
    with pytest.raises(ArchitectureError, match=re.escape("someone/Wan2.1-finetune")):
        architecture_for(fine_tune, "full")
    assert architecture_for(fine_tune, "small") is SMALL["wan"]


# The small size: every pipeline class builds, and renders through model.pipeline.


@pytest.mark.parametrize("preset_id", ONE_OF_EACH_FAMILY)
@ignore_numpy_copy_warning
def test_the_small_architecture_builds_and_renders(preset_id: str) -> None:
    preset = PRESETS[preset_id]
    pipe = build_pipeline(preset, "small", CPU, torch.float32)
    assert type(pipe).__name__ == preset.pipeline
    assert len(pipe.tokenizer) == pipe.text_encoder.config.vocab_size
    assert {parameter.dtype for parameter in pipe.transformer.parameters()} == {torch.float32}
    assert all(parameter.device == CPU and not parameter.requires_grad for parameter in pipe.vae.parameters())

    pipe = prepare_pipeline(pipe, preset, CPU, SpeedOptions(offload="none"))
    steps: list[int] = []
    clip = small_clip(preset)
    frames = render(pipe, preset, clip, on_step=lambda step, *_: steps.append(step), should_stop=lambda: False)
    assert frames.shape == (clip.frames, clip.height, clip.width, 3)
    assert np.isfinite(frames).all() and frames.min() >= 0 and frames.max() <= 1
    assert steps == [1, 2]


def test_weights_come_in_the_dtype_asked_with_from_pretrained_s_float32_layers() -> None:
    # Built on the meta device's heels: half precision straight away, never a float32 copy.
    pipe = build_pipeline(PRESETS["wan-1.3b"], "small", CPU, torch.bfloat16, torch.float32)
    transformer = dict(pipe.transformer.named_parameters())
    assert transformer["blocks.0.attn1.to_q.weight"].dtype == torch.bfloat16
    assert transformer["scale_shift_table"].dtype == torch.float32  # WanTransformer3DModel keeps it in float32
    assert {parameter.dtype for parameter in pipe.vae.parameters()} == {torch.float32}
    assert pipe.text_encoder.shared.weight is pipe.text_encoder.encoder.embed_tokens.weight  # still tied

    fp16 = build_pipeline(PRESETS["cogvideox-2b"], "small", CPU, torch.float16)
    text_encoder = dict(fp16.text_encoder.named_parameters())
    assert text_encoder["encoder.block.0.layer.1.DenseReluDense.wo.weight"].dtype == torch.float32  # T5 under fp16
    assert text_encoder["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"].dtype == torch.float16


def test_every_build_draws_the_same_weights() -> None:
    first, again = (build_pipeline(PRESETS["ltx"], "small", CPU, torch.float32) for _ in range(2))
    for (name, one), (_, other) in zip(
        first.transformer.state_dict().items(), again.transformer.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(one, other, msg=name)


# The selfcheck itself.


@pytest.mark.parametrize("preset_id", ONE_OF_EACH_FAMILY)
@ignore_numpy_copy_warning
def test_run_prints_each_option_s_figures(preset_id: str) -> None:
    preset = PRESETS[preset_id]
    lines: list[str] = []
    options = [option for option in OPTIONS if option.name in ("offload_none", "offload_model")]
    status = run(preset, "small", CPU, small_clip(preset), options, out=lines.append)
    assert status == 0
    printed = figures("\n".join(lines))
    assert printed["device"] == "cpu" and printed["gpu_name"] == "none" and printed["dtype"] == "float32"
    assert (
        int(printed["transformer_params"]) == count_parameters(SMALL[PIPELINE_FAMILIES[preset.pipeline]])["transformer"]
    )
    assert float(printed[f"{preset_id}.offload_none.seconds_per_step"]) > 0
    assert float(printed[f"{preset_id}.offload_none.host_rss_gib"]) > 0
    assert printed[f"{preset_id}.offload_none.peak_gpu_gib"] == "0.00"
    assert printed[f"{preset_id}.offload_model.skipped"].startswith("offloading parks weights in CPU memory")


def test_a_failing_option_prints_its_error_and_the_next_one_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import model.selfcheck

    def prepare_or_run_out(pipe: Any, preset: Preset, device: torch.device, speed: SpeedOptions) -> Any:
        if speed.vae_tiling:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return prepare_pipeline(pipe, preset, device, speed)

    monkeypatch.setattr(model.selfcheck, "prepare_pipeline", prepare_or_run_out)
    tiny = PRESETS[TINY_PRESET_ID]
    lines: list[str] = []
    options = [option for option in OPTIONS if option.name in ("vae_tiling", "first_block_cache")]
    assert run(tiny, "small", CPU, small_clip(tiny, steps=1), options, out=lines.append) == 1
    printed = figures("\n".join(lines))
    assert printed["tiny.vae_tiling.error"] == "OutOfMemoryError"
    assert float(printed["tiny.first_block_cache.render_seconds"]) > 0


def test_tiny_at_full_size_is_tiny_itself() -> None:
    tiny = PRESETS[TINY_PRESET_ID]
    lines: list[str] = []
    options = [option for option in OPTIONS if option.name == "offload_none"]
    assert run(tiny, "full", CPU, small_clip(tiny, steps=1), options, out=lines.append) == 0
    tiny_transformer = build_tiny_pipeline().transformer
    assert figures("\n".join(lines))["transformer_params"] == str(sum(p.numel() for p in tiny_transformer.parameters()))


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"only": ["offload_everything"]}, "unknown option offload_everything"),
        ({"frames": 10, "size": "small"}, "4k+1 frames up to 81, not 10"),
        ({"steps": 0, "size": "small"}, "steps must be at least 1"),
    ],
)
def test_arguments_it_cannot_honour_are_refused_before_anything_is_built(
    arguments: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SelfcheckError, match=re.escape(problem)):
        selfcheck(PRESETS["wan-1.3b"], out=pytest.fail, **arguments)


@no_gpu
def test_a_full_size_without_a_gpu_needs_the_cpu_named() -> None:
    with pytest.raises(SelfcheckError, match="no CUDA GPU found for a full-size wan-14b; use --size small"):
        selfcheck(PRESETS["wan-14b"], out=pytest.fail)


def run_selfcheck(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-W", "error", "-m", "model", "selfcheck", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_command_prints_a_line_per_figure_and_skips_what_a_cpu_cannot_check() -> None:
    done = run_selfcheck("--preset", "tiny", "--size", "small", "--device", "cpu", "--steps", "1")
    assert done.returncode == 0, done.stderr
    printed = figures(done.stdout)
    assert all("=" in line for line in done.stdout.splitlines())  # figures only: the log goes to stderr
    assert printed["device"] == "cpu" and printed["gpu_name"] == "none" and printed["dtype"] == "float32"
    assert (printed["preset"], printed["size"], printed["steps"]) == ("tiny", "small", "1")
    for option in OPTION_NAMES:
        ran = f"tiny.{option}.seconds_per_step" in printed
        assert ran != (f"tiny.{option}.skipped" in printed), option
        assert ran == (option in ("offload_none", "vae_tiling", "first_block_cache")), option
    assert float(printed["tiny.first_block_cache.host_peak_rss_gib"]) > 0


@ignore_numpy_copy_warning
def test_a_real_preset_is_checked_at_its_default_size() -> None:
    lines: list[str] = []
    status = selfcheck(
        PRESETS["ltx"], size="small", device="cpu", steps=1, frames=1, only=["offload_none"], out=lines.append
    )
    assert status == 0
    printed = figures("\n".join(lines))
    assert (printed["width"], printed["height"], printed["frames"]) == ("832", "480", "1")
    assert float(printed["ltx.offload_none.seconds_per_step"]) > 0
    assert not any(name.startswith("ltx.offload_model") for name in printed)


def test_the_command_refuses_a_repo_it_does_not_know(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    presets = tmp_path / "presets.toml"
    presets.write_text('[my-wan]\nbase = "wan-1.3b"\nrepo = "someone/Wan2.1-finetune"\n')
    assert cli.main(["selfcheck", "--preset", "my-wan", "--presets-file", str(presets), "--device", "cpu"]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "error: no full-size architecture is known for someone/Wan2.1-finetune" in printed.err
