"""The credit embed that travels with every posted clip, in its requester's language (the job's locale): the
post is the answer to their request, wherever it is shown."""

from __future__ import annotations

import discord

from bot.formatting import safe_user_text, seconds
from bot.messages import text
from jobs.views import JobView

DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
EMBED_COLOUR = discord.Colour(0x5865F2)


def credit_embed(job: JobView) -> discord.Embed:
    clip, locale = job.clip, job.locale
    embed = discord.Embed(
        title=text("post.title", locale, job_id=job.id),
        description=">>> " + safe_user_text(clip.prompt, DESCRIPTION_LIMIT - 4),
        colour=EMBED_COLOUR,
        timestamp=job.created_at,
    )
    embed.add_field(name=text("post.requested_by", locale), value=f"<@{job.user_id}>", inline=True)
    embed.add_field(name=text("post.model", locale), value=_model_line(job), inline=True)
    embed.add_field(name=text("post.licence", locale), value=f"[{job.licence}]({job.licence_url})", inline=True)
    embed.add_field(name=text("post.preset", locale), value=f"`{clip.preset_id}`", inline=True)
    embed.add_field(name=text("post.seed", locale), value=f"`{clip.seed}`", inline=True)
    if job.render_seconds is not None:
        embed.add_field(name=text("post.render_time", locale), value=seconds(job.render_seconds, locale), inline=True)
    embed.add_field(name=text("post.clip", locale), value=_clip_line(job), inline=False)
    embed.set_footer(text=text("post.footer", locale, job_id=job.id))
    return embed


def _model_line(job: JobView) -> str:
    """The model and its authors, who are whatever a presets file says: escaped, and cut to fit the field."""
    model = f"`{job.model_id}`"
    room = FIELD_VALUE_LIMIT - len(text("post.model_value", job.locale, model=model, authors=""))
    return text("post.model_value", job.locale, model=model, authors=safe_user_text(job.authors, room))


def _clip_line(job: JobView) -> str:
    """The clip as posted: what the encoder wrote, which a downscale to fit the upload limit made smaller."""
    clip, video = job.clip, job.video
    if video is None:
        return text(
            "post.clip_value",
            job.locale,
            frames=clip.frames,
            fps=clip.fps,
            width=clip.width,
            height=clip.height,
            steps=clip.steps,
        )
    posted = {
        "frames": video.frames,
        "fps": video.fps,
        "width": video.width,
        "height": video.height,
        "steps": clip.steps,
    }
    if (video.width, video.height) == (clip.width, clip.height):
        return text("post.clip_value", job.locale, **posted)
    return text("post.clip_encoded", job.locale, **posted, rendered=f"{clip.width}×{clip.height}")
