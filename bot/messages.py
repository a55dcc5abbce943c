"""Every string a member or moderator reads, in one catalogue per language.

A catalogue maps a key to its words: a format string, or a Plural whose form Babel chooses from one count by the
language's CLDR plural rules (bot.plurals). Every catalogue has the same keys with the same placeholders, and every
key the code uses is in them (tests/bot/test_catalogues.py). A member's Discord locale picks the catalogue:
Vietnamese for `vi`, English otherwise. Commands, options and choices reach Discord in English with their key
(described), and bot.translator gives Discord the other languages' words, names included (NAMES), when it syncs.

ENGLISH is the reference: a key is added here first, then to every other catalogue (bot/messages_vi.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from babel import Locale
from discord.app_commands import locale_str

from bot.messages_vi import VIETNAMESE, VIETNAMESE_NAMES
from bot.plurals import Catalogue, Entry, Plural

__all__ = [
    "CATALOGUES",
    "DEFAULT_LANGUAGE",
    "ENGLISH",
    "NAMES",
    "Catalogue",
    "Entry",
    "Plural",
    "described",
    "language_of",
    "text",
]

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
    "post.footer": "AI-generated · job #{job_id} · attribution is stored in the MP4 itself",
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
        "the render crashed the video model on every try ({attempts} in all), so it was not tried again"
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
    # words other messages are made of: a prompt field, a choice, a duration, a channel permission
    "field.prompt": "prompt",
    "field.negative_prompt": "negative prompt",
    "choice.window.daily": "daily",
    "choice.window.rolling": "rolling",
    "time.seconds": "{seconds} s",
    "time.minutes": "{minutes} min {seconds} s",
    "permission.view_channel": "View Channel",
    "permission.send_messages": "Send Messages",
    "permission.send_messages_in_threads": "Send Messages in Threads",
    "permission.attach_files": "Attach Files",
    "permission.embed_links": "Embed Links",
    # /video's options, their refusals and the prompt's flags
    "option.aspect": "The picture's shape: landscape, portrait or square",
    "option.duration": "How long the clip is, in seconds (the lengths the preset can make are suggested)",
    "option.steps": "Denoising steps: fewer is faster and cheaper, more is finer (each preset has its range)",
    "choice.aspect.16:9": "16:9 landscape",
    "choice.aspect.9:16": "9:16 portrait",
    "choice.aspect.1:1": "1:1 square",
    "option.preset_described": Plural(
        "cost",
        one="{preset}: {description} · {cost} credit",
        other="{preset}: {description} · {cost} credits",
    ),
    "option.duration_choice": "{seconds} · {frames} frames at {fps} fps · {credits}",
    "value.seconds": Plural("seconds", one="{seconds} second", other="{seconds} seconds"),
    "value.credits": Plural("credits", one="{credits} credit", other="{credits} credits"),
    "aspect.unavailable": "`{preset}` doesn't make `{aspect}` clips. Choose one of {aspects}.",
    "duration.unavailable": "`{preset}` can't make a clip of that length. Choose a duration in seconds: {allowed}.",
    "duration.none": "`{preset}` has no length it can make in whole seconds: leave the duration out.",
    "steps.out_of_range": "`{preset}` renders with {minimum} to {maximum} steps: choose a whole number in that range.",
    "flag.without_value": "`{flag}` in your prompt needs a value after it, like `--seed 42` or `--ar 9:16`.",
    "video.first_answer": Plural(
        "cost",
        one="This clip costs **{cost} credit**. Queuing it…",
        other="This clip costs **{cost} credits**. Queuing it…",
    ),
    "video.settings_title": "Your clip's settings",
    "video.setting_preset": "Preset",
    "video.setting_size": "Aspect and size",
    "video.setting_duration": "Duration",
    "video.setting_steps": "Steps",
    "video.setting_seed": "Seed",
    "video.setting_negative_prompt": "Avoiding",
    "video.setting_flags": "From your prompt",
    "video.size_value": "{aspect} · {width}×{height}",
    "video.duration_value": "{seconds} · {frames} frames at {fps} fps",
    "flag.applied": "`{flag}`: applied",
    "flag.ignored_option": "`{flag}`: ignored, since you chose `{option}` yourself",
    "flag.ignored_repeated": "`{flag}`: ignored, since a later flag sets `{option}`",
    "flag.unknown": "`{flag}`: not a flag I know, so it stays in your prompt",
    # the buttons on every posted clip: Reroll, Details, Delete
    "clip.reroll": "🎲 Reroll",
    "clip.details": "Details",
    "clip.delete": "Delete",
    "clip.gone": "That video is gone: **job #{job_id}** no longer exists.",
    "clip.error": "Something went wrong on my side, and nothing was changed. Please try again in a moment.",
    "reroll.in_flight": (
        "I'm already rerolling **job #{job_id}** for you: one click is enough, and nothing more was charged."
    ),
    "reroll.withdrawn": (
        "**Job #{job_id}** was taken out of the gallery, so it can't be rerolled. Nothing was charged."
    ),
    "details.title": "Job #{job_id} · details",
    "details.prompt": "Prompt",
    "details.negative_prompt": "Negative prompt",
    "details.command": "Copy as command",
    "details.no_command": "This bot no longer has the preset `{preset}`, so no command makes this video again.",
    "details.guidance": "Guidance",
    "details.encode_time": "Encode time",
    "details.gallery": "Gallery",
    "details.gallery_link": "[Its page in the web gallery]({url})",
    "details.withdrawn": (
        "**Job #{job_id}** was taken out of the gallery: only the member who made it and this server's moderators can "
        "see its details."
    ),
    "delete.confirm_own": (
        "Delete **job #{job_id}**? Its post goes for everyone, and the video leaves the gallery with its files, for "
        "good. Its credits stay spent."
    ),
    "delete.confirm_moderator": (
        "Delete the post of **job #{job_id}** by {creator}? It goes for everyone, and the video is hidden from the "
        "gallery (`/gallery unhide` brings it back there; `/mod audit` records it)."
    ),
    "delete.confirm_button": "Delete",
    "delete.keep_button": "Keep",
    "delete.kept": "Kept **job #{job_id}**: nothing was deleted.",
    "delete.deleted_own": (
        "Deleted **job #{job_id}**: its post, its place in the gallery and its files are gone. Its credits stay spent."
    ),
    "delete.deleted_moderator": "Deleted the post of **job #{job_id}**, and the video is hidden from the gallery.",
    "delete.not_yours": (
        "**Job #{job_id}** isn't yours: only the member who made it, or a moderator of this server, can delete it."
    ),
    "delete.post_gone": "The post of **job #{job_id}** is gone already: there is nothing left to delete.",
    # the live preview
    "status.preview": "A rough look at the middle of your clip after step {step}: the finished video will be sharper.",
    # server safety settings: /settings
    "command.settings": "This server's safety settings for videos (moderators)",
    "command.settings.show": "All of this server's safety settings at a glance",
    "command.settings.channels": "Where /video may be used in this server",
    "command.settings.channels.add": "Allow /video in a channel: once one is listed, only listed channels allow it",
    "command.settings.channels.remove": "Stop allowing /video in a channel: with none listed, it works anywhere",
    "command.settings.channels.list": "The channels where /video may be used",
    "command.settings.blocklist": "Words and phrases refused in prompts",
    "command.settings.blocklist.add": "Refuse prompts that hold a word or phrase (* stands for letters within a word)",
    "command.settings.blocklist.remove": "Stop refusing a word or phrase",
    "command.settings.blocklist.list": "The words and phrases this server refuses in prompts",
    "command.settings.blocklist.default": "Switch the built-in blocklist on or off",
    "command.settings.presets": "Which presets this server allows",
    "command.settings.presets.disable": "Turn a preset off in this server",
    "command.settings.presets.enable": "Turn a preset back on in this server",
    "command.settings.presets.sensitive": "Allow presets marked sensitive in age-restricted channels, or nowhere",
    "command.settings.limits": "This server's longest clip and most steps, below the presets' own",
    "option.channel": "The channel",
    "option.term": "A word or phrase; * stands for any letters within a word (kill* also blocks killing)",
    "option.scope": "Where it is refused (everywhere unless you choose)",
    "choice.scope.everywhere": "Everywhere",
    "choice.scope.outside_age_restricted": "Outside age-restricted channels only",
    "option.enabled": "On (true) or off (false)",
    "option.settings_preset": "The preset",
    "option.allow_sensitive": "true: allowed in age-restricted channels only; false: allowed nowhere",
    "option.max_seconds": "The longest clip in seconds (0: the presets' own)",
    "option.max_steps": "The most denoising steps per clip (0: the presets' own)",
    "settings.channel_not_allowed": (
        "In this server, /video works only in {channels} and their threads. Nothing was charged."
    ),
    "settings.preset_disabled": (
        "The preset `{preset}` is turned off in this server. You can use {allowed}. Nothing was charged."
    ),
    "settings.preset_disabled_none": (
        "The preset `{preset}` is turned off in this server, and no other preset is on here. Nothing was charged."
    ),
    "settings.sensitive_preset_age_restricted": (
        "The preset `{preset}` is marked sensitive: this server allows it only in age-restricted channels. "
        "Nothing was charged."
    ),
    "settings.sensitive_preset_refused": (
        "The preset `{preset}` is marked sensitive, and this server doesn't allow sensitive presets. "
        "Nothing was charged."
    ),
    "settings.above_max_duration": Plural(
        "maximum",
        one="This server allows clips of at most {maximum} second: please choose a shorter duration or another "
        "preset. Nothing was charged.",
        other="This server allows clips of at most {maximum} seconds: please choose a shorter duration or another "
        "preset. Nothing was charged.",
    ),
    "settings.above_max_steps": Plural(
        "maximum",
        one="This server allows at most {maximum} step per clip: please choose fewer steps or another preset. "
        "Nothing was charged.",
        other="This server allows at most {maximum} steps per clip: please choose fewer steps or another preset. "
        "Nothing was charged.",
    ),
    "settings.prompt_blocked": (
        "Your {field} contains words this server doesn't allow. Please rephrase it. Nothing was charged."
    ),
    "settings.prompt_blocked_age_restricted": (
        "Your {field} contains words this server allows only in age-restricted channels. Please rephrase it, or "
        "ask in an age-restricted channel. Nothing was charged."
    ),
    "settings.term_empty": "Please type the word or phrase. Nothing was changed.",
    "settings.term_too_long": "That term is too long: please keep it to {limit} characters. Nothing was changed.",
    "settings.term_too_many_words": "A term can be at most {limit} words. Nothing was changed.",
    "settings.term_too_broad": (
        "That term would refuse almost every prompt: it needs at least {limit} letters or digits besides `*`. "
        "Nothing was changed."
    ),
    "settings.list_full.channels": (
        "This server already lists {limit} channels for /video, the most it can. Remove one first. Nothing was changed."
    ),
    "settings.list_full.blocklist": (
        "This server's blocklist already holds {limit} terms, the most it can. Remove one first. Nothing was changed."
    ),
    "settings.unchanged.video_channel_add": "That channel is on the list already. Nothing was changed.",
    "settings.unchanged.video_channel_remove": "That channel isn't on the list. Nothing was changed.",
    "settings.unchanged.blocklist_add": (
        "That term is on the blocklist already, refused everywhere. Nothing was changed."
    ),
    "settings.unchanged.blocklist_add_sensitive": (
        "That term is on the blocklist already, refused outside age-restricted channels. Nothing was changed."
    ),
    "settings.unchanged.blocklist_remove": "That term isn't on this server's blocklist. Nothing was changed.",
    "settings.unchanged.blocklist_default": "The built-in blocklist is set that way already. Nothing was changed.",
    "settings.unchanged.sensitive_presets": "Sensitive presets are set that way already. Nothing was changed.",
    "settings.unchanged.preset_disable": "That preset is off here already. Nothing was changed.",
    "settings.unchanged.preset_enable": "That preset isn't turned off here. Nothing was changed.",
    "settings.unchanged.max_duration": "The longest clip is set to that already. Nothing was changed.",
    "settings.unchanged.max_steps": "The most steps are set to that already. Nothing was changed.",
    "settings.title": "**Safety settings in this server**",
    "settings.channels_anywhere": "/video: in any channel where I can post",
    "settings.channels_listed": "/video: only in {channels} and their threads",
    "settings.blocklist_summary": Plural(
        "count",
        one="Blocklist: {count} term of this server's · built-in list {default}",
        other="Blocklist: {count} terms of this server's · built-in list {default}",
    ),
    "settings.presets_all_on": "Presets: all on",
    "settings.presets_off": "Presets turned off here: {presets}",
    "settings.sensitive_on": "Presets marked sensitive: allowed in age-restricted channels only",
    "settings.sensitive_off": "Presets marked sensitive: not allowed",
    "settings.limits": "Longest clip: {duration} · most steps: {steps}",
    "settings.no_maximum": "the preset's own",
    "settings.blocklist_title": "**This server's blocklist**, refused in prompts and negative prompts:",
    "settings.blocklist_everywhere": "Everywhere: {terms}",
    "settings.blocklist_sensitive": "Outside age-restricted channels: {terms}",
    "settings.blocklist_empty": "This server has no terms of its own.",
    "settings.blocklist_default_on": "**The built-in list is on**, and adds:",
    "settings.blocklist_default_off": (
        "The built-in list is off (`/settings blocklist default enabled:true` switches it on)."
    ),
    "value.on": "on",
    "value.off": "off",
    "audit.video_channel_add": "/video allowed in {target}",
    "audit.video_channel_remove": "/video no longer listed for {target}",
    "audit.blocklist_add": "blocked {after} in prompts everywhere",
    "audit.blocklist_add_sensitive": "blocked {after} in prompts outside age-restricted channels",
    "audit.blocklist_remove": "unblocked {before}",
    "audit.blocklist_default": "built-in blocklist {before} → {after}",
    "audit.sensitive_presets": "sensitive presets in age-restricted channels {before} → {after}",
    "audit.preset_disable": "turned the preset {after} off",
    "audit.preset_enable": "turned the preset {before} back on",
    "audit.max_duration": "longest clip (seconds) {before} → {after}",
    "audit.max_steps": "most steps per clip {before} → {after}",
    # /help and the bot's presence
    "command.help": "How to make videos here: /video and its options, your credits, the buttons, the gallery",
    "help.error": "Something went wrong on my side. Please try /help again in a moment.",
    "help.title": "Making videos with this bot",
    "help.intro": (
        "Describe a scene and I turn it into a short AI-generated video, posted in the channel where you asked. "
        "Only you can see this message."
    ),
    "help.loading": (
        "**The video model is loading** (this takes a few minutes after the bot starts): videos you ask for now "
        "wait in the queue and render once it is ready."
    ),
    "help.video": "Only the prompt is required; the other options are up to you:",
    "help.option": "`{name}` · {description}",
    "help.video_answer": (
        "My first answer shows the settings I will use and what the video costs, and then how it is doing: "
        "**Cancel** there stops it and refunds it. {jobs} lists your recent videos."
    ),
    "help.flags_title": "Flags in the prompt",
    "help.flags": (
        "Used to other generators? End the prompt with these and I use them as options, and say so:\n"
        "`--ar 9:16` the aspect · `--seed 42` the seed · `--no text, logos` what the video should avoid"
    ),
    "help.credits_title": "Your credits in this server",
    "help.credits": (
        "Every video costs credits: more for a longer, larger or finer one, and more for a heavier model. "
        "Here you get {allowance} credits ({window}); you have {left} left, and more come {resets_at}."
    ),
    "help.credits_unlimited": "Every video costs credits, but your role here has no credit limit.",
    "help.credits_default": Plural(
        "cost",
        one="The default video costs {cost} credit. A video that fails or is cancelled is refunded. {quota_me} "
        "shows your credits at any time.",
        other="The default video costs {cost} credits. A video that fails or is cancelled is refunded. {quota_me} "
        "shows your credits at any time.",
    ),
    "help.banned": "A moderator has turned off videos for you in this server.",
    "help.buttons_title": "Buttons under a posted video",
    "help.buttons": (
        "**Star**: vote for it in the server's gallery (click again to take your star back)\n"
        "**Reroll**: the same settings with a new seed; the new video is yours, and costs your credits\n"
        "**Details**: every setting, the seed, how long it took, and a command that makes it again\n"
        "**Delete**: the member who asked for it, or a moderator, removes the post"
    ),
    "help.gallery_title": "The gallery",
    "help.gallery": (
        "Posted videos join this server's gallery: {recent}, {top} and {member} browse it. {optout} takes your "
        "videos out of it, past and future ({optin} brings them back), and {delete} removes one of yours for good."
    ),
    "help.moderators_title": "For moderators",
    "help.moderators": (
        "{quota} sets credits and their reset, {queue} pauses and orders the queue, {mod} bans members "
        "and shows the audit log, {settings} chooses where {video} works and which prompts it refuses."
    ),
    "status.model_loading": (
        "The video model is loading (this takes a few minutes after the bot starts): your video starts rendering "
        "once it is ready"
    ),
    "presence.loading": "Loading the video model…",
    "model.unavailable": (
        "The video model could not start on this bot, so I can't make videos right now. Nothing was charged; "
        "please try again later."
    ),
    "presence.queue": Plural(
        "count", one="{count} video in the queue · /help", other="{count} videos in the queue · /help"
    ),
}

CATALOGUES: Mapping[str, Catalogue] = {"en": ENGLISH, "vi": VIETNAMESE}
DEFAULT_LANGUAGE = "en"

NAMES: Mapping[str, Mapping[str, str]] = {"vi": VIETNAMESE_NAMES}
"""Per language but English: the names of commands ("/quota set-default", by their full English name) and of
options ("negative_prompt"), as Discord shows them to a member in that language (bot.translator)."""


def language_of(locale: str) -> str:
    """The catalogue a Discord locale ("vi", "en-US", "pt-BR") reads: its own language's, else English."""
    language = locale.split("-")[0].lower()
    return language if language in CATALOGUES else DEFAULT_LANGUAGE


@cache
def _babel_locale(language: str) -> Locale:
    return Locale.parse(language)


def text(key: str, locale: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """The words for key in the locale's language, with params filled in. A key missing from that language's
    catalogue (tests/bot/test_catalogues.py fails for it) reads in English rather than failing the message."""
    language = language_of(locale)
    entry = CATALOGUES[language].get(key)
    if entry is None:
        language, entry = DEFAULT_LANGUAGE, ENGLISH[key]
    if isinstance(entry, Plural):
        count = params[entry.by]
        assert isinstance(count, int)
        entry = entry.forms.get(_babel_locale(language).plural_form(count), entry.forms["other"])
    return entry.format(**params)


def described(key: str, /, **params: object) -> locale_str:
    """A command's, option's or choice's words for Discord: English, with its key and params for the translator
    (bot.translator), which gives Discord the other languages when the commands are synced. Params fill the
    placeholders in every language: `described("choice.seconds", seconds=5)` names a choice "5 seconds"."""
    return locale_str(text(key, DEFAULT_LANGUAGE, **params), key=key, **params)
