"""What the job domain tells the outside world (the Discord layer implements it)."""

from __future__ import annotations

from typing import Protocol

from common.failures import Failure
from jobs.views import JobView
from model.contract import Preview, Progress


class DeliveryFailed(Exception):
    """The clip was rendered but could not be posted, and retrying cannot help: the job fails and is refunded."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure))
        self.failure = failure


class JobObserver(Protocol):
    async def on_started(self, job_id: int, load_seconds: float | None) -> None:
        """The job's render begins; load_seconds is how long loading its preset took first (None: it was loaded).

        Must return quickly: it is called on the event path of every job."""

    async def on_progress(self, job_id: int, progress: Progress) -> None:
        """Must return quickly: it is called on the event path of every job."""

    async def on_preview(self, job_id: int, preview: Preview) -> None:
        """A picture of the clip as it forms (a JPEG), now and then while it renders. Must return quickly."""

    async def deliver(self, job: JobView) -> int:
        """Post the finished clip and return the message id; idempotent for the same job.

        Raise DeliveryFailed when retrying cannot help; any other error is retried.
        """

    async def on_delivered(self, job: JobView) -> None:
        """The post is on record (job.message_id): tell the requester."""

    async def on_failed(self, job: JobView, refunded: int) -> None: ...
