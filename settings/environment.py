"""The settings as given: the process environment over `.env`, and how each raw value is read.

A missing or malformed value raises SettingsError with one line that names the setting, so a
process can stop with exit status 2 and that line instead of a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values

T = TypeVar("T")

DOTENV = Path(".env")


class SettingsError(Exception):
    """One setting is missing or malformed; the message names it."""


class Environment:
    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = {key: value.strip() for key, value in values.items()}

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None, dotenv_path: Path | None = DOTENV) -> Environment:
        """`environ` (default: os.environ) over the file at dotenv_path, if there is one."""
        from_file = dotenv_values(dotenv_path) if dotenv_path is not None and dotenv_path.is_file() else {}
        merged = {key: value for key, value in from_file.items() if value is not None}
        merged.update(os.environ if environ is None else environ)
        return cls(merged)

    def raw(self, name: str) -> str:
        """The value as given, "" when unset."""
        return self._values.get(name, "")

    def required(self, name: str) -> str:
        raw = self.raw(name)
        if not raw:
            raise SettingsError(f"{name} is not set: put it in the environment or in .env (see .env.example)")
        return raw

    def optional(self, name: str, default: T, parse: Callable[[str], T]) -> T:
        raw = self.raw(name)
        if not raw:
            return default
        try:
            return parse(raw)
        except ValueError as error:
            raise SettingsError(f"{name} {error}") from None


# Parsers raise ValueError with a message that reads after the setting's name.


def snowflake(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 2**64:
        raise ValueError(f"must be a Discord server id (digits only), got {raw!r}")
    return int(raw)


def whole_number(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not raw.isdigit() or not minimum <= int(raw) <= maximum:
            raise ValueError(f"must be a whole number from {minimum} to {maximum}, got {raw!r}")
        return int(raw)

    return parse


def url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        scheme, _, rest = raw.partition("://")
        if scheme not in schemes or not rest:
            raise ValueError(f"must be a {' or '.join(schemes)} URL, got {raw!r}")
        return raw.rstrip("/")

    return parse


def one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {raw!r}")
        return raw

    return parse
