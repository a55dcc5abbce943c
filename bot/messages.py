"""Every string a member or moderator reads, in one catalogue per language.

A catalogue maps a key to its words: a format string, or a Plural whose form Babel chooses from one count by the
language's CLDR plural rules (English: one, other; Vietnamese: other). Every catalogue has the same keys with the
same placeholders (tests/bot/test_catalogues.py). A member's Discord locale picks the catalogue: Vietnamese for
`vi`, English otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from babel import Locale
from discord.app_commands import locale_str


class Plural:
    """Words that change with a count: one form per CLDR plural category the language has, "other" always."""

    __slots__ = ("by", "forms")

    def __init__(self, by: str, **forms: str) -> None:
        if "other" not in forms:
            raise ValueError("a plural needs its 'other' form")
        self.by = by
        """The parameter whose value chooses the form."""
        self.forms: Mapping[str, str] = MappingProxyType(forms)


Entry = str | Plural
Catalogue = Mapping[str, Entry]

ENGLISH: Catalogue = {
    # /video: refusals (always ephemeral)
    "guild_only": "I make videos in servers only, not in direct messages.",
    "bot.missing_permissions": (
        "I can't post videos in this channel: I'm missing {permissions}. "
        "Ask a server admin to grant them, or try another channel. Nothing was charged."
    ),
    "prompt.empty": "Please describe the video you want: the {field} can't be empty.",
    "prompt.too_long": "That {field} is too long: please keep it under {limit} characters.",
    "prompt.not_text": "The {field} must be text.",
    "prompt.control_characters": (
        "That {field} contains invisible control characters. Please retype it as plain text."
    ),
    "seed.out_of_range": "The seed must be a whole number from 0 to {maximum}.",
    "preset.unavailable": "The preset `{preset}` isn't available on this bot. Available: {served}.",
    "quota.exhausted": (
        "You've used today's video credits: this clip costs {cost} and you have {credits_left} left. "
        "Your credits reset {resets_at}. Thanks for your patience!"
    ),
    "member.banned": "You can't make videos in this server: a moderator has turned that off for you.",
    "jobs.too_many_active": (
        "You already have {limit} videos queued or rendering. Please wait for one to finish, then try again."
    ),
    "cooldown": "Please leave a little time between videos: you can send the next one {until}.",
    "error.unexpected": "Something went wrong on my side and nothing was charged. Please try again in a moment.",
    # /video: the requester's status message
    "status.queued": (
        "Queued **job #{job_id}** · position {position} in the queue\n"
        "{estimate}\n"
        "{cost_line}\n"
        "I'll post the video in this channel when it's ready. {updates}"
    ),
    "status.cost": Plural(
        "cost",
        one="Cost: {cost} credit · {credits_left} left today (resets {resets_at})",
        other="Cost: {cost} credits · {credits_left} left today (resets {resets_at})",
    ),
    "status.cost_unlimited": Plural(
        "cost",
        one="Cost: {cost} credit · your role has no credit limit",
        other="Cost: {cost} credits · your role has no credit limit",
    ),
    "status.estimate": "Estimated start {starts_at} · finish {finishes_at}",
    "status.estimating": "Estimated start and finish: estimating (not enough recent renders to go by yet)",
    "status.updates_until": "This message updates until {until}; after that, `/jobs list` shows how the job is doing.",
    "status.rendering": (
        "Rendering **job #{job_id}**: step {step} of {total}\n`{bar}` {percent}% · {elapsed} elapsed\n{updates}"
    ),
    "status.delivered": "Done: **job #{job_id}** is posted: {link}",
    "status.failed": "**Job #{job_id}** failed: {reason}. {refund}",
    "status.cancelled": "**Job #{job_id}** was cancelled. {refund}",
    "status.refunded": Plural(
        "credits", one="Your {credits} credit was refunded.", other="Your {credits} credits were refunded."
    ),
    "status.nothing_to_refund": "Nothing was charged.",
    "status.cancel_button": "Cancel",
    # /jobs and the Cancel button
    "jobs.title": Plural(
        "count",
        one="**Your last {count} job in this server**, newest first:",
        other="**Your last {count} jobs in this server**, newest first:",
    ),
    "jobs.line": "**#{job_id}** · {state} · {created_at} · {prompt}",
    "jobs.empty": "You haven't made any videos in this server yet.",
    "state.queued": "queued",
    "state.running": "rendering",
    "state.rendered": "posting",
    "state.delivered": "posted",
    "state.failed": "failed",
    "state.cancelled": "cancelled",
    "cancel.cancelled": "Cancelled **job #{job_id}**; its credits were refunded.",
    "cancel.stopping": "Stopping **job #{job_id}**: its render stops within a step, then its credits are refunded.",
    "cancel.no_such_job": "There is no job #{job_id}.",
    "cancel.not_yours": (
        "**Job #{job_id}** isn't yours: only the member who asked for it, or a moderator of its server, can cancel it."
    ),
    "jobs.error": "Something went wrong on my side, and nothing was changed. Please try again in a moment.",
    "cancel.finished": "**Job #{job_id}** has already finished, so there is nothing to cancel.",
    # the public post
    "post.content": "{mention}, your video is ready.",
    "post.title": "AI-generated video · job #{job_id}",
    "post.requested_by": "Requested by",
    "post.model": "Model",
    "post.model_value": "{model} by {authors}",
    "post.licence": "Licence",
    "post.preset": "Preset",
    "post.seed": "Seed",
    "post.clip": "Clip",
    "post.clip_value": "{frames} frames · {fps} fps · {width}×{height} · {steps} steps",
    "post.render_time": "Render time",
    "post.footer": "AI-generated · job #{job_id} · credit is stored in the MP4 itself",
    "post.clip_encoded": "{frames} frames · {fps} fps · {width}×{height} · {steps} steps (rendered at {rendered})",
    # why a job failed: one per common.failures.FailureCode, with the details it names
    "failure.cancelled": "it was cancelled",
    "failure.out_of_memory": "the GPU ran out of memory; try fewer frames, a smaller size or a lighter preset",
    "failure.render_error": "the render failed",
    "failure.gpu_error": "the GPU hit an error, so the video model is restarting",
    "failure.encode_error": "the video could not be encoded",
    "failure.preset_not_served": "this bot no longer serves the preset `{preset_id}`",
    "failure.worker_crashed": "the render worker stopped unexpectedly",
    "failure.worker_stalled": "the render stopped responding",
    "failure.worker_shut_down": "the bot was shut down before the video was finished",
    "failure.worker_unavailable": "the video model is not available right now",
    "failure.too_many_attempts": (
        "the render stopped the video model on every try ({attempts} in all), so it was not tried again"
    ),
    "failure.no_file": "the render produced no file",
    "failure.channel_unreachable": "I can't post in that channel (missing access or permissions)",
    "failure.upload_too_large": "the video came out larger than Discord allows here",
    "failure.upload_refused": "Discord refused the upload ({status})",
    "failure.delivery_gave_up": "Discord kept refusing the upload",
    "failure.unknown": "{text}",
    # /quota me and /quota show
    "quota.me": (
        "**Your video credits in this server**\n{credits}\nActive jobs: {active} of {max_active} · {default_cost}"
    ),
    "quota.default_cost": Plural(
        "cost", one="the default clip costs {cost} credit", other="the default clip costs {cost} credits"
    ),
    "quota.show": (
        "**{member}**\n{credits}\nActive jobs: {active} of {max_active} · personal override: {override} · {ban}"
    ),
    "quota.credits": "{left} of {allowance} credits left ({window}) · more {resets_at}",
    "quota.unlimited": "No credit limit (an unlimited role)",
    "quota.banned": "**Banned** from making videos",
    "quota.not_banned": "not banned",
    "window.daily": "resets daily at {hour:02d}:00 UTC",
    "window.rolling": "rolling 24 hours",
    # moderators
    "mod.denied": (
        "Only moderators can do that: it needs the Manage Server permission or this server's moderator role."
    ),
    "mod.denied_manage_server": "Only members with the Manage Server permission can choose the moderator role.",
    "mod.done": "Done: {change}.",
    "amount.invalid": "`{field}` must be a whole number from {minimum} to {maximum}. Nothing was changed.",
    "reason.too_long": "The reason must be under {limit} characters. Nothing was changed.",
    "choice.invalid": "`{field}` must be one of {choices}. Nothing was changed.",
    "mod.error": "Something went wrong on my side and nothing was changed. Please try again in a moment.",
    "value.none": "none",
    "audit.title": "**Moderator actions**, newest first:",
    "audit.line": "{when} {actor}: {change}",
    "audit.empty": "No moderator actions yet.",
    "audit.older": "Older",
    "audit.newest": "Newest",
    "audit.set_default": "default allowance {before} → {after} credits",
    "audit.set_role": "tier of {target} {before} → {after}",
    "audit.set_member": "override of {target} {before} → {after}",
    "audit.grant": "granted {target} {after} credits for the current window",
    "audit.reset": "reset {target}'s window ({before} credits spent given back)",
    "audit.window": "quota window {before} → {after}",
    "audit.ban": "banned {target} from making videos ({after})",
    "audit.unban": "let {target} make videos again",
    "audit.moderator_role": "moderator role {before} → {after}",
    # command descriptions shown in Discord
    "command.video": "Turn a text prompt into a short AI-generated video",
    "option.prompt": "What should happen in the video?",
    "option.negative_prompt": "What the video should avoid",
    "option.seed": "A number that makes the result repeatable",
    "option.preset": "Which model renders it",
    "command.quota": "Video credits: yours, and (for moderators) the server's quota settings",
    "command.quota.me": "How many video credits you have left, and when more come",
    "command.quota.show": "A member's credits, limits and ban (moderators)",
    "command.quota.set_default": "The server's allowance per member per window (moderators)",
    "command.quota.set_role": "A role's allowance; leave both options out to remove it (moderators)",
    "command.quota.set_member": "A member's own allowance; leave credits out to clear it (moderators)",
    "command.quota.grant": "Give a member bonus credits for the current window (moderators)",
    "command.quota.reset": "Give back what a member has spent in the current window (moderators)",
    "command.quota.window": "Daily reset at a UTC hour, or a rolling 24 hours (moderators)",
    "command.jobs": "Your video jobs",
    "command.jobs.list": "Your last 10 jobs in this server and how they are doing",
    "command.jobs.cancel": "Cancel a queued or rendering job of yours (moderators: anyone's)",
    "option.job": "The job's number, as in its status or /jobs list",
    "command.mod": "Moderator tools for the video bot",
    "command.mod.ban": "Stop a member from making videos",
    "command.mod.unban": "Let a member make videos again",
    "command.mod.audit": "Recent moderator actions",
    "command.mod.role": "The role whose members count as moderators; leave it out to clear it",
    "option.member": "The member",
    "option.role": "The role",
    "option.credits": "Credits per window",
    "option.unlimited": "No credit limit for this role",
    "option.grant_credits": "Bonus credits",
    "option.window": "How credits come back",
    "option.reset_hour": "For a daily window: the hour (UTC, 0-23) it resets",
    "option.reason": "Why (shown to moderators only)",
    # several models
    "option.preset_choice": Plural(
        "cost",
        one="{preset} · {cost} credit for its default clip",
        other="{preset} · {cost} credits for its default clip",
    ),
    "status.loaded": (
        "Rendering **job #{job_id}**: loading its model took {took}; the first step is under way\n{updates}"
    ),
    "failure.model_load_failed": "its model could not be loaded; please try again in a moment",
    # /queue
    "command.queue": "The server's video queue: see it, pause it, give roles priority (moderators)",
    "command.queue.show": "Everyone's waiting and rendering jobs here, in the order they are served",
    "command.queue.pause": "Refuse new /video requests and hold waiting jobs; renders in progress finish",
    "command.queue.resume": "Take /video requests again and render the waiting jobs",
    "command.queue.priority": "Give a role's members more turns per round in the queue; weight 1 removes it",
    "option.weight": "Turns per round for the role's members (1 to 10; 1 is everyone's)",
    "queue.paused": (
        "The moderators have paused video requests in this server for now, so I can't take this one. "
        "Please try again later. Nothing was charged."
    ),
    "queue.already_paused": "The queue is already paused. Nothing was changed.",
    "queue.not_paused": "The queue isn't paused. Nothing was changed.",
    "queue.title": Plural(
        "total",
        one="**Video queue in this server**: {total} job waiting or rendering · page {page} of {pages}",
        other="**Video queue in this server**: {total} jobs waiting or rendering · page {page} of {pages}",
    ),
    "queue.paused_note": (
        "**Paused**: new /video requests are refused, and waiting jobs keep their places until `/queue resume`."
    ),
    "queue.empty": "No jobs are waiting or rendering in this server.",
    "queue.line": "`#{job_id}` · position {position} · {member} · `{preset}` · {state} · {age}",
    "queue.previous": "Previous",
    "queue.next": "Next",
    "audit.queue_pause": "paused the queue (new requests refused, waiting jobs held)",
    "audit.queue_resume": "resumed the queue",
    "audit.queue_priority": "queue priority of {target} {before} → {after} turns per round",
    # /gallery, the Star button and the gallery channel
    "command.gallery": "The server's gallery of videos: browse and star them, or take yours out",
    "command.gallery.recent": "The newest videos in this server's gallery",
    "command.gallery.top": "The most-starred videos in this server's gallery",
    "command.gallery.member": "A member's videos in this server's gallery",
    "command.gallery.optout": "Take your videos, past and future, out of this server's gallery",
    "command.gallery.optin": "Put your videos back in this server's gallery",
    "command.gallery.delete": "Delete a video of yours from the gallery, and its files from the bot",
    "command.gallery.settings": "Show or change the gallery: on the web or not, its address, its channel (moderators)",
    "command.gallery.hide": "Hide a video from the gallery (moderators)",
    "command.gallery.unhide": "Put a hidden video back in the gallery (moderators)",
    "option.public": "Show the gallery on the web to anyone with its link (true), or keep it private (false)",
    "option.gallery_channel": "A channel where every new video is posted too",
    "option.clear_channel": "Stop posting new videos in a gallery channel",
    "option.new_link": "Give the web gallery a new address: every old link to it stops working",
    "gallery.recent_title": "**Newest videos in this server's gallery** · page {page}",
    "gallery.top_title": "**Most-starred videos in this server's gallery** · page {page}",
    "gallery.member_title": "**Videos by {member} in this server's gallery** · page {page}",
    "gallery.line": "**#{job_id}** · ⭐ {stars} · by {creator}{links}\n> {prompt}",
    "gallery.post_link": "[Discord post](<{url}>)",
    "gallery.web_link": "[web page](<{url}>)",
    "gallery.recent_empty": "There are no videos in this server's gallery yet: make the first with `/video`!",
    "gallery.top_empty": "No video in this server's gallery has a star yet: press ⭐ under one you like.",
    "gallery.member_empty": "{member} has no videos in this server's gallery.",
    "gallery.past_end": "There is nothing more here: the list got shorter since this page was shown.",
    "gallery.previous": "Previous",
    "gallery.next": "Next",
    "star.label": "⭐ {stars}",
    "star.label_none": "⭐ Star",
    "star.starred": Plural(
        "stars",
        one="You starred **job #{job_id}**: it has {stars} star now. Click again to take it back.",
        other="You starred **job #{job_id}**: it has {stars} stars now. Click again to take it back.",
    ),
    "star.unstarred": "You took your star back from **job #{job_id}**.",
    "gallery.cross_post": "New in the gallery: **job #{job_id}** by {creator}",
    "gallery.opted_out": (
        "Done: your videos have left this server's gallery (its lists, its web pages and its channel), and new ones "
        "won't join it. Your own Discord posts stay. `/gallery optin` brings them back to the lists and web pages."
    ),
    "gallery.already_opted_out": (
        "Your videos are already out of this server's gallery. `/gallery optin` brings them back."
    ),
    "gallery.opted_in": "Welcome back: your videos are in this server's gallery again, and new ones will join them.",
    "gallery.already_opted_in": "Your videos are already in this server's gallery.",
    "gallery.deleted": (
        "Deleted **job #{job_id}** from the gallery, and its files from the bot. Its credits stay spent, and its "
        "Discord post stays until you delete it."
    ),
    "gallery.not_in_gallery": "There is no video #{job_id} in this server's gallery.",
    "gallery.delete_not_yours": (
        "**Job #{job_id}** isn't yours: only the member who made it can delete it from the gallery."
    ),
    "gallery.already_hidden": "**Job #{job_id}** is hidden already. Nothing was changed.",
    "gallery.not_hidden": "**Job #{job_id}** isn't hidden. Nothing was changed.",
    "gallery.error": "Something went wrong on my side, and nothing was changed. Please try again in a moment.",
    "gallery.settings": "**This server's gallery**\n{visibility}\nGallery channel: {channel}",
    "gallery.settings_public": "Public: anyone with its link can see it at <{address}>",
    "gallery.settings_public_no_web": "Public, but this bot runs no web gallery to show it on",
    "gallery.settings_private": "Private: in Discord only (`/gallery settings public:true` puts it on the web)",
    "gallery.settings_conflict": "Choose a channel or `clear_channel`, not both. Nothing was changed.",
    "gallery.channel_missing_permissions": (
        "I can't post videos in {channel}: I'm missing {permissions}. Grant them, or choose another channel. "
        "Nothing was changed."
    ),
    "button.other_server": "That button belongs to another server.",
    "value.public": "public",
    "value.private": "private",
    "audit.gallery_public": "gallery {before} → {after}",
    "audit.gallery_link": "gave the web gallery a new address (every old link stopped working)",
    "audit.gallery_channel": "gallery channel {before} → {after}",
    "audit.gallery_hide": "hid job #{target} from the gallery",
    "audit.gallery_unhide": "put job #{target} back in the gallery",
    # /video's options, their refusals and the prompt's flags
    # the buttons on every posted clip: Reroll, Details, Delete
    # the live preview
    # server safety settings: /settings
    # /help and the bot's presence
}

CATALOGUES: Mapping[str, Catalogue] = {"en": ENGLISH}
DEFAULT_LANGUAGE = "en"


def language_of(locale: str) -> str:
    """The catalogue a Discord locale ("vi", "en-US", "pt-BR") reads: its own language's, else English."""
    language = locale.split("-")[0].lower()
    return language if language in CATALOGUES else DEFAULT_LANGUAGE


@cache
def _babel_locale(language: str) -> Locale:
    return Locale.parse(language)


def text(key: str, locale: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """The words for key in the locale's language, with params filled in."""
    language = language_of(locale)
    entry = CATALOGUES[language][key]
    if isinstance(entry, Plural):
        count = params[entry.by]
        assert isinstance(count, int)
        entry = entry.forms.get(_babel_locale(language).plural_form(count), entry.forms["other"])
    return entry.format(**params)


def described(key: str) -> locale_str:
    """A command's, option's or choice's words for Discord: English, with its key for the translator
    (bot.translator), which gives Discord the other languages when the commands are synced."""
    entry = ENGLISH[key]
    assert isinstance(entry, str), f"{key} is shown in Discord's command list: it cannot depend on a count"
    return locale_str(entry, key=key)
