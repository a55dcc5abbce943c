from __future__ import annotations

import pytest

from jobs.errors import PromptRejected
from jobs.prompts import clean_display_name, clean_prompt
from model.prompts import MAX_PROMPT_CHARS


@pytest.mark.parametrize(
    "prompt",
    [
        "a fox running through snow",
        "Một con cáo chạy trên tuyết lúc hoàng hôn",
        "雪の中を走る狐 🦊",
        "x" * MAX_PROMPT_CHARS,
    ],
)
def test_ordinary_prompts_pass_trimmed(prompt: str) -> None:
    assert clean_prompt(f"  {prompt}\t") == prompt


@pytest.mark.parametrize(
    ("prompt", "problem"),
    [
        (None, "empty"),
        ("", "empty"),
        (" \t ", "empty"),
        ("x" * (MAX_PROMPT_CHARS + 1), "too_long"),
        ("a\x00b", "control_characters"),
        ("a\x1b[31mred", "control_characters"),
        ("line one\nline two", "control_characters"),
        ("innocent \u202egnp.exe", "control_characters"),
        ("a\u2066hidden\u2069b", "control_characters"),
    ],
)
def test_bad_prompts_are_rejected_with_a_reason(prompt: str | None, problem: str) -> None:
    with pytest.raises(PromptRejected) as rejected:
        clean_prompt(prompt)
    assert rejected.value.problem == problem
    assert rejected.value.field == "prompt"


def test_an_optional_prompt_may_be_empty_but_not_dirty() -> None:
    assert clean_prompt(None, field="negative_prompt", required=False) == ""
    with pytest.raises(PromptRejected) as rejected:
        clean_prompt("blur\x7f", field="negative_prompt", required=False)
    assert rejected.value.field == "negative_prompt"


@pytest.mark.parametrize(
    ("name", "credited"),
    [("Alice", "Alice"), ("Ngọc Anh 🎬", "Ngọc Anh 🎬"), ("eve‮nimda", "evenimda"), ("​​", "unknown member")],
)
def test_display_names_lose_invisible_characters(name: str, credited: str) -> None:
    assert clean_display_name(name) == credited
