"""The gallery channel: every delivered clip is posted there too (`/gallery settings channel`), with its credit.

A cross-post is the gallery's, never the job's: it is made once the delivery is on record (the publisher's
on_delivered), and whatever stops it (a channel deleted, a permission taken away, Discord down) is logged, once per
channel until one gets through, and changes nothing for the job or its requester's status. jobs.gallery decides
whether a clip is cross-posted at all (a gallery channel is set, the clip is in the gallery, so its creator has not
opted out, and it was not cross-posted yet); the post credits the creator by mention, pings no one, is written in
the creator's language (the job's locale, as their own post is), carries the post's buttons (bot.clip_buttons),
and carries a nonce, so a repeat within Discord's nonce window returns the first post. A crash between the delivery's
record and its cross-post loses the cross-post, not the clip.
"""

from __future__ import annotations

import logging

import aiohttp
import discord

from bot.clip_buttons import post_view
from bot.embeds import credit_embed
from bot.mentions import NOBODY
from bot.messages import text
from jobs.gallery import GalleryService
from jobs.media import MediaFiles
from jobs.views import JobView

log = logging.getLogger(__name__)

PASSING_TROUBLE = (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError)


class ChannelUnusable(Exception):
    """The gallery channel is not one the bot can post in (a voice channel, a category, gone from its cache)."""


class CrossPoster:
    def __init__(self, client: discord.Client, gallery: GalleryService, media: MediaFiles) -> None:
        self.client = client
        self.gallery = gallery
        self.media = media
        self._failing: set[int] = set()  # channels whose last cross-post failed, and was logged

    async def cross_post(self, job: JobView) -> None:
        """Post the delivered clip in its server's gallery channel, if it goes there; never raises."""
        channel_id: int | None = None
        try:
            channel_id = await self.gallery.cross_post_channel(job.id)
            if channel_id is None or job.video is None:
                return
            if channel_id == job.channel_id and job.message_id is not None:
                message_id = job.message_id  # delivered in the gallery channel itself: its post is there already
            else:
                message_id = await self._post(channel_id, job)
            await self.gallery.record_cross_post(job.id, channel_id, message_id)
        except (*PASSING_TROUBLE, ChannelUnusable) as error:
            self._failed(channel_id, job.id, f"{type(error).__name__}: {error}")
            return
        except Exception:
            log.exception("could not cross-post job %s to the gallery channel %s", job.id, channel_id)
            return
        if channel_id is not None and channel_id in self._failing:
            self._failing.discard(channel_id)
            log.info("cross-posting to the gallery channel %s works again", channel_id)
        # The clip may have left the gallery while it was being posted (a hide, an opt-out): take the copy back.
        await self.withdraw(job.guild_id)

    async def withdraw(self, guild_id: int) -> None:
        """Delete the gallery channel's copies of the server's clips that left the gallery (hidden, deleted, their
        creator opted out); never raises. A copy that cannot be deleted now stays on record and is tried again at
        the server's next withdrawal; one already deleted by someone else is simply forgotten."""
        try:
            for post in await self.gallery.cross_posts_to_withdraw(guild_id):
                try:
                    channel = self.client.get_partial_messageable(post.channel_id)
                    await channel.get_partial_message(post.message_id).delete()
                except discord.NotFound:
                    pass  # deleted already, or its channel is gone: nothing left to take back
                await self.gallery.forget_cross_post(post)
        except PASSING_TROUBLE as error:
            log.warning("could not take back a gallery cross-post in server %s (%s)", guild_id, error)
        except Exception:
            log.exception("could not take back the gallery cross-posts of server %s", guild_id)

    async def _post(self, channel_id: int, job: JobView) -> int:
        assert job.video is not None
        channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise ChannelUnusable(f"{type(channel).__name__} is not a channel to post in")
        message = await channel.send(
            content=text("gallery.cross_post", job.locale, job_id=job.id, creator=f"<@{job.user_id}>"),
            embed=credit_embed(job),
            file=discord.File(self.media.path(job.video.key), filename=f"video-{job.id}.mp4"),
            view=post_view(job.id, 0, job.locale),
            allowed_mentions=NOBODY,  # the credit names the creator; their own post pinged them already
            nonce=f"gallery-{job.id}",
        )
        return message.id

    def _failed(self, channel_id: int | None, job_id: int, why: str) -> None:
        if channel_id is not None and channel_id in self._failing:
            log.debug("could not cross-post job %s to the gallery channel %s either: %s", job_id, channel_id, why)
            return
        if channel_id is not None:
            self._failing.add(channel_id)
        log.warning(
            "could not cross-post job %s to the gallery channel %s (%s); the job is delivered all the same, and this "
            "is logged once until a cross-post there works again",
            job_id,
            channel_id,
            why,
        )
