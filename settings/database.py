"""The database section: which database, and the password in its URL that logs must never show."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from settings.environment import Environment

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/bot.db"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str

    def __repr__(self) -> str:  # a password in the URL must not reach a log line through a repr
        return f"DatabaseSettings(url={make_url(self.url)!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """A password in DATABASE_URL: kept out of the logs like the token."""
        password = make_url(self.url).password
        return (str(password),) if password else ()

    @classmethod
    def load(cls, env: Environment) -> DatabaseSettings:
        return cls(url=env.optional("DATABASE_URL", DEFAULT_DATABASE_URL, _checked_url))


def _checked_url(raw: str) -> str:
    try:
        make_url(raw)
    except ArgumentError:
        raise ValueError("is not a SQLAlchemy database URL (for example sqlite+aiosqlite:///data/bot.db)") from None
    return raw
