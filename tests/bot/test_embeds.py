from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.embeds import FIELD_VALUE_LIMIT, credit_embed
from common.states import JobState
from jobs.views import JobView
from model.contract import VideoFile
from model.presets import PRESETS

WAN = PRESETS["wan-1.3b"]
ENCODED_AS_RENDERED = VideoFile(key="media/12.mp4", bytes=1, width=832, height=480, frames=81, fps=16)


def job(
    prompt: str = "a fox", user_name: str = "Alice", video: VideoFile = ENCODED_AS_RENDERED, authors: str = WAN.authors
) -> JobView:
    return JobView(
        id=12, state=JobState.DELIVERED, guild_id=1, channel_id=2, user_id=3, user_name=user_name,
        clip=WAN.default_clip(prompt, seed=42), model_id=WAN.repo, licence=WAN.licence, licence_url=WAN.licence_url,
        authors=authors, cost=1, max_bytes=10 << 20, created_at=datetime(2026, 11, 25, tzinfo=UTC), failure=None,
        video=video, poster_key=None, render_seconds=61.0, encode_seconds=0.5, message_id=None, locale="en-US",
    )  # fmt: skip


def test_credit_embed_names_requester_model_licence_and_clip() -> None:
    embed = credit_embed(job())
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Requested by"] == "<@3>"
    assert fields["Model"] == "`Wan-AI/Wan2.1-T2V-1.3B-Diffusers` by Wan Team, Alibaba Group"
    assert fields["Licence"] == "[Apache-2.0](https://www.apache.org/licenses/LICENSE-2.0)"
    assert fields["Seed"] == "`42`"
    assert fields["Clip"] == "81 frames · 16 fps · 832×480 · 50 steps"
    assert fields["Render time"] == "1 min 01 s"
    assert "job #12" in (embed.title or "") and embed.footer.text and "#12" in embed.footer.text


def test_credit_embed_shows_the_size_the_encoder_wrote_after_a_downscale() -> None:
    downscaled = VideoFile(key="media/12.mp4", bytes=10 << 20, width=592, height=342, frames=81, fps=16)
    fields = {field.name: field.value for field in credit_embed(job(video=downscaled)).fields}
    assert fields["Clip"] == "81 frames · 16 fps · 592×342 · 50 steps (rendered at 832×480)"


def test_credit_embed_fits_discords_limits_for_the_longest_prompt_and_authors() -> None:
    embed = credit_embed(job(prompt="*_`@everyone " * 80, authors="*_`@everyone " * 80))
    assert len(embed) <= 6000
    assert embed.description is not None and len(embed.description) <= 4096
    assert "@everyone" not in embed.description
    assert all(len(field.value or "") <= FIELD_VALUE_LIMIT for field in embed.fields)


def test_credit_embed_escapes_the_authors_a_presets_file_names() -> None:
    embed = credit_embed(job(authors="**Evil** @everyone <@&123456789012345678>"))
    model = {field.name: field.value for field in embed.fields}["Model"] or ""
    assert model.startswith("`Wan-AI/Wan2.1-T2V-1.3B-Diffusers` by ")
    assert "\\*\\*Evil\\*\\*" in model
    assert "@everyone" not in model and "<@&123456789012345678>" not in model


def test_credit_embed_is_written_in_the_requesters_language() -> None:
    embed = credit_embed(dataclasses.replace(job(), locale="vi"))
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Người yêu cầu"] == "<@3>"
    assert fields["Mô hình"] == "`Wan-AI/Wan2.1-T2V-1.3B-Diffusers` của Wan Team, Alibaba Group"
    assert fields["Thông số"] == "81 khung hình · 16 fps · 832×480 · 50 bước"
    assert fields["Thời gian tạo"] == "1 phút 01 giây"
    assert embed.title == "Video do AI tạo · yêu cầu #12"
