"""Strikes for blocklist refusals, on their own: the hold and when it ends are tested through screening
(tests/jobs/test_server_rules.py); here, that memory stays bounded however many members strike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.blocklist_strikes import HOLD, MAX_TRACKED, STRIKES, WINDOW, BlocklistStrikes
from jobs.errors import CoolingDown

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_members_whose_strikes_and_holds_ran_out_are_forgotten() -> None:
    strikes = BlocklistStrikes()
    for _ in range(STRIKES):
        strikes.strike((1, 0), START)  # held until START + HOLD
    for user_id in range(1, MAX_TRACKED):
        strikes.strike((1, user_id), START)
    assert strikes.tracked == MAX_TRACKED

    later = START + max(WINDOW, HOLD)
    strikes.strike((1, MAX_TRACKED), later)  # one member too many: the others' strikes and hold have run out
    assert strikes.tracked == 1
    strikes.check((1, 0), later)


def test_a_hold_is_per_member_of_a_server() -> None:
    strikes = BlocklistStrikes()
    for _ in range(STRIKES):
        strikes.strike((1, 7), START)
    with pytest.raises(CoolingDown):
        strikes.check((1, 7), START)
    strikes.check((2, 7), START)  # the same user in another server
    strikes.check((1, 8), START)
