"""Flags that members used to other generators type into the prompt (`--ar 9:16`, `--seed 42`, `--no text`).

apply_flags takes the flags it knows out of the prompt and applies them as if given as /video options (by the names
of jobs.clip_options), and reports what it did as data, so the first answer can say so:

- A known flag's value goes through its option's own check, so `--ar 4:3` is refused like `aspect:4:3` would be. A
  known flag with nothing after it (`a fox --seed`) is refused (FlagWithoutValue): the member meant something by it.
- `--no` (and `--neg`, `--negative`) takes every word up to the next flag or the end: the negative prompt.
- An option given explicitly wins over a flag for the same option, and a later flag over an earlier one; the flag
  that lost is taken out of the prompt all the same, and reported as ignored.
- A `--` word it does not know (`--v 6`, `--stylize`) stays in the prompt, since it may be meant as text, and is
  reported as unknown; it takes no value, so nothing after it moves.
- `—` and `–` count as `--` for the flags it knows (phones turn `--` into a dash), and `--ar=9:16` as `--ar 9:16`.

Only the prompt is read for flags, never the negative prompt. Parsing is one linear scan with no regular expression,
bounded by MAX_SCAN_CHARS (a longer prompt is left as it is, for the prompt check to refuse): whatever the text, it
raises nothing but a RequestRefused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from jobs.clip_options import PRESET_OPTION
from jobs.errors import FlagWithoutValue
from model.prompts import MAX_PROMPT_CHARS

MAX_SCAN_CHARS = 4 * MAX_PROMPT_CHARS
MAX_FLAG_NAME_CHARS = 16
MAX_NUMBER_DIGITS = 12
"""Longer digit strings are kept as text (the option's check refuses them) rather than made into huge numbers."""
MAX_SHOWN_CHARS = 60
"""A flag as reported: a hostile value is cut short, not echoed whole."""
DASHES = ("--", "—", "–")

NEGATIVE = "negative_prompt"
FLAG_OPTIONS: Mapping[str, str] = {
    "ar": "aspect",
    "aspect": "aspect",
    "seed": "seed",
    "no": NEGATIVE,
    "neg": NEGATIVE,
    "negative": NEGATIVE,
    "steps": "steps",
    "duration": "duration",
    "dur": "duration",
    "preset": PRESET_OPTION,
    "model": PRESET_OPTION,
}
"""Each flag name a member may type (lowercase), and the /video option it sets."""
WHOLE_NUMBER_OPTIONS = frozenset({"seed", "steps", "duration"})
SECONDS_SUFFIXES = ("seconds", "second", "secs", "sec", "s")


class IgnoredBecause(StrEnum):
    OPTION = "option"
    """The member gave the option itself, which wins."""
    REPEATED = "repeated"
    """A later flag for the same option replaced it."""


@dataclass(frozen=True, slots=True)
class Flag:
    option: str
    """The /video option it sets."""
    value: object
    """A whole number where the option takes one and the member typed one, else the text typed."""
    written: str
    """As typed (`--ar 9:16`), at most MAX_SHOWN_CHARS."""


@dataclass(frozen=True, slots=True)
class IgnoredFlag:
    flag: Flag
    because: IgnoredBecause


@dataclass(frozen=True, slots=True)
class FlagReport:
    """What the prompt's flags did."""

    applied: tuple[Flag, ...] = ()
    ignored: tuple[IgnoredFlag, ...] = ()
    unknown: tuple[str, ...] = ()
    """Flag-like words left in the prompt, as typed (at most MAX_SHOWN_CHARS each)."""

    def __bool__(self) -> bool:
        return bool(self.applied or self.ignored or self.unknown)


def apply_flags(options: Mapping[str, object]) -> tuple[dict[str, object], FlagReport]:
    """The options with the prompt's flags taken out of it and applied, and what they did."""
    prompt = options.get("prompt")
    if not isinstance(prompt, str) or len(prompt) > MAX_SCAN_CHARS or not any(dash in prompt for dash in DASHES):
        return dict(options), FlagReport()  # most prompts: no scan at all
    remaining, flags, unknown = parse_flags(prompt)
    if not flags:
        return dict(options), FlagReport(unknown=unknown)
    applied: dict[str, Flag] = {}
    ignored: list[IgnoredFlag] = []
    for flag in flags:
        if options.get(flag.option) is not None:
            ignored.append(IgnoredFlag(flag, IgnoredBecause.OPTION))
            continue
        replaced = applied.pop(flag.option, None)
        if replaced is not None:
            ignored.append(IgnoredFlag(replaced, IgnoredBecause.REPEATED))
        applied[flag.option] = flag
    merged = {**options, "prompt": remaining, **{option: flag.value for option, flag in applied.items()}}
    return merged, FlagReport(tuple(applied.values()), tuple(ignored), unknown)


def parse_flags(prompt: str) -> tuple[str, tuple[Flag, ...], tuple[str, ...]]:
    """The prompt without its known flags (the text between them as typed, joined by single spaces), those flags in
    the order typed, and the unknown flag-like words."""
    text = prompt[:MAX_SCAN_CHARS]
    words = list(_words(text))
    flags: list[Flag] = []
    unknown: list[str] = []
    kept: list[str] = []
    kept_from = 0  # where the text not yet kept or taken out starts
    index = 0
    while index < len(words):
        start, end = words[index]
        word = text[start:end]
        name, inline_value = _flag_name(word)
        option = FLAG_OPTIONS.get(name) if name is not None else None
        if option is None:
            if name is not None and word.startswith("--"):
                unknown.append(word[:MAX_SHOWN_CHARS])
            index += 1
            continue
        if inline_value:
            value, value_end, index = inline_value, end, index + 1
        else:
            after = _value_end(text, words, index + 1, whole_rest=option == NEGATIVE)
            if after == index + 1:
                raise FlagWithoutValue(word[:MAX_SHOWN_CHARS])
            value_end = words[after - 1][1]
            value, index = text[words[index + 1][0] : value_end], after
        flags.append(Flag(option, _typed(option, value), text[start:value_end][:MAX_SHOWN_CHARS]))
        kept.append(text[kept_from:start])
        kept_from = value_end
    if not flags:
        return prompt, (), tuple(unknown)
    kept.append(text[kept_from:])
    return " ".join(part.strip() for part in kept if part.strip()), tuple(flags), tuple(unknown)


def _words(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of non-space characters."""
    index, length = 0, len(text)
    while index < length:
        while index < length and text[index].isspace():
            index += 1
        start = index
        while index < length and not text[index].isspace():
            index += 1
        if index > start:
            yield start, index


def _flag_name(word: str) -> tuple[str | None, str]:
    """A flag-like word's name (lowercase) and any value written after '=', or (None, "") for any other word."""
    dash = next((dash for dash in DASHES if word.startswith(dash)), None)
    if dash is None:
        return None, ""
    name, _, value = word[len(dash) :].partition("=")
    if not (1 <= len(name) <= MAX_FLAG_NAME_CHARS and name.isascii() and name.isalpha()):
        return None, ""
    return name.lower(), value


def _value_end(text: str, words: list[tuple[int, int]], first: int, *, whole_rest: bool) -> int:
    """The index of the word after the flag's value: one word, or for the negative prompt every word up to the next
    flag-like word."""
    last = first
    while last < len(words) and _flag_name(text[words[last][0] : words[last][1]])[0] is None:
        last += 1
        if not whole_rest:
            break
    return last


def _typed(option: str, value: str) -> object:
    if option == PRESET_OPTION:
        return value.lower()
    if option not in WHOLE_NUMBER_OPTIONS:
        return value
    number = value.lower()
    if option == "duration":
        number = next((number.removesuffix(suffix) for suffix in SECONDS_SUFFIXES if number.endswith(suffix)), number)
    if number.isascii() and number.isdecimal() and len(number) <= MAX_NUMBER_DIGITS:
        return int(number)
    return value
