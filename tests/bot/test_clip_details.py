"""The Details button's embed and the row under every post, without Discord: the end-to-end clicks are in
tests/bot/test_gallery_commands.py."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.clip_buttons import post_view
from bot.clip_details import DESCRIPTION_LIMIT, FENCE, ZERO_WIDTH_SPACE, details_embed, fenced
from common.states import JobState
from jobs.clip_options import command_line, options_of
from jobs.views import JobView
from model.contract import VideoFile
from model.presets import PRESETS
from model.prompts import MAX_PROMPT_CHARS

TINY = PRESETS["tiny"]
LINK = "https://gallery.example/g/slug/item/12"


def job(prompt: str = "a fox", negative_prompt: str = "", authors: str = TINY.authors) -> JobView:
    clip = dataclasses.replace(TINY.default_clip(prompt, seed=42), negative_prompt=negative_prompt)
    return JobView(
        id=12, state=JobState.DELIVERED, guild_id=1, channel_id=2, user_id=3, user_name="Alice", clip=clip,
        model_id=TINY.repo, licence=TINY.licence, licence_url=TINY.licence_url, authors=authors, cost=1,
        max_bytes=10 << 20, created_at=datetime(2026, 11, 25, tzinfo=UTC), failure=None,
        video=VideoFile(key="media/12.mp4", bytes=1, width=clip.width, height=clip.height, frames=clip.frames,
                        fps=clip.fps),
        poster_key=None, render_seconds=1.5, encode_seconds=0.25, message_id=99, locale="en-US",
    )  # fmt: skip


def command_in(description: str) -> str:
    """The command in the description's code block, as a member copies it (the invisible spaces dropped)."""
    start = description.index(FENCE + "\n") + len(FENCE) + 1
    end = description.index("\n" + FENCE, start)
    block = description[start:end]
    assert FENCE not in block  # nothing inside closes the block early
    return block.replace(ZERO_WIDTH_SPACE, "")


def test_details_show_every_setting_the_times_and_the_gallery_link() -> None:
    shown = job(negative_prompt="blurry")
    embed = details_embed(shown, TINY, LINK, "en-US")
    fields = {field.name: field.value for field in embed.fields}
    clip = shown.clip
    assert fields["Preset"] == "`tiny`" and fields["Seed"] == "`42`"
    assert fields["Steps"] == str(clip.steps) and fields["Guidance"] == f"{clip.guidance:g}"
    assert f"{clip.width}×{clip.height}" in (fields["Aspect and size"] or "")
    assert f"{clip.frames} frames at {clip.fps} fps" in (fields["Duration"] or "")
    assert fields["Licence"] == f"[{TINY.licence}]({TINY.licence_url})"
    assert set(fields) >= {"Model", "Render time", "Encode time"}
    assert fields["Gallery"] == f"[Its page in the web gallery]({LINK})"
    assert embed.title == "Job #12 · details"
    assert embed.description is not None and "**Negative prompt**\nblurry" in embed.description
    assert command_in(embed.description) == command_line(options_of(TINY, clip))
    assert command_in(embed.description).startswith("/video prompt:a fox negative_prompt:blurry seed:42 preset:tiny")


def test_no_gallery_field_without_a_link_and_no_command_for_a_preset_this_bot_lost() -> None:
    embed = details_embed(job(), None, None, "en-US")
    assert "Gallery" not in {field.name for field in embed.fields}
    assert embed.description is not None and FENCE not in embed.description
    assert "no longer has the preset `tiny`" in embed.description


def test_the_command_reproduces_any_prompt_and_the_embed_fits_discords_limits() -> None:
    for prompt, negative in [
        ("`" * MAX_PROMPT_CHARS, "`" * MAX_PROMPT_CHARS),
        ("*_~|>@everyone `" * 62, "```" * 333),
        ("a ```boxed``` fox ends with a backtick`", ""),
    ]:
        shown = job(prompt, negative, authors="*_`@everyone " * 80)
        embed = details_embed(shown, TINY, LINK, "en-US")
        assert embed.description is not None and len(embed.description) <= DESCRIPTION_LIMIT
        assert len(embed) <= 6000 and all(len(field.value or "") <= 1024 for field in embed.fields)
        assert command_in(embed.description) == command_line(options_of(TINY, shown.clip))
        assert "@everyone" not in embed.description.split(FENCE)[0]  # the prompts as shown: escaped


def test_fenced_breaks_every_run_of_three_backticks_and_nothing_else() -> None:
    assert fenced("a `b` ``c``") == "a `b` ``c``"
    assert FENCE not in fenced("`" * 7) and fenced("`" * 7).replace(ZERO_WIDTH_SPACE, "") == "`" * 7


def test_every_post_carries_star_reroll_details_and_delete_labelled_in_its_language() -> None:
    [row] = post_view(12, 3, "en-US").to_components()
    buttons = [(button["custom_id"], button["label"]) for button in row["components"]]
    assert buttons == [
        ("star:12", "⭐ 3"),
        ("reroll:12", "🎲 Reroll"),
        ("details:12", "Details"),
        ("delete:12", "Delete"),
    ]
    [vietnamese] = post_view(12, 0, "vi").to_components()
    assert vietnamese["components"][0]["custom_id"] == "star:12:vi"
