"""What does rendering through the worker process cost, against rendering in this process?

    .venv/bin/python benchmarks/worker_overhead.py [--jobs 6] [--rounds 4]

The tiny preset at a few sizes. For each size, after one warm-up render on each side, ROUNDS
times: a batch of JOBS clips through the worker, the same JOBS specs directly, then JOBS pairs of
one job alone through the worker and one direct render:

- direct: model.pipeline.render on a pipeline loaded in this process, timed around the call
  (text encoding, every denoising step, VAE decode, frames back as numpy), one after another.
- worker: the batch submitted all at once to a LocalWorkerBackend (the real spawned worker), so
  the jobs queue back to back as a busy bot's do. Each job's render_seconds is what the worker
  measures around the very same render call, which there also sends a progress event to this
  process after every step and checks for a cancel, while the previous clip is encoded on the
  worker's encoder thread. On a CPU that encode competes with the render for cores, which a GPU
  render does not feel; "alone" jobs show the worker without it.

ratio = the median over rounds of (median worker render_seconds / median direct seconds), encoding
excluded on both sides (target at most 1.05); ratio_alone = the median of the pairs' ratios.
Renders this short (0.1-0.5 s) vary by 10% from one to the next on a shared machine, hence the
interleaving and medians. Both sides use the same speed options and torch thread count: on a CPU
the worker leaves one core to the bot's event loop, so the direct renders get that many too.

idle gap: how long the worker sits between one job's render call returning and the next one's
starting, while the next job is already queued (target under 50 ms): the arrival of job k+1's
Started event minus the arrival of job k's Started event, minus job k's render_seconds. Both
events cross the same queue, so the transport delay cancels out.

The last lines are ``name=value`` figures.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers.pipelines.pipeline_utils import DiffusionPipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.contract import Done, Failed, RenderSpec, Started
from model.local_backend import LocalWorkerBackend, WorkerConfig
from model.pipeline import load_pipeline, pick_device, pick_dtype, render
from model.worker.runtime import threads_for_cpu_rendering
from tests.model.specs import TINY, tiny_spec

SIZES = ((64, 64, 9), (112, 64, 17), (112, 64, 33))
"""(width, height, frames)"""
RATIO_TARGET = 1.05
IDLE_GAP_TARGET_MS = 50.0


@dataclass(frozen=True, slots=True)
class SizeFigures:
    direct_seconds: list[float]
    worker_seconds: list[float]
    """Back to back."""
    round_ratios: list[float]
    """Per round: median back-to-back worker seconds / median direct seconds of the same specs."""
    paired_ratios: list[float]
    """One job alone through the worker / the direct render right after it."""
    idle_gaps: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.round_ratios)

    @property
    def ratio_alone(self) -> float:
        return statistics.median(self.paired_ratios)


def spec(job_id: int, width: int, height: int, frames: int) -> RenderSpec:
    return tiny_spec(job_id, width=width, height=height, frames=frames)


def direct_seconds(pipe: DiffusionPipeline, specs: list[RenderSpec]) -> list[float]:
    def once(job: RenderSpec) -> float:
        started = time.monotonic()
        render(pipe, TINY, job.clip, on_step=lambda *_: None, should_stop=lambda: False)
        return time.monotonic() - started

    return [once(job) for job in specs]


async def through_worker(backend: LocalWorkerBackend, specs: list[RenderSpec]) -> tuple[list[float], list[float]]:
    """(render_seconds, idle gaps) of specs submitted all at once."""
    started_at, render_seconds = await _finish(backend, specs)
    order = [job.job_id for job in specs]
    gaps = [
        started_at[after] - started_at[before] - render_seconds[before] for before, after in itertools.pairwise(order)
    ]
    return [render_seconds[job_id] for job_id in order], gaps


async def _finish(backend: LocalWorkerBackend, jobs: list[RenderSpec]) -> tuple[dict[int, float], dict[int, float]]:
    """Submit every job at once; (Started arrival times, render_seconds) by job id."""
    for job in jobs:
        await backend.submit(job)
    started_at: dict[int, float] = {}
    render_seconds: dict[int, float] = {}
    unfinished = {job.job_id for job in jobs}
    async for event in backend.events():
        if isinstance(event, Started):
            started_at[event.job_id] = time.monotonic()
        elif isinstance(event, Done):
            render_seconds[event.job_id] = event.result.render_seconds
            unfinished.discard(event.job_id)
        elif isinstance(event, Failed):
            raise RuntimeError(f"job {event.job_id} failed: {event.failure}")
        if not unfinished:
            break
    return started_at, render_seconds


async def measure_size(
    backend: LocalWorkerBackend,
    pipe: DiffusionPipeline,
    size: tuple[int, int, int],
    jobs: int,
    rounds: int,
    ids: Iterator[int],
) -> SizeFigures:
    """Alternate worker and direct renders, so drift in the machine's speed hits both alike."""
    warm_up = spec(next(ids), *size)
    await _finish(backend, [warm_up])
    direct_seconds(pipe, [warm_up])
    figures = SizeFigures([], [], [], [], [])
    for _ in range(rounds):
        specs = [spec(next(ids), *size) for _ in range(jobs)]
        worker_seconds, gaps = await through_worker(backend, specs)
        direct = direct_seconds(pipe, specs)
        figures.worker_seconds.extend(worker_seconds)
        figures.direct_seconds.extend(direct)
        figures.idle_gaps.extend(gaps)
        figures.round_ratios.append(statistics.median(worker_seconds) / statistics.median(direct))
        for _ in range(jobs):
            alone = spec(next(ids), *size)
            (worker,), _ = await through_worker(backend, [alone])
            figures.paired_ratios.append(worker / direct_seconds(pipe, [alone])[0])
    return figures


async def main(jobs: int, rounds: int) -> None:
    ids = itertools.count(1)
    device = pick_device("auto")
    if device.type == "cpu":  # as the worker does
        torch.set_num_threads(threads_for_cpu_rendering())
    pipe = load_pipeline(TINY, device, pick_dtype(TINY, device))
    figures: dict[str, str] = {}
    ratios: list[float] = []
    gaps: list[float] = []
    with tempfile.TemporaryDirectory() as data_dir:
        backend = LocalWorkerBackend(WorkerConfig((TINY,), data_dir, device="auto"), capacity=jobs)
        await backend.start()
        try:
            for size in SIZES:
                measured = await measure_size(backend, pipe, size, jobs, rounds, ids)
                ratios.append(measured.ratio)
                gaps.extend(measured.idle_gaps)
                name = "x".join(map(str, size))
                print(
                    f"{name:10s} direct {statistics.median(measured.direct_seconds) * 1000:6.1f} ms"
                    f"  worker {statistics.median(measured.worker_seconds) * 1000:6.1f} ms"
                    f"  ratio {measured.ratio:.3f} (alone {measured.ratio_alone:.3f})"
                    f"  idle gap median {statistics.median(measured.idle_gaps) * 1000:4.1f} ms"
                )
                figures[f"ratio_{name}"] = f"{measured.ratio:.3f}"
                figures[f"ratio_alone_{name}"] = f"{measured.ratio_alone:.3f}"
        finally:
            await backend.close()
    figures["ratio_max"] = f"{max(ratios):.3f}"
    figures["ratio_target"] = f"{RATIO_TARGET}"
    figures["idle_gap_ms_median"] = f"{statistics.median(gaps) * 1000:.1f}"
    figures["idle_gap_ms_max"] = f"{max(gaps) * 1000:.1f}"
    figures["idle_gap_ms_target"] = f"{IDLE_GAP_TARGET_MS:g}"
    figures["device"] = device.type
    figures["torch_threads"] = str(torch.get_num_threads())
    for key, value in figures.items():
        print(f"{key}={value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=6, help="clips per batch, back to back")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per size")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.jobs, arguments.rounds))
