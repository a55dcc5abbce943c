"""Member text as the domain keeps it: prompts checked by model.prompts, display names made safe to credit."""

from __future__ import annotations

import unicodedata
from typing import Literal

from jobs.errors import PromptRejected
from model import prompts
from model.prompts import MAX_PROMPT_CHARS, PromptError, is_hidden_control

PromptField = Literal["prompt", "negative_prompt"]


def clean_prompt(text: object, *, field: PromptField = "prompt", required: bool = True) -> str:
    """The prompt with surrounding whitespace removed, or PromptRejected saying what is wrong with it."""
    try:
        return prompts.clean_prompt(text, required=required)
    except PromptError as error:
        raise PromptRejected(field, error.problem, MAX_PROMPT_CHARS) from None


def clean_display_name(name: str, limit: int = 100) -> str:
    """A member's name as credited in posts and MP4 tags: invisible and direction-changing characters
    dropped (they could disguise who made a clip), never empty."""
    visible = "".join(char for char in name if not is_hidden_control(char) and unicodedata.category(char) != "Cf")
    return visible.strip()[:limit] or "unknown member"
