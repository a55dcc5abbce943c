"""Tells members how their jobs are doing and posts the finished clips (the jobs' JobObserver).

The requester's status lives in the deferred, ephemeral interaction response and is
edited as the job moves. The clip itself is a normal channel message, so it does not
depend on the interaction token, which expires after 15 minutes: no status is edited
after StatusTiming.edits_for, and the status says so, pointing to /jobs.

While a job waits, one task for all waiting jobs brings their position and estimated
start and finish up to date every StatusTiming.refresh_every seconds, editing only a
status whose words changed, until the job starts. While the video model loads (after the bot starts), a waiting
status says its rendering starts once the model is ready instead of giving an estimate.

While it renders, the status shows the clip's middle frame as it forms (a Preview from the backend, attached as an
image under a line saying what it is), replaced at most every PREVIEW_EDIT_INTERVAL seconds: a preview that arrives
sooner waits, and goes out with an edit of its own once due if no other edit took it; the final status takes it away.
Only attachments carry it: the status's embeds are left as they are.

The post carries its row of buttons (Star, Reroll, Details, Delete: bot.clip_buttons); once it is on record, the
clip is cross-posted to its server's gallery channel, if one is set (bot.cross_posts).
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
import discord

from bot.cancelling import cancel_view
from bot.clip_buttons import post_view
from bot.cross_posts import CrossPoster
from bot.embeds import credit_embed
from bot.formatting import progress_bar, seconds
from bot.mentions import NOBODY, only
from bot.messages import text
from bot.refusals import failure_text
from common.failures import Failure, FailureCode
from common.states import JobState
from jobs.estimates import Estimate, JobEstimates
from jobs.media import MediaFiles
from jobs.observer import DeliveryFailed
from jobs.views import JobView, Ticket
from model.contract import Preview, Progress

log = logging.getLogger(__name__)

ESTIMATE_SLACK = timedelta(seconds=60)
"""A waiting job's status is edited again when its estimate moves by this much, or its place in line changes."""
PROGRESS_EDIT_INTERVAL = 3.0  # seconds; Discord rate-limits edits and members don't need more
PREVIEW_EDIT_INTERVAL = 10.0
"""Seconds between two preview images in a status (each edit that carries one uploads it)."""
PREVIEW_FILENAME = "preview.jpg"


@dataclass(frozen=True, slots=True)
class StatusTiming:
    refresh_every: float = 15.0
    """Seconds between two refreshes of a waiting job's status."""
    edits_for: timedelta = timedelta(minutes=14)
    """How long after the command its status is edited: the interaction token lasts 15 minutes, and the minute
    left is the margin for a clock that differs from Discord's and for an edit still on its way."""


DEFAULT_STATUS_TIMING = StatusTiming()


@dataclass
class _Status:
    """The requester's ephemeral status message for one job, edited latest-value-wins."""

    interaction: discord.Interaction
    locale: str
    view: discord.ui.View  # the Cancel button, on every edit until the last
    ticket: Ticket  # what the queued text says besides the position and the estimate
    edits_until: datetime
    waiting: bool = True  # until the render shows (its model's load or its first step): the refresher's to edit
    shown: str | None = None  # the words last written
    estimate: Estimate | None = None  # the estimate they gave
    shown_at: float = float("-inf")  # when (time.monotonic)
    last_progress: float = float("-inf")  # the first progress update always shows
    pending: str | None = None
    preview: Preview | None = None  # the newest preview not shown yet
    preview_shown_at: float = float("-inf")  # when the status last got one (time.monotonic)
    preview_step: int | None = None  # the step of the picture the status shows; None: it shows none
    preview_timer: asyncio.TimerHandle | None = None  # set while the waiting preview waits to be due
    writer: asyncio.Task[None] | None = None
    finished: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _close_enough(estimate: Estimate, shown: Estimate) -> bool:
    """Whether the status already says as much: the same place in line, and times within ESTIMATE_SLACK (a member
    reads them as "in 4 minutes"; a render that overruns moves them a little at every refresh)."""
    if estimate.position != shown.position:
        return False
    pairs = ((estimate.starts_at, shown.starts_at), (estimate.finishes_at, shown.finishes_at))
    return all(
        (new is None) == (old is None) and (new is None or old is None or abs(new - old) < ESTIMATE_SLACK)
        for new, old in pairs
    )


class DiscordPublisher:
    def __init__(
        self,
        client: discord.Client,
        media: MediaFiles,
        estimates: JobEstimates,
        cross_poster: CrossPoster,
        timing: StatusTiming = DEFAULT_STATUS_TIMING,
        *,
        model_loading: Callable[[], bool] = lambda: False,
    ) -> None:
        self.client = client
        self.model_loading = model_loading
        """Whether the video model is still loading: a waiting job's status then says so instead of an estimate."""
        self.media = media
        self.estimates = estimates
        self.cross_poster = cross_poster
        self.timing = timing
        self._statuses: dict[int, _Status] = {}
        self._refresher: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start keeping the statuses of waiting jobs current."""
        self._refresher = asyncio.create_task(self._refresh_waiting_forever())

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)

    # -- the requester's status -----------------------------------------------------

    async def acknowledge(self, interaction: discord.Interaction, ticket: Ticket) -> None:
        job, locale = ticket.job, str(interaction.locale)
        edits_until = interaction.created_at + self.timing.edits_for
        status = _Status(interaction, locale, cancel_view(job.id, locale), ticket, edits_until)
        self._statuses[job.id] = status
        estimate = await self._first_estimate(ticket)
        queued, shown = self._queued_text(status, estimate)
        async with status.lock:
            # Only while it waits: a fast job's progress may already have replaced it.
            if status.waiting and not status.finished:
                await self._edit(status, queued, status.view)
                status.estimate = shown

    async def _first_estimate(self, ticket: Ticket) -> Estimate:
        """The ticket's position, "estimating", when the job left the queue already or the read failed: a courtesy,
        since the job is queued and charged already, so a failed read costs the first answer its estimate only."""
        try:
            estimates = await self.estimates.of_waiting([ticket.job.id])
        except Exception:
            log.exception("could not estimate when job %s starts", ticket.job.id)
            estimates = {}
        return estimates.get(ticket.job.id, Estimate(ticket.position, None, None))

    def _queued_text(self, status: _Status, estimate: Estimate) -> tuple[str, Estimate | None]:
        """The waiting job's words, and the estimate they give: none while the model loads, since its rendering
        starts once the model is ready (the refresher then gives the estimate)."""
        ticket = status.ticket
        loading = self.model_loading()
        if loading:
            times = text("status.model_loading", status.locale)
        elif estimate.starts_at is None or estimate.finishes_at is None:
            times = text("status.estimating", status.locale)
        else:
            times = text(
                "status.estimate",
                status.locale,
                starts_at=discord.utils.format_dt(estimate.starts_at, "R"),
                finishes_at=discord.utils.format_dt(estimate.finishes_at, "R"),
            )
        cost_line = text(
            "status.cost" if ticket.credits_left is not None else "status.cost_unlimited",
            status.locale,
            cost=ticket.job.cost,
            credits_left=ticket.credits_left,
            resets_at=discord.utils.format_dt(ticket.resets_at, "R"),
        )
        words = text(
            "status.queued",
            status.locale,
            job_id=ticket.job.id,
            position=estimate.position,
            estimate=times,
            cost_line=cost_line,
            updates=self._updates_text(status),
        )
        return words, None if loading else estimate

    def _updates_text(self, status: _Status) -> str:
        return text("status.updates_until", status.locale, until=discord.utils.format_dt(status.edits_until, "t"))

    async def _refresh_waiting_forever(self) -> None:
        while True:
            await asyncio.sleep(self.timing.refresh_every)
            try:
                await self._refresh_waiting()
            except Exception:
                log.exception("could not refresh the statuses of waiting jobs")

    async def _refresh_waiting(self) -> None:
        """Edit each waiting job's status whose words changed and that was not written in the last refresh_every
        seconds: one read for all of them, then one edit at a time."""
        now, written_before = discord.utils.utcnow(), time.monotonic() - self.timing.refresh_every
        waiting = {
            job_id: status
            for job_id, status in self._statuses.items()
            if status.waiting and not status.finished and now < status.edits_until and status.shown_at <= written_before
        }
        if not waiting:
            return
        estimates = await self.estimates.of_waiting(waiting.keys())
        for job_id, status in waiting.items():
            estimate = estimates.get(job_id)
            if estimate is None:
                continue  # it left the queue: its progress or its end follows
            if status.estimate is not None and _close_enough(estimate, status.estimate):
                continue
            queued, shown = self._queued_text(status, estimate)
            async with status.lock:
                if status.waiting and not status.finished and queued != status.shown:
                    await self._edit(status, queued, status.view)
                    status.estimate = shown

    async def on_started(self, job_id: int, load_seconds: float | None) -> None:
        """When its model had to be loaded first, say how long that took: the wait was not the queue's."""
        status = self._statuses.get(job_id)
        if load_seconds is None or status is None or status.finished:
            return
        status.waiting = False  # started: the queued text must not come back over this
        status.last_progress = time.monotonic()  # shown a moment before the first steps replace it
        status.pending = text(
            "status.loaded",
            status.locale,
            job_id=job_id,
            took=seconds(load_seconds, status.locale),
            updates=self._updates_text(status),
        )
        if status.writer is None or status.writer.done():
            status.writer = asyncio.create_task(self._write_pending(status))

    async def on_progress(self, job_id: int, progress: Progress) -> None:
        status = self._statuses.get(job_id)
        if status is None or status.finished:
            return
        status.waiting = False
        if time.monotonic() - status.last_progress < PROGRESS_EDIT_INTERVAL:
            return
        status.last_progress = time.monotonic()
        status.pending = text(
            "status.rendering",
            status.locale,
            job_id=job_id,
            step=progress.step,
            total=progress.total,
            bar=progress_bar(progress.step, progress.total),
            percent=round(100 * progress.step / progress.total) if progress.total else 0,
            elapsed=seconds(progress.elapsed, status.locale),
            updates=self._updates_text(status),
        )
        if status.writer is None or status.writer.done():
            status.writer = asyncio.create_task(self._write_pending(status))

    async def on_preview(self, job_id: int, preview: Preview) -> None:
        """Keep the newest picture; it goes out PREVIEW_EDIT_INTERVAL after the last one (or now, if that was so long
        ago), with whatever edit is then under way, or one of its own."""
        status = self._statuses.get(job_id)
        if status is None or status.finished:
            return
        status.preview = preview
        self._write_preview_when_due(status)

    def _preview_due(self, status: _Status) -> bool:
        return status.preview is not None and time.monotonic() - status.preview_shown_at >= PREVIEW_EDIT_INTERVAL

    def _write_preview_when_due(self, status: _Status) -> None:
        """Wake the writer when the waiting preview is due: a timer, at most one per status (a delay of 0 runs once
        the current task yields, so a writer that is ending has ended)."""
        if status.preview is None or status.finished or status.preview_timer is not None:
            return
        wait = max(0.0, PREVIEW_EDIT_INTERVAL - (time.monotonic() - status.preview_shown_at))
        status.preview_timer = asyncio.get_running_loop().call_later(wait, self._preview_became_due, status)

    def _preview_became_due(self, status: _Status) -> None:
        status.preview_timer = None
        if status.finished:
            return
        if not self._preview_due(status):  # the timer fired a hair early, or the preview went out meanwhile
            self._write_preview_when_due(status)
        elif status.writer is None or status.writer.done():
            status.writer = asyncio.create_task(self._write_pending(status))
        # else the writer's loop takes it after its current edit

    async def _write_pending(self, status: _Status) -> None:
        async with status.lock:
            while (status.pending is not None or self._preview_due(status)) and not status.finished:
                content, status.pending = status.pending or status.shown or "", None
                preview = None
                if self._preview_due(status):
                    preview, status.preview = status.preview, None
                await self._edit(status, content, status.view, preview=preview)
            self._write_preview_when_due(status)  # one that came during the last edit, not due yet

    async def _finish_status(self, job_id: int, content: str) -> bool:
        """Write the last word on a job's status; False if there is no live status to write to."""
        status = self._statuses.pop(job_id, None)
        if status is None:
            return False
        status.finished = True
        if status.preview_timer is not None:
            status.preview_timer.cancel()
        async with status.lock:
            # A finished job has no Cancel button, and no preview: the clip itself is posted, or there is none.
            shows_preview = status.preview_step is not None
            return await self._edit(status, content, discord.ui.View(), clear_preview=shows_preview)

    async def _edit(
        self,
        status: _Status,
        content: str,
        view: discord.ui.View,
        *,
        preview: Preview | None = None,
        clear_preview: bool = False,
    ) -> bool:
        """Best effort: the status is a courtesy, the channel post is what counts. With a preview, the status shows
        it (replacing the last); clear_preview takes it away; else the status keeps the one it has, and its line."""
        if discord.utils.utcnow() >= status.edits_until:
            status.finished = True  # its token expires soon: from now on /jobs tells how the job is doing
            return False
        attachments: list[discord.File] = discord.utils.MISSING  # MISSING: left as they are
        preview_step = None if clear_preview else status.preview_step
        if preview is not None:
            preview_step = preview.step
        elif clear_preview:
            attachments = []
        words = content
        if preview_step is not None:
            caption = text("status.preview", status.locale, step=preview_step)
            words = f"{content}\n-# {caption}"
            if preview is not None:
                attachments = [discord.File(io.BytesIO(preview.image), filename=PREVIEW_FILENAME, description=caption)]
        try:
            await status.interaction.edit_original_response(
                content=words, allowed_mentions=NOBODY, view=view, attachments=attachments
            )
        except discord.HTTPException as error:
            if error.status in (401, 404):
                # The token expired (15 minutes) or the member dismissed the message. Stop trying:
                # Discord bans bots that keep making invalid requests.
                status.finished = True
            log.debug("could not edit the status message: %s", error)
            return False
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.debug("could not edit the status message: %s", error)
            return False
        status.shown, status.shown_at = content, time.monotonic()
        status.preview_step = preview_step
        if preview is not None:
            status.preview_shown_at = status.shown_at
        return True

    # -- JobObserver: results ----------------------------------------------------------

    async def deliver(self, job: JobView) -> int:
        if job.video is None:
            raise DeliveryFailed(Failure(FailureCode.NO_FILE))
        channel = await self._channel(job.channel_id)
        try:
            message = await channel.send(
                content=text("post.content", job.locale, mention=f"<@{job.user_id}>"),
                embed=credit_embed(job),
                file=discord.File(self.media.path(job.video.key), filename=f"video-{job.id}.mp4"),
                view=post_view(job.id, 0, job.locale),
                allowed_mentions=only(job.user_id),
                # Discord returns the earlier message instead of posting twice if a retry
                # after a crash repeats the nonce.
                nonce=f"job-{job.id}",
            )
        except (discord.Forbidden, discord.NotFound):
            raise DeliveryFailed(Failure(FailureCode.CHANNEL_UNREACHABLE)) from None
        except discord.HTTPException as error:
            if error.status == 413:
                raise DeliveryFailed(Failure(FailureCode.UPLOAD_TOO_LARGE)) from None
            if error.status >= 500 or error.status == 429:
                raise  # passing trouble at Discord: the job runner retries
            raise DeliveryFailed(Failure(FailureCode.UPLOAD_REFUSED, {"status": error.status})) from None
        return message.id

    async def on_delivered(self, job: JobView) -> None:
        link = f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"
        await self._finish_status(job.id, text("status.delivered", job.locale, job_id=job.id, link=link))
        await self.cross_poster.cross_post(job)  # never raises: the clip is delivered whatever happens to its copy

    async def on_failed(self, job: JobView, refunded: int) -> None:
        key = "status.cancelled" if job.state is JobState.CANCELLED else "status.failed"
        locale = job.locale  # also when the bot restarted since: the job keeps its requester's locale
        refund = (
            text("status.refunded", locale, credits=refunded) if refunded else text("status.nothing_to_refund", locale)
        )
        assert job.failure is not None  # the runner records why whenever it fails a job
        content = text(key, locale, job_id=job.id, reason=failure_text(job.failure, locale), refund=refund)
        if await self._finish_status(job.id, content):
            return
        # No live status (the bot restarted, or the token expired): tell the requester in the channel.
        try:
            channel = await self._channel(job.channel_id)
            await channel.send(content=f"<@{job.user_id}> {content}", allowed_mentions=only(job.user_id))
        except (discord.HTTPException, DeliveryFailed) as error:
            log.warning("could not tell the requester that job %s failed: %s", job.id, error)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except (discord.Forbidden, discord.NotFound):
                raise DeliveryFailed(Failure(FailureCode.CHANNEL_UNREACHABLE)) from None
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryFailed(Failure(FailureCode.CHANNEL_UNREACHABLE))
        return channel
