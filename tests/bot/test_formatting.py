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
    assert seconds(2.345) == "2.3 s"
    assert seconds(125) == "2 min 05 s"
