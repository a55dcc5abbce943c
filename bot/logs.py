"""Log set-up. Secrets are cut out of every formatted line, whoever logged it."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "[redacted]"

# Interaction and webhook tokens sit in the URL path; discord.py logs those URLs at DEBUG,
# and a token lets its holder edit the bot's replies for 15 minutes.
_TOKEN_IN_URL = re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/?\s'\"]+")


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.secrets = tuple(secret for secret in secrets if secret)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)  # includes the traceback, which can quote a secret too
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return _TOKEN_IN_URL.sub(rf"\g<1>{REDACTED}", line)


# discord.py warns at every start that voice will not work without these; this bot has no voice.
_VOICE_WARNINGS = frozenset(
    {
        ("discord.client", "PyNaCl is not installed, voice will NOT be supported"),
        ("discord.client", "davey is not installed, voice will NOT be supported"),
    }
)


class VoiceWarningFilter(logging.Filter):
    """Drops discord.py's "voice will NOT be supported" warnings, and nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.name, record.msg) not in _VOICE_WARNINGS


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(VoiceWarningFilter())
    handler.setFormatter(RedactingFormatter(secrets, "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Below DEBUG, per-request chatter from these would drown the bot's own lines.
    for noisy in ("discord", "aiosqlite"):
        logging.getLogger(noisy).setLevel(level if level == "DEBUG" else logging.WARNING)
