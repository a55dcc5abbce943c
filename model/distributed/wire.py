"""What the bot and its GPU workers say to each other over Redis: key names and JSON, never pickle.

A job is handed to arq under an id derived from the bot's job id and its attempt (`arq_job_id`), so handing the
same attempt over twice is one arq job, and an attempt the bot has given up on can never be taken for the current
one. Workers announce themselves under `worker_key` with a short expiry they keep renewing; their news goes to one
Redis stream, each entry naming the arq job it is about.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from common.failures import Failure, FailureCode
from model.contract import (
    ClipSpec,
    Credit,
    Done,
    Failed,
    Preview,
    Progress,
    RenderEvent,
    RenderSpec,
    Started,
    result_from_manifest,
    result_to_manifest,
    typed,
)

PREFIX = "promptreel"
EVENTS_STREAM = f"{PREFIX}:events"
EVENTS_KEPT = 10_000
"""The stream is trimmed to about this many entries: the newest are what a restarted bot may still need."""
WORKER_PATTERN = f"{PREFIX}:worker:*"
RENDER_FUNCTION = "render"
MEDIA_KINDS = ("mp4", "jpg")


def worker_key(worker_id: str) -> str:
    return f"{PREFIX}:worker:{worker_id}"


def queue_name(presets: frozenset[str]) -> str:
    """One arq queue per set of presets: every worker on it can take every job in it."""
    return f"{PREFIX}:queue:{','.join(sorted(presets))}"


def arq_job_id(job_id: int, attempt: int) -> str:
    return f"{PREFIX}:job:{job_id}:{attempt}"


def media_key(arq_id: str, kind: str) -> str:
    """Where a worker leaves a finished attempt's file (kind: mp4 or jpg) for the bot to take."""
    return f"{arq_id}:{kind}"


def dumps(data: Any) -> bytes:
    """arq's job and result serializer: JSON, so nothing on the network can run code when it is read."""
    return json.dumps(data, separators=(",", ":")).encode()


def loads(raw: bytes | str) -> Any:
    return json.loads(raw)


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What a live worker announces: the arq queue it takes jobs from, what it serves, what it renders now (arq
    ids: a job's attempt, so a worker still on an attempt the bot gave up on is not taken for its new one)."""

    worker_id: str
    queue: str
    presets: frozenset[str]
    jobs: frozenset[str]

    def to_data(self) -> dict[str, Any]:
        return {
            "worker_id": self.worker_id,
            "queue": self.queue,
            "presets": sorted(self.presets),
            "jobs": sorted(self.jobs),
        }

    @classmethod
    def from_data(cls, data: Any) -> WorkerInfo:
        if not isinstance(data, Mapping):
            raise ValueError("a worker's announcement is an object")
        return cls(
            worker_id=typed(data["worker_id"], str),
            queue=typed(data["queue"], str),
            presets=frozenset(typed(preset, str) for preset in typed(data["presets"], list)),
            jobs=frozenset(typed(arq_id, str) for arq_id in typed(data["jobs"], list)),
        )


def spec_to_data(spec: RenderSpec) -> dict[str, Any]:
    return asdict(spec)


def spec_from_data(data: Any) -> RenderSpec:
    if not isinstance(data, Mapping):
        raise ValueError("a render spec is an object")
    clip, credit = typed(data["clip"], dict), typed(data["credit"], dict)
    return RenderSpec(
        job_id=typed(data["job_id"], int),
        clip=ClipSpec(
            preset_id=typed(clip["preset_id"], str),
            prompt=typed(clip["prompt"], str),
            negative_prompt=typed(clip["negative_prompt"], str),
            seed=typed(clip["seed"], int),
            frames=typed(clip["frames"], int),
            width=typed(clip["width"], int),
            height=typed(clip["height"], int),
            fps=typed(clip["fps"], int),
            steps=typed(clip["steps"], int),
            guidance=float(typed(clip["guidance"], (int, float))),
        ),
        max_bytes=typed(data["max_bytes"], int),
        credit=Credit(
            requester_name=typed(credit["requester_name"], str),
            requester_id=typed(credit["requester_id"], int),
            model_id=typed(credit["model_id"], str),
            licence=typed(credit["licence"], str),
            authors=typed(credit["authors"], str),
        ),
        attempt=typed(data["attempt"], int),
    )


def event_to_data(event: RenderEvent) -> dict[str, Any]:
    match event:
        case Started(job_id, load_seconds):
            return {"kind": "started", "job_id": job_id, "load_seconds": load_seconds}
        case Progress(job_id, step, total, elapsed):
            return {"kind": "progress", "job_id": job_id, "step": step, "total": total, "elapsed": elapsed}
        case Preview(job_id, step, image):
            return {"kind": "preview", "job_id": job_id, "step": step, "image": base64.b64encode(image).decode()}
        case Done(job_id, result):
            return {"kind": "done", "job_id": job_id, "result": result_to_manifest(result)}
        case Failed(job_id, failure):
            return {"kind": "failed", "job_id": job_id, "code": failure.code.value, "details": failure.details}
    raise TypeError(f"not a render event: {event!r}")


def event_from_data(data: Any) -> RenderEvent:
    """The event `data` holds; ValueError (KeyError included) if it holds none."""
    if not isinstance(data, Mapping):
        raise ValueError("an event is an object")
    job_id = typed(data["job_id"], int)
    match data["kind"]:
        case "started":
            load_seconds = data.get("load_seconds")
            return Started(job_id, None if load_seconds is None else float(typed(load_seconds, (int, float))))
        case "progress":
            return Progress(
                job_id,
                typed(data["step"], int),
                typed(data["total"], int),
                float(typed(data["elapsed"], (int, float))),
            )
        case "preview":
            try:
                image = base64.b64decode(typed(data["image"], str), validate=True)
            except binascii.Error as error:
                raise ValueError(f"a preview's image is not base64 ({error})") from None
            return Preview(job_id, typed(data["step"], int), image)  # refuses an image too large to be one
        case "done":
            return Done(job_id, result_from_manifest(data["result"]))
        case "failed":
            details = typed(data["details"], dict)
            return Failed(
                job_id,
                Failure(
                    FailureCode(data["code"]),
                    {typed(key, str): typed(value, (str, int)) for key, value in details.items()},
                ),
            )
    raise ValueError(f"unknown event kind {data['kind']!r}")
