"""The bot's commands in every language it has a catalogue for: names, descriptions, options and choices.

When the commands are synced, discord.py asks the tree's translator for each string of each command in each of
Discord's locales; the synced payload carries the answers as name_localizations and description_localizations, so
Discord shows a member the command list in their client's language. Descriptions and choices carry their catalogue
key (bot.messages.described). Names need none: a command is looked up by its full English name ("/quota
set-default") and an option by its own ("negative_prompt") in the language's NAMES, so a new command needs catalogue
entries only. English is the commands' own language; whatever has no translation, Discord shows in English.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.messages import CATALOGUES, DEFAULT_LANGUAGE, NAMES, language_of, text

COMMAND_NAMES = (TranslationContextLocation.command_name, TranslationContextLocation.group_name)
COMMANDS = (app_commands.Command, app_commands.Group, app_commands.ContextMenu)


class CatalogueTranslator(app_commands.Translator):
    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        language = language_of(locale.value)
        if language == DEFAULT_LANGUAGE:
            return None
        return translated(string, language, context)


def translated(string: locale_str, language: str, context: TranslationContextTypes) -> str | None:
    """A command's, option's or choice's words in a language with a catalogue; None where it has none."""
    key = string.extras.get("key")
    if key is not None:
        if key not in CATALOGUES[language]:
            return None  # not translated yet: Discord shows the English
        params = {name: value for name, value in string.extras.items() if name != "key"}
        return text(key, language, **params)
    if context.location is TranslationContextLocation.parameter_name:
        return NAMES[language].get(string.message)
    if context.location in COMMAND_NAMES and isinstance(context.data, COMMANDS):
        return NAMES[language].get(f"/{context.data.qualified_name}")
    return None


def option_name(name: str, locale: str) -> str:
    """An option as the member's Discord shows it, for a message that names it."""
    return NAMES.get(language_of(locale), {}).get(name, name)
