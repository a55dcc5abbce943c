from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.formatting import progress_bar, safe_user_text, seconds


def test_mentions_and_markdown_are_neutralised() -> None:
    shown = safe_user_text("@everyone look **here** <@&123456789012345678>", 200)
    assert "@everyone" not in shown
    assert "**" not in shown.replace("\\*", "")
    assert "<@&123456789012345678>" not in shown


@given(st.text(max_size=1200), st.integers(min_value=2, max_value=300))
def test_truncation_fits_and_never_splits_an_escape(raw: str, limit: int) -> None:
    shown = safe_user_text(raw, limit)
    assert len(shown) <= limit
    if shown.endswith("…"):
        assert not shown[:-1].endswith("\\") or shown[:-1].endswith("\\\\")


def test_progress_bar_and_durations() -> None:
    assert progress_bar(0, 4) == "░" * 20
    assert progress_bar(2, 4) == "█" * 10 + "░" * 10
    assert progress_bar(4, 4) == "█" * 20
    assert seconds(2.345, "en-US") == "2.3 s"
    assert seconds(125, "en-GB") == "2 min 05 s"


def test_durations_read_in_the_members_language_with_its_decimal_mark() -> None:
    assert seconds(2.345, "vi") == "2,3 giây"
    assert seconds(125, "vi") == "2 phút 05 giây"
