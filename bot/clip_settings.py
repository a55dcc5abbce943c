"""/video's first answer: the settings a clip will be rendered with and what the prompt's flags did, as an embed.
Details (bot.clip_details) shows a posted clip's settings with the same fields (clip_settings).

The embed is the requester's status message's from the first answer on: the status edits that follow change its
content and its button, never its embeds, so the settings stay in view while the job waits and renders.
"""

from __future__ import annotations

import discord

from bot.formatting import safe_user_text
from bot.messages import NAMES, language_of, text
from jobs.clip_options import aspect_of
from jobs.prompt_flags import FlagReport, IgnoredBecause
from jobs.requests import ValidRequest
from model.contract import ClipSpec
from model.presets import Preset

FIELD_VALUE_LIMIT = 1024
SETTINGS_COLOUR = discord.Colour(0x5865F2)


def settings_embed(valid: ValidRequest, locale: str) -> discord.Embed:
    embed = discord.Embed(title=text("video.settings_title", locale), colour=SETTINGS_COLOUR)
    for name, value in clip_settings(valid.preset, valid.clip, locale):
        embed.add_field(name=name, value=value, inline=True)
    if valid.clip.negative_prompt and valid.clip.negative_prompt != valid.preset.negative_prompt:
        negative = safe_user_text(valid.clip.negative_prompt, FIELD_VALUE_LIMIT)
        embed.add_field(name=text("video.setting_negative_prompt", locale), value=negative, inline=False)
    if valid.flags:
        embed.add_field(
            name=text("video.setting_flags", locale), value=_fitting(flag_lines(valid.flags, locale)), inline=False
        )
    return embed


def clip_settings(preset: Preset | None, clip: ClipSpec, locale: str) -> list[tuple[str, str]]:
    """(name, value) of each setting a member chooses, the prompts aside: preset, aspect and size, duration and
    frames at fps, steps and seed. `preset` is the clip's, or None where this bot no longer has it (no aspect then)."""
    aspect = (aspect_of(preset, clip.width, clip.height) if preset is not None else None) or "—"
    seconds = text("value.seconds", locale, seconds=round((clip.frames - 1) / clip.fps))
    return [
        (text("video.setting_preset", locale), f"`{clip.preset_id}`"),
        (
            text("video.setting_size", locale),
            text("video.size_value", locale, aspect=aspect, width=clip.width, height=clip.height),
        ),
        (
            text("video.setting_duration", locale),
            text("video.duration_value", locale, seconds=seconds, frames=clip.frames, fps=clip.fps),
        ),
        (text("video.setting_steps", locale), str(clip.steps)),
        (text("video.setting_seed", locale), f"`{clip.seed}`"),
    ]


def flag_lines(report: FlagReport, locale: str) -> list[str]:
    """One line per flag typed in the prompt: applied, ignored (and why), or unknown and left in the prompt."""
    lines = [text("flag.applied", locale, flag=_code(flag.written)) for flag in report.applied]
    for ignored in report.ignored:
        key = "flag.ignored_option" if ignored.because is IgnoredBecause.OPTION else "flag.ignored_repeated"
        option = NAMES.get(language_of(locale), {}).get(ignored.flag.option, ignored.flag.option)  # as Discord shows it
        lines.append(text(key, locale, flag=_code(ignored.flag.written), option=option))
    lines.extend(text("flag.unknown", locale, flag=_code(written)) for written in report.unknown)
    return lines


def _fitting(lines: list[str]) -> str:
    """As many whole lines as a field holds (a prompt may hold dozens of flags)."""
    shown: list[str] = []
    for line in lines:
        if sum(len(kept) + 1 for kept in shown) + len(line) > FIELD_VALUE_LIMIT:
            break
        shown.append(line)
    return "\n".join(shown)


def _code(written: str) -> str:
    """A flag as typed, safe inside backticks (it is cut short already: jobs.prompt_flags.MAX_SHOWN_CHARS)."""
    return " ".join(written.replace("`", "'").split())
