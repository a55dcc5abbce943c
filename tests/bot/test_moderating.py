"""Moderator replies: audit pages within Discord's message limit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.audit_pages import MESSAGE_LIMIT, audit_message
from common.states import AuditAction
from jobs.moderation import MAX_REASON_CHARS, AuditPage, AuditView

ACTOR_ID, TARGET_ID = 701_224_690_812_584_101, 701_224_690_812_584_102


def ban(entry_id: int, reason: str) -> AuditView:
    when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
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
