"""What a prompt may contain: the one check, shared by the bot (through jobs) and `python -m model generate`.

A hostile member types anything; the pipeline, the embed and the MP4 tags get only clean text.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

MAX_PROMPT_CHARS = 1000

PromptProblem = Literal["empty", "too_long", "control_characters", "not_text"]

# Bidirectional overrides and isolates can make a prompt display differently from what
# it says (and spoof the credit line around it), so they are refused like control codes.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


class PromptError(ValueError):
    def __init__(self, problem: PromptProblem) -> None:
        super().__init__(problem)
        self.problem = problem


def clean_prompt(text: object, *, required: bool = True) -> str:
    """The prompt with surrounding whitespace removed; raises PromptError saying what is wrong with it.

    None (an option left out) is an empty prompt; anything else that is not text is refused.
    """
    if text is not None and not isinstance(text, str):
        raise PromptError("not_text")
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise PromptError("empty")
        return ""
    if len(cleaned) > MAX_PROMPT_CHARS:
        raise PromptError("too_long")
    if any(is_hidden_control(char) for char in cleaned):
        raise PromptError("control_characters")
    return cleaned


def is_hidden_control(char: str) -> bool:
    """A control code, a lone surrogate, or a direction override: never shown as typed."""
    return unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS
