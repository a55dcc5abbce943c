"""Every language says everything: each catalogue has English's keys with the same placeholders, every key the code
names is in them, plurals take the right form, and the commands Discord shows a member carry their language's names
and descriptions, within Discord's rules.

The code is read, not run: its text() and described() calls and their keys are found in the source of bot/, so a
key used on a path no other test takes is checked all the same.
"""

from __future__ import annotations

import ast
import asyncio
import re
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_type_hints

import discord
import pytest
from babel import Locale
from discord.ext import commands

from bot.client import EXTENSIONS
from bot.exts.settings import SCOPES
from bot.messages import CATALOGUES, ENGLISH, NAMES, Entry, Plural, described, language_of, text
from bot.refusals import refusal_text
from bot.translator import CatalogueTranslator
from common.failures import FailureCode
from common.states import AuditAction, JobState, WindowKind
from jobs.errors import AboveServerMaximum, InvalidAmount, InvalidTerm, PromptRejected, SettingsListFull
from jobs.gallery import PRIVATE, PUBLIC, Order
from jobs.prompts import PromptField
from model.presets import ASPECTS
from model.prompts import PromptProblem

BOT = Path(__file__).parents[2] / "bot"
Payload = dict[str, Any]


def _literal_values(refusal: type, field_name: str) -> tuple[str, ...]:
    """The values a refusal's Literal-typed field can take."""
    return get_args(get_type_hints(refusal)[field_name])


def _actions_named_in(module: Path) -> tuple[str, ...]:
    """The AuditActions a module names (`AuditAction.MAX_STEPS`): the changes it makes, so may find made already."""
    tree = ast.parse(module.read_text())
    names = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "AuditAction"
    }
    return tuple(AuditAction[name].value for name in sorted(names))


# The keys the code builds from a value: the prefix it writes, and every value it can take.
KEY_FAMILIES: dict[str, tuple[str, ...]] = {
    "failure.": tuple(code.value for code in FailureCode),
    "state.": tuple(state.value for state in JobState),
    "audit.": tuple(action.value for action in AuditAction),
    "prompt.": get_args(PromptProblem),
    "field.": get_args(PromptField),
    "value.": (PUBLIC, PRIVATE),
    "choice.window.": tuple(kind.value for kind in WindowKind),
    "choice.aspect.": ASPECTS,
    "choice.scope.": SCOPES,
    "gallery.": tuple(f"{order}_{what}" for order in get_args(Order) for what in ("title", "empty")),
    "permission.": ("view_channel", "send_messages", "send_messages_in_threads", "attach_files", "embed_links"),
    "settings.above_max_": _literal_values(AboveServerMaximum, "option"),
    "settings.term_": _literal_values(InvalidTerm, "problem"),
    "settings.list_full.": _literal_values(SettingsListFull, "list_name"),
    "settings.unchanged.": _actions_named_in(BOT.parent / "jobs" / "server_rules.py"),
}

# Discord's rule for command and option names (its API reference): 1 to 32 letters, digits, "-", "_" or "'" (any
# script's letters), lowercase wherever the letter has a lowercase.
NAME_CHARACTERS = {"-", "_", "'"}
DESCRIPTION_LIMIT = 100


def placeholders(entry: Entry) -> set[str]:
    forms = entry.forms.values() if isinstance(entry, Plural) else (entry,)
    found = [{name for _, name, _, _ in string.Formatter().parse(form) if name} for form in forms]
    assert all(names == found[0] for names in found), entry  # every form of a plural says the same
    return found[0]


def test_every_catalogue_has_every_english_key_and_the_same_placeholders() -> None:
    for language, catalogue in CATALOGUES.items():
        assert sorted(set(ENGLISH) - set(catalogue)) == [], f"{language} lacks these keys"
        assert sorted(set(catalogue) - set(ENGLISH)) == [], f"{language} has keys English does not"
        for key, entry in catalogue.items():
            assert placeholders(entry) == placeholders(ENGLISH[key]), (language, key)


def test_every_entry_says_something_and_its_plurals_are_the_languages_own() -> None:
    for language, catalogue in CATALOGUES.items():
        categories = set(Locale.parse(language).plural_form.tags) | {"other"}
        for key, entry in catalogue.items():
            forms = entry.forms if isinstance(entry, Plural) else {"other": entry}
            assert all(form.strip() for form in forms.values()), (language, key)
            # Precomposed, as keyboards type it: "ộ" is one character, not "o" and two combining marks.
            assert all(unicodedata.is_normalized("NFC", form) for form in forms.values()), (language, key)
            assert set(forms) <= categories, (language, key, "has a form its language never chooses")
            if isinstance(entry, Plural):
                assert entry.by in placeholders(entry), (language, key)


def test_plurals_take_the_right_form_in_each_language() -> None:
    assert text("status.refunded", "en-US", credits=1) == "Your 1 credit was refunded."
    assert text("status.refunded", "en-GB", credits=2) == "Your 2 credits were refunded."
    assert text("status.refunded", "en-US", credits=0) == "Your 0 credits were refunded."
    assert text("jobs.title", "en-US", count=1).startswith("**Your last 1 job in this server**")
    # Vietnamese words do not change with a count.
    for credits in (0, 1, 2, 21):
        assert text("status.refunded", "vi", credits=credits) == f"Mình đã hoàn lại {credits} credit cho bạn."
    assert text("jobs.title", "vi", count=1).startswith("**1 yêu cầu gần nhất của bạn")


def test_a_members_locale_chooses_the_language() -> None:
    assert [language_of(locale) for locale in ("vi", "en-US", "en-GB", "pt-BR", "zh-CN", "es-419")] == [
        "vi",
        "en",
        "en",
        "en",
        "en",
        "en",
    ]
    assert text("post.seed", "vi") == "Seed" and text("post.model", "vi") == "Mô hình"
    assert text("post.model", "fr") == "Model"  # no French catalogue: English


def test_a_refusal_names_the_option_and_the_field_as_the_members_discord_shows_them() -> None:
    hour = InvalidAmount("reset_hour", 0, 23)
    assert refusal_text(hour, "vi") == "`giờ_làm_mới` phải là số nguyên từ 0 đến 23. Chưa có gì bị thay đổi."
    assert refusal_text(hour, "en-US") == "`reset_hour` must be a whole number from 0 to 23. Nothing was changed."
    too_long = PromptRejected("negative_prompt", "too_long", 1000)
    assert refusal_text(too_long, "vi") == "Phần loại trừ dài quá: bạn hãy viết dưới 1000 ký tự nhé."
    assert refusal_text(too_long, "en-US") == "That negative prompt is too long: please keep it under 1000 characters."


# ------------------------------------------------------------------ the keys the code names


@cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _calls(function: str) -> Iterator[tuple[Path, ast.Call]]:
    for path in sorted(BOT.rglob("*.py")):
        for node in ast.walk(_parsed(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function:
                yield path, node


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(BOT.parent)}:{getattr(node, 'lineno', '?')}"


def _literal_keys(node: ast.expr) -> Iterator[str]:
    """The keys an argument can be: a string, or each branch of a conditional (`"a" if x else "b"` is two)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literal_keys(node.body)
        yield from _literal_keys(node.orelse)


def _family(node: ast.JoinedStr) -> str:
    """The prefix an f-string key starts with, its literal part before the first value."""
    first = node.values[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""


def _keys_handed_over(tree: ast.AST) -> Iterator[tuple[ast.expr, str]]:
    """Keys chosen in one place and used in another: a command's error message (`extras={ERROR_MESSAGE: ...}`,
    `unexpected=...`) and a `key` variable."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "unexpected":
            values = [node.value]
        elif isinstance(node, ast.Dict):
            pairs = zip(node.keys, node.values, strict=True)
            values = [value for name, value in pairs if isinstance(name, ast.Name) and name.id == "ERROR_MESSAGE"]
        elif isinstance(node, ast.Assign) and [ast.unparse(target) for target in node.targets] == ["key"]:
            values = [node.value]
        else:
            continue
        for value in values:
            yield from ((value, key) for key in _literal_keys(value))


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    missing, unknown_families = [], []
    for function in ("text", "described"):
        for path, call in _calls(function):
            if not call.args:
                continue
            argument = call.args[0]
            if isinstance(argument, ast.JoinedStr):
                if _family(argument) not in KEY_FAMILIES:
                    unknown_families.append(f"{_where(path, call)}: {ast.unparse(argument)}")
                continue
            missing += [f"{_where(path, call)}: {key}" for key in _literal_keys(argument) if key not in ENGLISH]
    for path in sorted(BOT.rglob("*.py")):
        for node, key in _keys_handed_over(_parsed(path)):
            if key not in ENGLISH:
                missing.append(f"{_where(path, node)}: {key}")
    assert missing == []
    assert unknown_families == [], "a key built from a value: list the values it takes in KEY_FAMILIES"
    for prefix, values in KEY_FAMILIES.items():
        assert [value for value in values if f"{prefix}{value}" not in ENGLISH] == [], prefix


def test_the_permission_keys_name_discords_permissions() -> None:
    named = [key.removeprefix("permission.") for key in ENGLISH if key.startswith("permission.")]
    assert sorted(named) == sorted(KEY_FAMILIES["permission."])
    assert all(name in discord.Permissions.VALID_FLAGS for name in named)


def test_every_message_the_bot_writes_names_the_locale_it_is_written_in() -> None:
    """text() falls back to English without a locale: in the bot's own code, a message must say whose it is (a
    member's locale, a job's, or DEFAULT_LANGUAGE for what is everyone's, such as the presence)."""
    unlocalised = [_where(path, call) for path, call in _calls("text") if len(call.args) < 2]
    assert unlocalised == []


# ------------------------------------------------------------------ the commands, as Discord gets them


@cache
def synced_commands() -> tuple[Payload, ...]:
    """Every command of the bot as the sync sends it, with the translator's localizations: read offline, from the
    same extensions the bot loads."""

    async def translated() -> tuple[Payload, ...]:
        bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.none())
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        await bot.tree.set_translator(CatalogueTranslator())
        translator = bot.tree.translator
        assert translator is not None
        return tuple(
            [await command.get_translated_payload(bot.tree, translator) for command in bot.tree.get_commands()]
        )

    return asyncio.run(translated())


def _named(payloads: list[Payload] | tuple[Payload, ...], path: str = "") -> Iterator[tuple[str, Payload]]:
    """Each command, subcommand and option with its path: "/quota grant", "/quota grant credits"."""
    for payload in payloads:
        here = f"{path} {payload['name']}" if path else f"/{payload['name']}"
        yield here, payload
        yield from _named(payload.get("options") or [], here)


def _is_discord_name(name: str) -> bool:
    allowed = all(unicodedata.category(char)[0] in "LN" or char in NAME_CHARACTERS for char in name)
    precomposed = unicodedata.is_normalized("NFC", name)
    return 1 <= len(name) <= 32 and allowed and precomposed and name == name.lower()


@pytest.mark.parametrize("language", [language for language in CATALOGUES if language in NAMES])
def test_every_command_option_and_choice_has_its_name_and_words_in_each_language(language: str) -> None:
    untranslated, invalid = [], []
    for path, payload in _named(synced_commands()):
        names = payload.get("name_localizations") or {}
        descriptions = payload.get("description_localizations") or {}
        if language not in names or language not in descriptions:
            untranslated.append(path)
            continue
        if not _is_discord_name(names[language]):
            invalid.append(f"{path}: name {names[language]!r}")
        if not 1 <= len(descriptions[language]) <= DESCRIPTION_LIMIT:
            invalid.append(f"{path}: description of {len(descriptions[language])} characters")
        for choice in payload.get("choices") or []:
            choice_names = choice.get("name_localizations") or {}
            if language not in choice_names:
                untranslated.append(f"{path} choice {choice['name']}")
            elif not 1 <= len(choice_names[language]) <= DESCRIPTION_LIMIT:
                invalid.append(f"{path} choice {choice['name']}: {len(choice_names[language])} characters")
    assert untranslated == []
    assert invalid == []


@pytest.mark.parametrize("language", list(NAMES))
def test_every_name_in_a_language_belongs_to_a_command_or_option(language: str) -> None:
    commands_ = {path for path, payload in _named(synced_commands()) if payload.get("type", 1) in (1, 2)}
    options = {payload["name"] for _, payload in _named(synced_commands()) if payload.get("type", 1) > 2}
    stale = [name for name in NAMES[language] if name not in (commands_ if name.startswith("/") else options)]
    assert stale == []


def test_the_english_words_are_the_catalogues() -> None:
    """A choice named with described() shows English as the catalogue says, with its params."""
    assert described("choice.window.daily").message == ENGLISH["choice.window.daily"]
    assert described("option.preset_choice", preset="tiny", cost=1).message == "tiny · 1 credit for its default clip"
    assert described("option.preset_choice", preset="tiny", cost=3).extras == {
        "key": "option.preset_choice",
        "preset": "tiny",
        "cost": 3,
    }


# A command named in a message: "/" and its words, a group's subcommands among them, then maybe an option ("name:").
COMMAND_MENTION = re.compile(r"(?<![\w}/<:])/(\w[\w-]*(?: \w[\w-]*:?)*)")


@dataclass
class Shown:
    """A command as a member with one language sees it: its subcommands (a group) or its options."""

    children: dict[str, Shown] = field(default_factory=dict)
    options: set[str] = field(default_factory=set)


def _shown_commands(language: str) -> Shown:
    def name(payload: Payload) -> str:
        return str((payload.get("name_localizations") or {}).get(language, payload["name"]))

    def node(payload: Payload) -> Shown:
        inner = payload.get("options") or []
        return Shown(
            children={name(child): node(child) for child in inner if child["type"] in (1, 2)},
            options={name(option) for option in inner if option["type"] > 2},
        )

    return Shown(children={name(command): node(command) for command in synced_commands()})


def _wrongly_named(words: str, commands_: Shown) -> str | None:
    """What is wrong with "/a b c:" as a command and its option, or None."""
    first, *rest = words.split()
    node = commands_.children.get(first)
    if node is None:
        return f"/{first}"
    path = f"/{first}"
    while rest and rest[0] in node.children:
        path += f" {rest[0]}"
        node = node.children[rest.pop(0)]
    if node.children:
        return f"{path} needs one of its subcommands"
    if rest and rest[0].endswith(":") and rest[0][:-1] not in node.options:
        return f"{path} {rest[0]}"
    return None  # any other word after a command is the sentence going on


@pytest.mark.parametrize("language", list(CATALOGUES))
def test_the_commands_a_message_names_are_named_as_the_member_sees_them(language: str) -> None:
    commands_, wrong = _shown_commands(language), []
    for key, entry in CATALOGUES[language].items():
        for words in entry.forms.values() if isinstance(entry, Plural) else (entry,):
            for mention in COMMAND_MENTION.findall(words):
                if (why := _wrongly_named(mention, commands_)) is not None:
                    wrong.append(f"{key}: {why}")
    assert wrong == []
