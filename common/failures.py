"""Why a job failed, as a code with plain-data details: never a sentence.

Codes are stored with the job and counted by the gallery and metrics; the bot's message catalogue
turns each into words in the member's language (`failure.<code>`), using the details it names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

Detail = str | int


class FailureCode(enum.StrEnum):
    # The member or a moderator stopped it.
    CANCELLED = "cancelled"
    # The render.
    OUT_OF_MEMORY = "out_of_memory"
    GPU_ERROR = "gpu_error"  # error; the worker restarts, as the GPU's state cannot be trusted after it
    RENDER_ERROR = "render_error"  # error: the exception, in one line (for operators)
    ENCODE_ERROR = "encode_error"  # error
    PRESET_NOT_SERVED = "preset_not_served"  # preset_id
    MODEL_LOAD_FAILED = "model_load_failed"  # preset_id, error: loading it in place of another preset's failed
    # The render worker.
    WORKER_CRASHED = "worker_crashed"  # exit_code
    WORKER_STALLED = "worker_stalled"
    WORKER_SHUT_DOWN = "worker_shut_down"
    WORKER_UNAVAILABLE = "worker_unavailable"  # error: why it could not start
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # attempts: its render stopped the worker (or the bot) that many times
    # The post.
    NO_FILE = "no_file"
    CHANNEL_UNREACHABLE = "channel_unreachable"
    UPLOAD_TOO_LARGE = "upload_too_large"
    UPLOAD_REFUSED = "upload_refused"  # status: Discord's HTTP status
    DELIVERY_GAVE_UP = "delivery_gave_up"
    # A failure recorded before codes existed; its old sentence is kept as `text`.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Failure:
    code: FailureCode
    details: dict[str, Detail] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return self.code is FailureCode.CANCELLED

    def __str__(self) -> str:
        """For logs: the code and its details, e.g. `worker_crashed (exit_code=-9)`."""
        if not self.details:
            return self.code.value
        return f"{self.code.value} ({', '.join(f'{key}={value}' for key, value in self.details.items())})"
