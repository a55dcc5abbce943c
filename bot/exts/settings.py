"""/settings: a server's safety settings for videos, for its moderators. What each one means for /video (and the
Reroll button) is jobs.server_rules'; the blocklist's matching is jobs.blocklist's.

Hidden from members (default_member_permissions) and checked again on every invocation; every change is audited
(jobs.server_rules) and shows in /mod audit. Every answer is ephemeral and pings no one, so the blocklist is seen by
moderators alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.errors import ERROR_MESSAGE
from bot.mentions import NOBODY
from bot.messages import described, text
from bot.moderating import moderate, moderated, reply
from jobs.blocklist import MAX_TERM_CHARS
from jobs.clip_options import MAX_DURATION_SECONDS
from jobs.default_blocklist import REFUSED_EVERYWHERE, REFUSED_OUTSIDE_AGE_RESTRICTED
from jobs.errors import InvalidChoice
from jobs.moderation import AuditView, Moderator
from jobs.server_rules import ServerRules
from model.presets import MAX_STEPS

if TYPE_CHECKING:
    from bot.client import VideoBot

MESSAGE_LIMIT = 2000
BETWEEN_TERMS = "`, `"  # where a list of terms may be cut: a term itself has no backtick (_codes)
MAX_CHOICES = 25
EVERYWHERE, OUTSIDE_AGE_RESTRICTED = "everywhere", "outside_age_restricted"
SCOPES = (EVERYWHERE, OUTSIDE_AGE_RESTRICTED)
SCOPE_CHOICES = [app_commands.Choice(name=described(f"choice.scope.{scope}"), value=scope) for scope in SCOPES]

Term = app_commands.Range[str, 1, MAX_TERM_CHARS]
Seconds = app_commands.Range[int, 0, MAX_DURATION_SECONDS]
Steps = app_commands.Range[int, 0, MAX_STEPS]


class PostingChannel(app_commands.Transformer):
    """A channel where members can ask for a clip, as its id: a text chat (voice and stage channels have one too), or
    a forum, whose posts are its threads."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        kinds = discord.ChannelType
        return [kinds.text, kinds.news, kinds.voice, kinds.stage_voice, kinds.forum]

    async def transform(self, interaction: discord.Interaction[discord.Client], value: object) -> int:
        assert isinstance(value, app_commands.AppCommandChannel | app_commands.AppCommandThread)
        return value.id


ChannelId = app_commands.Transform[int, PostingChannel]


class Settings(commands.Cog):
    settings = app_commands.Group(
        name="settings",
        description=described("command.settings"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
        extras={ERROR_MESSAGE: "mod.error"},
    )
    channels = app_commands.Group(name="channels", description=described("command.settings.channels"), parent=settings)
    blocklist = app_commands.Group(
        name="blocklist", description=described("command.settings.blocklist"), parent=settings
    )
    presets = app_commands.Group(name="presets", description=described("command.settings.presets"), parent=settings)

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    async def _rules(self, interaction: discord.Interaction[VideoBot]) -> ServerRules:
        assert interaction.guild_id is not None  # the moderator check passed
        return await self.bot.server_rules.rules(interaction.guild_id)

    @settings.command(name="show", description=described("command.settings.show"))
    @moderator_only()
    async def show(self, interaction: discord.Interaction[VideoBot]) -> None:
        await reply(interaction, settings_message(await self._rules(interaction), str(interaction.locale)))

    # -- where /video may be used ------------------------------------------------------

    @channels.command(name="add", description=described("command.settings.channels.add"))
    @moderator_only()
    @app_commands.describe(channel=described("option.channel"))
    async def add_channel(self, interaction: discord.Interaction[VideoBot], channel: ChannelId) -> None:
        await moderate(interaction, lambda moderator: self.bot.server_rules.add_channel(moderator, channel))

    @channels.command(name="remove", description=described("command.settings.channels.remove"))
    @moderator_only()
    @app_commands.describe(channel=described("option.channel"))
    async def remove_channel(self, interaction: discord.Interaction[VideoBot], channel: ChannelId) -> None:
        await moderate(interaction, lambda moderator: self.bot.server_rules.remove_channel(moderator, channel))

    @channels.command(name="list", description=described("command.settings.channels.list"))
    @moderator_only()
    async def list_channels(self, interaction: discord.Interaction[VideoBot]) -> None:
        await reply(interaction, channels_line(await self._rules(interaction), str(interaction.locale)))

    # -- the blocklist -----------------------------------------------------------------

    @blocklist.command(name="add", description=described("command.settings.blocklist.add"))
    @moderator_only()
    @app_commands.describe(term=described("option.term"), scope=described("option.scope"))
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def block(self, interaction: discord.Interaction[VideoBot], term: Term, scope: str = EVERYWHERE) -> None:
        async def add(moderator: Moderator) -> AuditView:
            # Discord does not check a command's choices: anything else is refused politely.
            if scope not in SCOPES:
                raise InvalidChoice("scope", SCOPES)
            return await self.bot.server_rules.block(moderator, term, sensitive=scope == OUTSIDE_AGE_RESTRICTED)

        await moderate(interaction, add)

    @blocklist.command(name="remove", description=described("command.settings.blocklist.remove"))
    @moderator_only()
    @app_commands.describe(term=described("option.term"))
    async def unblock(self, interaction: discord.Interaction[VideoBot], term: Term) -> None:
        await moderate(interaction, lambda moderator: self.bot.server_rules.unblock(moderator, term))

    @blocklist.command(name="list", description=described("command.settings.blocklist.list"))
    @moderator_only()
    async def list_terms(self, interaction: discord.Interaction[VideoBot]) -> None:
        messages = split_lines(blocklist_lines(await self._rules(interaction), str(interaction.locale)))
        await reply(interaction, messages[0])
        for message in messages[1:]:  # a long list: the rest follows, seen by the moderator alone too
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=NOBODY)

    @blocklist.command(name="default", description=described("command.settings.blocklist.default"))
    @moderator_only()
    @app_commands.describe(enabled=described("option.enabled"))
    async def default_blocklist(self, interaction: discord.Interaction[VideoBot], enabled: bool) -> None:
        await moderate(interaction, lambda moderator: self.bot.server_rules.set_default_blocklist(moderator, enabled))

    # -- presets -----------------------------------------------------------------------

    @presets.command(name="disable", description=described("command.settings.presets.disable"))
    @moderator_only()
    @app_commands.describe(preset=described("option.settings_preset"))
    async def disable_preset(self, interaction: discord.Interaction[VideoBot], preset: str) -> None:
        await moderate(interaction, lambda moderator: self.bot.server_rules.disable_preset(moderator, preset))

    @presets.command(name="enable", description=described("command.settings.presets.enable"))
    @moderator_only()
    @app_commands.describe(preset=described("option.settings_preset"))
    async def enable_preset(self, interaction: discord.Interaction[VideoBot], preset: str) -> None:
        await moderate(interaction, lambda moderator: self.bot.server_rules.enable_preset(moderator, preset))

    @disable_preset.autocomplete("preset")
    @enable_preset.autocomplete("preset")
    async def preset_choices(
        self, interaction: discord.Interaction[VideoBot], typed: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=preset_id, value=preset_id)
            for preset_id in self.bot.server_rules.presets
            if typed.lower() in preset_id
        ][:MAX_CHOICES]

    @presets.command(name="sensitive", description=described("command.settings.presets.sensitive"))
    @moderator_only()
    @app_commands.describe(allow=described("option.allow_sensitive"))
    async def sensitive_presets(self, interaction: discord.Interaction[VideoBot], allow: bool) -> None:
        await moderate(interaction, lambda moderator: self.bot.server_rules.set_sensitive_presets(moderator, allow))

    # -- the server's maxima -------------------------------------------------------------

    @settings.command(name="limits", description=described("command.settings.limits"))
    @moderator_only()
    @app_commands.describe(max_seconds=described("option.max_seconds"), max_steps=described("option.max_steps"))
    async def limits(
        self,
        interaction: discord.Interaction[VideoBot],
        max_seconds: Seconds | None = None,
        max_steps: Steps | None = None,
    ) -> None:
        """With no option, the limits as they are; with some, the changes made (each audited; refused only when
        none would change anything), then the limits."""
        lines = []
        if max_seconds is not None or max_steps is not None:
            service = self.bot.server_rules
            lines.append(
                await moderated(
                    interaction,
                    lambda moderator: service.set_limits(moderator, seconds=max_seconds, steps=max_steps),
                )
            )
        lines.append(limits_line(await self._rules(interaction), str(interaction.locale)))
        await reply(interaction, "\n".join(lines))


def settings_message(rules: ServerRules, locale: str) -> str:
    default = text("value.on" if rules.default_blocklist else "value.off", locale)
    disabled = sorted(rules.disabled_presets)
    return "\n".join(
        (
            text("settings.title", locale),
            channels_line(rules, locale),
            text("settings.blocklist_summary", locale, count=len(rules.terms), default=default),
            text("settings.presets_off", locale, presets=_codes(disabled))
            if disabled
            else text("settings.presets_all_on", locale),
            text("settings.sensitive_on" if rules.sensitive_presets else "settings.sensitive_off", locale),
            limits_line(rules, locale),
        )
    )


def channels_line(rules: ServerRules, locale: str) -> str:
    if not rules.channel_ids:
        return text("settings.channels_anywhere", locale)
    channels = ", ".join(f"<#{channel_id}>" for channel_id in sorted(rules.channel_ids))
    return text("settings.channels_listed", locale, channels=channels)


def limits_line(rules: ServerRules, locale: str) -> str:
    own = text("settings.no_maximum", locale)
    seconds = rules.max_duration_seconds
    duration = own if seconds is None else text("value.seconds", locale, seconds=seconds)
    steps = own if rules.max_steps is None else str(rules.max_steps)
    return text("settings.limits", locale, duration=duration, steps=steps)


def blocklist_lines(rules: ServerRules, locale: str) -> list[str]:
    """The server's terms by where they are refused, then the built-in list's if it is on."""
    lines = [text("settings.blocklist_title", locale)]
    lines += _scoped(
        [term.term for term in rules.terms if not term.sensitive],
        [term.term for term in rules.terms if term.sensitive],
        locale,
    ) or [text("settings.blocklist_empty", locale)]
    if rules.default_blocklist:
        lines.append(text("settings.blocklist_default_on", locale))
        lines += _scoped(REFUSED_EVERYWHERE, REFUSED_OUTSIDE_AGE_RESTRICTED, locale)
    else:
        lines.append(text("settings.blocklist_default_off", locale))
    return lines


def _scoped(everywhere: Iterable[str], sensitive: Iterable[str], locale: str) -> list[str]:
    lines = []
    if shown := _codes(everywhere):
        lines.append(text("settings.blocklist_everywhere", locale, terms=shown))
    if shown := _codes(sensitive):
        lines.append(text("settings.blocklist_sensitive", locale, terms=shown))
    return lines


def _codes(values: Iterable[str]) -> str:
    """Each as inline code, unable to close it: a term shows as typed, with no markdown or mention in effect."""
    return ", ".join("`" + value.replace("`", "'") + "`" for value in values)


def split_lines(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """The lines in as few messages of at most `limit` characters as they fit in: a line that does not fit in what is
    left of a message is cut between two terms, and goes on in the next one."""
    messages: list[str] = []
    current = ""
    for line in lines:
        while line:
            room = limit - len(current) - 1 if current else limit
            if len(line) <= room:
                current = f"{current}\n{line}" if current else line
                break
            found = line.rfind(BETWEEN_TERMS, 0, room)
            cut = found + 2 if found >= 0 else 0  # after a term's closing backtick and its comma
            if not cut and current:  # not one more term fits here: the line starts the next message
                messages.append(current)
                current = ""
                continue
            piece, line = line[: cut or limit], line[cut or limit :].lstrip()
            messages.append(f"{current}\n{piece}" if current else piece)
            current = ""
    return [*messages, current] if current else messages


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(Settings(bot))
