"""Moderator replies: audit pages within Discord's message limit, and an answer even when something breaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
from discord import app_commands

import bot.moderating
from bot.audit_pages import MESSAGE_LIMIT, audit_message
from bot.exts.mod import Mod
from bot.exts.quota import Quota
from bot.moderating import moderate
from jobs.moderation import MAX_REASON_CHARS, AuditAction, AuditPage, AuditView, Moderator

ACTOR_ID, TARGET_ID = 701_224_690_812_584_101, 701_224_690_812_584_102


def ban(entry_id: int, reason: str) -> AuditView:
    when = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    return AuditView(entry_id, ACTOR_ID, AuditAction.BAN, TARGET_ID, None, f"banned: {reason}"[:200], when)


def test_a_page_of_long_ban_reasons_fits_in_one_message_and_the_rest_moves_to_the_next_page() -> None:
    reason = "**@everyone** _look_ " * 20
    page = AuditPage(tuple(ban(entry_id, reason[:MAX_REASON_CHARS]) for entry_id in range(20, 10, -1)), 10)

    content, shown = audit_message(page, "en-US")

    assert len(content) <= MESSAGE_LIMIT
    assert 1 <= len(shown.entries) < len(page.entries)
    assert shown.entries == page.entries[: len(shown.entries)]
    assert shown.older_than == shown.entries[-1].id  # the next page starts with the first entry left out
    assert content.count("\n") == len(shown.entries)  # the title, then one line per entry shown
    assert "@everyone" not in content and "**@" not in content


def test_a_page_that_fits_is_shown_whole() -> None:
    page = AuditPage(tuple(ban(entry_id, "spam") for entry_id in range(10, 0, -1)), None)
    content, shown = audit_message(page, "en-US")
    assert shown == page and content.count("(banned: spam)") == 10


@dataclass
class Response:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, content: str, **extra: Any) -> None:
        self.sent.append({"content": content, **extra})


@dataclass
class User:
    id: int = ACTOR_ID


@dataclass
class Interaction:
    guild_id: int = 1
    locale: str = "en-US"
    user: User = field(default_factory=User)
    response: Response = field(default_factory=Response)


async def test_an_unexpected_error_in_a_moderator_command_still_gets_an_ephemeral_answer(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def anyone(interaction: object) -> bool:
        return True

    async def broken(moderator: Moderator) -> AuditView:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(bot.moderating, "is_moderator", anyone)
    interaction = Interaction()

    await moderate(interaction, broken)  # type: ignore[arg-type]

    [answer] = interaction.response.sent
    assert "Something went wrong" in answer["content"] and answer["ephemeral"] is True
    assert "the database went away" in caplog.text


async def test_a_moderator_cog_answers_an_error_its_handler_did_not_catch() -> None:
    interaction = Interaction()
    await Mod.cog_app_command_error(None, interaction, app_commands.AppCommandError("boom"))  # type: ignore[arg-type]
    await Quota.cog_app_command_error(None, interaction, app_commands.AppCommandError("boom"))  # type: ignore[arg-type]
    [answer] = interaction.response.sent  # answered once: the second found the interaction already answered
    assert "Something went wrong" in answer["content"] and answer["ephemeral"] is True
