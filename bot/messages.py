"""Every string a member or moderator reads, in one catalogue per language.

Only English exists so far; a language is another mapping with the same keys,
looked up by the interaction's locale.
"""

from __future__ import annotations

from collections.abc import Mapping

ENGLISH: Mapping[str, str] = {
    # /video: refusals (always ephemeral)
    "guild_only": "I make videos in servers only, not in direct messages.",
    "prompt.empty": "Please describe the video you want: the {field} can't be empty.",
    "prompt.too_long": "That {field} is too long: please keep it under {limit} characters.",
    "prompt.control_characters": (
        "That {field} contains invisible control characters. Please retype it as plain text."
    ),
    "seed.out_of_range": "The seed must be a whole number from 0 to {maximum}.",
    "preset.unavailable": "The preset `{preset}` isn't available on this bot. Available: {served}.",
    "quota.exhausted": (
        "You've used today's video credits: this clip costs {cost} and you have {credits_left} left. "
        "Your credits reset {resets_at}. Thanks for your patience!"
    ),
    "error.unexpected": "Something went wrong on my side and nothing was charged. Please try again in a moment.",
    # /video: the requester's status message
    "status.queued": (
        "Queued **job #{job_id}** · position {position} in the queue\n"
        "Cost: {cost} credit{cost_s} · {credits_left} left today (resets {resets_at})\n"
        "I'll post the video in this channel when it's ready."
    ),
    "status.rendering": "Rendering **job #{job_id}**: step {step} of {total}\n`{bar}` {percent}% · {elapsed} elapsed",
    "status.delivered": "Done: **job #{job_id}** is posted: {link}",
    "status.failed": "**Job #{job_id}** failed: {reason}. {refund}",
    "status.cancelled": "**Job #{job_id}** was cancelled. {refund}",
    "status.refunded": "Your {credits} credit{credits_s} {were} refunded.",
    "status.nothing_to_refund": "Nothing was charged.",
    # the public post
    "post.content": "{mention}, your video is ready.",
    "post.title": "AI-generated video · job #{job_id}",
    "post.requested_by": "Requested by",
    "post.model": "Model",
    "post.licence": "Licence",
    "post.preset": "Preset",
    "post.seed": "Seed",
    "post.clip": "Clip",
    "post.clip_value": "{frames} frames · {fps} fps · {width}×{height} · {steps} steps",
    "post.render_time": "Render time",
    "post.footer": "AI-generated · job #{job_id} · credit is stored in the MP4 itself",
    "delivery.no_access": "I can't post in that channel (missing access or permissions)",
    "delivery.too_large": "the video came out larger than Discord allows here",
    "delivery.error": "Discord refused the upload ({status})",
    # command descriptions shown in Discord
    "command.video": "Turn a text prompt into a short AI-generated video",
    "option.prompt": "What should happen in the video?",
    "option.negative_prompt": "What the video should avoid",
    "option.seed": "A number that makes the result repeatable",
    "option.preset": "Which model renders it",
}

CATALOGUES: Mapping[str, Mapping[str, str]] = {"en": ENGLISH}


def text(key: str, locale: str = "en", /, **params: object) -> str:
    catalogue = CATALOGUES.get(locale.split("-")[0], ENGLISH)
    return catalogue.get(key, ENGLISH[key]).format(**params)


def plural(count: int) -> str:
    return "" if count == 1 else "s"
