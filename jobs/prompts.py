"""What a prompt may contain. A hostile member types anything; the pipeline and the embed get only clean text."""

from __future__ import annotations

import unicodedata
from typing import Literal

from jobs.errors import PromptRejected

MAX_PROMPT_CHARS = 1000

# Bidirectional overrides and isolates can make a prompt display differently from what
# it says (and spoof the credit line around it), so they are refused like control codes.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def clean_prompt(
    text: str | None, *, field: Literal["prompt", "negative_prompt"] = "prompt", required: bool = True
) -> str:
    """Return the prompt with surrounding whitespace removed, or raise PromptRejected."""
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise PromptRejected(field, "empty", MAX_PROMPT_CHARS)
        return ""
    if len(cleaned) > MAX_PROMPT_CHARS:
        raise PromptRejected(field, "too_long", MAX_PROMPT_CHARS)
    if any(_is_forbidden(char) for char in cleaned):
        raise PromptRejected(field, "control_characters", MAX_PROMPT_CHARS)
    return cleaned


def _is_forbidden(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS


def clean_display_name(name: str, limit: int = 100) -> str:
    """A member's name as credited in posts and MP4 tags: invisible and direction-changing characters
    dropped (they could disguise who made a clip), never empty."""
    visible = "".join(char for char in name if not _is_forbidden(char) and unicodedata.category(char) != "Cf")
    return visible.strip()[:limit] or "unknown member"
