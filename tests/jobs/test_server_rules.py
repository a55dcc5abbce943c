"""A server's safety settings on a real SQLite database: what /video's screening refuses (and that a refusal charges
nothing and never names a blocked term), what it lowers to the server's maxima (and that the price shown is the price
charged), and that every moderator change is audited once, and refused when it would change nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from common.states import AuditAction
from db.database import Database
from db.models import AuditEntry, Job
from jobs import server_rules
from jobs.blocklist_strikes import HOLD, STRIKES, WINDOW
from jobs.clip_options import frames_of
from jobs.errors import (
    AboveServerMaximum,
    ChannelNotAllowed,
    CoolingDown,
    InvalidAmount,
    InvalidTerm,
    PresetDisabled,
    PresetUnavailable,
    PromptBlocked,
    PromptRejected,
    SensitivePresetRefused,
    SettingsListFull,
    SettingUnchanged,
)
from jobs.moderation import Moderator
from jobs.pricing import clip_cost
from jobs.requests import ValidRequest, VideoRequest
from jobs.server_rules import MAX_BLOCKED_TERMS, MAX_VIDEO_CHANNELS, RulesCache, ServerRules, ServerRulesService
from model.presets import PRESETS
from model.prompts import MAX_PROMPT_CHARS
from tests.jobs.conftest import GUILD_ID, Jobs, ManualClock, credits_left, make_service
from tests.jobs.scripted_backend import ScriptedBackend

MODERATOR = Moderator(GUILD_ID, 999)
CHANNEL, OTHER_CHANNEL, THREAD = 222, 223, 224
TINY = PRESETS["tiny"]
CATALOGUE = {
    "tiny": TINY,
    "tiny-sensitive": dataclasses.replace(TINY, id="tiny-sensitive", sensitive=True),
    "tiny-long": dataclasses.replace(TINY, id="tiny-long", default_frames=25),  # 3 s at 8 fps by default
    "tiny-negative": dataclasses.replace(TINY, id="tiny-negative", negative_prompt="ugly, blurry"),
}


@pytest.fixture
async def service(database: Database, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Jobs]:
    service = make_service(
        database, ScriptedBackend(serves=frozenset(CATALOGUE)), clock, data_dir=tmp_path, presets=CATALOGUE
    )
    yield service
    await service.close()


@pytest.fixture
def rules(database: Database, clock: ManualClock, service: Jobs) -> ServerRulesService:
    return ServerRulesService(
        database=database, clock=clock, presets=CATALOGUE, on_changed=service.admission.rules.forget
    )


def request(
    prompt: str = "a fox running through snow",
    *,
    channel_id: int = CHANNEL,
    parent_channel_id: int | None = None,
    age_restricted: bool = False,
    user_id: int = 1,
    **options: object,
) -> VideoRequest:
    return VideoRequest(
        guild_id=GUILD_ID,
        channel_id=channel_id,
        user_id=user_id,
        user_name=f"member{user_id}",
        options={"prompt": prompt, "preset": "tiny", **options},
        parent_channel_id=parent_channel_id,
        age_restricted=age_restricted,
    )


async def screened(service: Jobs, video: VideoRequest) -> ValidRequest:
    return await service.admission.screen(video)


async def refusal(service: Jobs, video: VideoRequest) -> Exception:
    with pytest.raises(Exception) as refused:
        await service.admission.screen(video)
    return refused.value


async def audit(database: Database) -> list[tuple[AuditAction, int | None, str | None, str | None]]:
    async with database.snapshot() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        return [(row.action, row.target_id, row.before, row.after) for row in rows]


async def test_a_server_without_rules_takes_video_anywhere(service: Jobs) -> None:
    video = request("Bạo lực, porn and gore", channel_id=OTHER_CHANNEL, preset="tiny-long", steps=8, duration=4)
    valid = await screened(service, video)
    assert (valid.clip.steps, valid.clip.frames, valid.clip.prompt) == (8, frames_of(TINY, 4), video.options["prompt"])


async def test_listed_channels_and_their_threads_are_the_only_places_for_video(
    service: Jobs, rules: ServerRulesService, database: Database
) -> None:
    await rules.add_channel(MODERATOR, CHANNEL)
    await rules.add_channel(MODERATOR, OTHER_CHANNEL)
    await screened(service, request(channel_id=CHANNEL))
    await screened(service, request(channel_id=THREAD, parent_channel_id=OTHER_CHANNEL))  # a thread of a listed one
    elsewhere = await refusal(service, request(channel_id=999, prompt=""))  # the place is refused before the prompt
    assert elsewhere == ChannelNotAllowed((CHANNEL, OTHER_CHANNEL))
    assert await credits_left(service) == 5

    with pytest.raises(SettingUnchanged):
        await rules.add_channel(MODERATOR, CHANNEL)
    await rules.remove_channel(MODERATOR, CHANNEL)
    await rules.remove_channel(MODERATOR, OTHER_CHANNEL)
    with pytest.raises(SettingUnchanged):
        await rules.remove_channel(MODERATOR, OTHER_CHANNEL)
    await screened(service, request(channel_id=999))  # no channel listed: anywhere again
    assert await audit(database) == [
        (AuditAction.VIDEO_CHANNEL_ADD, CHANNEL, None, None),
        (AuditAction.VIDEO_CHANNEL_ADD, OTHER_CHANNEL, None, None),
        (AuditAction.VIDEO_CHANNEL_REMOVE, CHANNEL, None, None),
        (AuditAction.VIDEO_CHANNEL_REMOVE, OTHER_CHANNEL, None, None),
    ]


async def test_the_channel_list_has_a_limit(rules: ServerRulesService, database: Database) -> None:
    for channel_id in range(MAX_VIDEO_CHANNELS):
        await rules.add_channel(MODERATOR, 1000 + channel_id)
    with pytest.raises(SettingsListFull) as full:
        await rules.add_channel(MODERATOR, 5000)
    assert (full.value.list_name, full.value.limit) == ("channels", MAX_VIDEO_CHANNELS)
    assert len(await audit(database)) == MAX_VIDEO_CHANNELS


async def test_a_blocked_term_refuses_prompts_in_any_case_and_accents_without_naming_it(
    service: Jobs, rules: ServerRulesService, database: Database
) -> None:
    await rules.block(MODERATOR, "bạo lực", sensitive=False)
    for prompt in ("BAO LUC on the streets", "Bạo Lực", "bao-luc"):
        refused = await refusal(service, request(prompt))
        assert refused == PromptBlocked("prompt", age_restricted_only=False)
        assert "bao" not in repr(refused).lower() and "lực" not in repr(refused).lower()
    refused_negative = await refusal(service, request(negative_prompt="no BẠO LỰC please"))
    assert refused_negative == PromptBlocked("negative_prompt", age_restricted_only=False)
    # Another member: five refusals in a row hold the first one back a while (jobs.blocklist_strikes).
    flagged = await refusal(service, request("a calm street --no bao luc", user_id=2))  # a flag's words count too
    assert flagged == PromptBlocked("negative_prompt", age_restricted_only=False)
    assert await refusal(service, request("BAO LUC", age_restricted=True, user_id=2)) == PromptBlocked("prompt", False)
    await screened(service, request("bảo lưu lực lượng", user_id=2))  # other words that share letters pass
    assert await credits_left(service) == 5  # screening charges nothing
    async with database.snapshot() as session:
        assert (await session.scalars(select(Job))).all() == []

    await rules.unblock(MODERATOR, "BAO LUC")  # any spelling removes it
    await screened(service, request("BAO LUC on the streets", user_id=2))
    with pytest.raises(SettingUnchanged):
        await rules.unblock(MODERATOR, "bạo lực")
    assert await audit(database) == [
        (AuditAction.BLOCKLIST_ADD, None, None, "bạo lực"),
        (AuditAction.BLOCKLIST_REMOVE, None, "bạo lực", None),
    ]


async def test_fancy_letters_invisible_characters_and_spelled_out_words_do_not_hide_a_term(
    service: Jobs, rules: ServerRulesService
) -> None:
    await rules.block(MODERATOR, "kill", sensitive=False)
    await rules.set_default_blocklist(MODERATOR, True)
    prompts = ("a 𝐊𝐈𝐋𝐋 fox", "ki\u034fll", "CHILD 𝐏𝐎𝐑𝐍", "child\u3164porn", "child p.o.r.n")
    for user_id, prompt in enumerate(prompts, start=10):  # a member each: none is held back for probing
        assert await refusal(service, request(prompt, user_id=user_id)) == PromptBlocked("prompt", False), prompt
    await screened(service, request("a skilled fox"))


async def test_a_prompt_that_folds_into_too_many_words_is_refused_as_too_long(
    service: Jobs, rules: ServerRulesService
) -> None:
    hostile = "\ufdfa" * MAX_PROMPT_CHARS  # one character, four words (ﷺ): within the length a prompt may have
    await screened(service, request(hostile))  # nothing to match: nothing to refuse
    await rules.block(MODERATOR, "kill", sensitive=False)
    assert await refusal(service, request(hostile)) == PromptRejected("prompt", "too_long", MAX_PROMPT_CHARS)
    refused = await refusal(service, request(negative_prompt=hostile))
    assert refused == PromptRejected("negative_prompt", "too_long", MAX_PROMPT_CHARS)


async def test_a_member_who_keeps_hitting_the_blocklist_is_held_back_a_while(
    service: Jobs, rules: ServerRulesService, clock: ManualClock
) -> None:
    await rules.block(MODERATOR, "kill", sensitive=False)
    for attempt in range(STRIKES):
        assert await refusal(service, request(f"kill attempt {attempt}")) == PromptBlocked("prompt", False)
        clock.advance(seconds=30)
    held = await refusal(service, request("a fox running through snow"))  # any request, not only blocked ones
    assert held == CoolingDown(clock.now() - timedelta(seconds=30) + HOLD)
    await screened(service, request(user_id=2))  # others are not held back
    assert await credits_left(service) == 5

    clock.advance(seconds=HOLD.total_seconds())
    await screened(service, request())  # the hold is over, and the strikes with it
    assert await refusal(service, request("kill")) == PromptBlocked("prompt", False)
    await screened(service, request())


async def test_strikes_older_than_the_window_do_not_count(
    service: Jobs, rules: ServerRulesService, clock: ManualClock
) -> None:
    await rules.block(MODERATOR, "kill", sensitive=False)
    for _ in range(3 * STRIKES):
        assert await refusal(service, request("kill")) == PromptBlocked("prompt", False)
        clock.advance(seconds=WINDOW.total_seconds() / (STRIKES - 1))
    await screened(service, request())


async def test_the_presets_own_negative_prompt_is_not_the_members_words(
    service: Jobs, rules: ServerRulesService
) -> None:
    await rules.block(MODERATOR, "ugly", sensitive=False)
    valid = await screened(service, request(preset="tiny-negative"))
    assert valid.clip.negative_prompt == "ugly, blurry"
    refused = await refusal(service, request(preset="tiny-negative", negative_prompt="ugly"))
    assert refused == PromptBlocked("negative_prompt", age_restricted_only=False)


async def test_a_sensitive_term_is_refused_only_outside_age_restricted_channels(
    service: Jobs, rules: ServerRulesService, database: Database
) -> None:
    await rules.block(MODERATOR, "gore*", sensitive=True)
    refused = await refusal(service, request("Gory, GORE everywhere"))
    assert refused == PromptBlocked("prompt", age_restricted_only=True)
    await screened(service, request("GORE everywhere", age_restricted=True))
    await screened(service, request("GORE", channel_id=THREAD, parent_channel_id=CHANNEL, age_restricted=True))

    await rules.block(MODERATOR, "GORE*", sensitive=False)  # the same term, now refused everywhere
    assert await refusal(service, request("gore", age_restricted=True)) == PromptBlocked("prompt", False)
    with pytest.raises(SettingUnchanged):
        await rules.block(MODERATOR, "gore*", sensitive=False)
    assert await audit(database) == [
        (AuditAction.BLOCKLIST_ADD_SENSITIVE, None, None, "gore*"),
        (AuditAction.BLOCKLIST_ADD, None, "gore*", "GORE*"),
    ]
    assert [term.term for term in (await rules.rules(GUILD_ID)).terms] == ["GORE*"]


async def test_the_built_in_list_applies_once_switched_on(service: Jobs, rules: ServerRulesService) -> None:
    await screened(service, request("porn"))
    await rules.set_default_blocklist(MODERATOR, True)
    assert await refusal(service, request("PORN")) == PromptBlocked("prompt", age_restricted_only=True)
    await screened(service, request("porn", age_restricted=True))
    assert await refusal(service, request("child porn", age_restricted=True)) == PromptBlocked("prompt", False)
    with pytest.raises(SettingUnchanged):
        await rules.set_default_blocklist(MODERATOR, True)
    await rules.set_default_blocklist(MODERATOR, False)
    await screened(service, request("porn"))


async def test_blocklist_terms_are_checked_and_limited(rules: ServerRulesService, database: Database) -> None:
    with pytest.raises(InvalidTerm):
        await rules.block(MODERATOR, "*", sensitive=False)
    for number in range(MAX_BLOCKED_TERMS):
        await rules.block(MODERATOR, f"term{number}", sensitive=False)
    with pytest.raises(SettingsListFull) as full:
        await rules.block(MODERATOR, "one more", sensitive=False)
    assert (full.value.list_name, full.value.limit) == ("blocklist", MAX_BLOCKED_TERMS)
    await rules.block(MODERATOR, "TERM0", sensitive=True)  # changing a listed term needs no room
    assert len(await audit(database)) == MAX_BLOCKED_TERMS + 1


async def test_a_disabled_preset_is_refused_naming_the_allowed_ones(
    service: Jobs, rules: ServerRulesService, database: Database
) -> None:
    await rules.disable_preset(MODERATOR, "tiny-long")
    refused = await refusal(service, request(preset="tiny-long"))
    # The sensitive preset is not offered: it is not allowed here.
    assert refused == PresetDisabled("tiny-long", ("tiny", "tiny-negative"))
    with pytest.raises(SettingUnchanged):
        await rules.disable_preset(MODERATOR, "tiny-long")
    with pytest.raises(PresetUnavailable):
        await rules.disable_preset(MODERATOR, "no-such-preset")
    await rules.enable_preset(MODERATOR, "tiny-long")
    await screened(service, request(preset="tiny-long"))
    with pytest.raises(SettingUnchanged):
        await rules.enable_preset(MODERATOR, "tiny-long")
    assert await audit(database) == [
        (AuditAction.PRESET_DISABLE, None, None, "tiny-long"),
        (AuditAction.PRESET_ENABLE, None, "tiny-long", None),
    ]


async def test_a_sensitive_preset_needs_the_servers_leave_and_an_age_restricted_channel(
    service: Jobs, rules: ServerRulesService, database: Database
) -> None:
    sensitive = "tiny-sensitive"
    assert await refusal(service, request(age_restricted=True, preset=sensitive)) == SensitivePresetRefused(
        "tiny-sensitive", age_restricted_only=False
    )
    await rules.set_sensitive_presets(MODERATOR, True)
    assert await refusal(service, request(preset=sensitive)) == SensitivePresetRefused(
        "tiny-sensitive", age_restricted_only=True
    )
    await screened(service, request(age_restricted=True, preset=sensitive))
    await rules.set_sensitive_presets(MODERATOR, False)
    assert await audit(database) == [
        (AuditAction.SENSITIVE_PRESETS, None, "off", "on"),
        (AuditAction.SENSITIVE_PRESETS, None, "on", "off"),
    ]


async def test_the_servers_maxima_lower_the_defaults_refuse_more_and_the_price_follows(
    service: Jobs, rules: ServerRulesService, database: Database
) -> None:
    await rules.set_limits(MODERATOR, steps=2)
    await rules.set_limits(MODERATOR, seconds=2)

    lowered = await screened(service, request(preset="tiny-long"))  # 4 steps and 3 s by default
    assert (lowered.clip.steps, lowered.clip.frames) == (2, frames_of(CATALOGUE["tiny-long"], 2))
    assert lowered.cost == clip_cost(CATALOGUE["tiny-long"], lowered.clip)
    chosen = await screened(service, request(steps=1, duration=1))
    assert (chosen.clip.steps, chosen.clip.frames) == (1, frames_of(TINY, 1))

    assert await refusal(service, request(steps=3)) == AboveServerMaximum("steps", 2)
    assert await refusal(service, request(duration=3)) == AboveServerMaximum("duration", 2)
    assert await refusal(service, request("a fox --steps 3")) == AboveServerMaximum("steps", 2)
    assert await refusal(service, request("a fox --duration 4s")) == AboveServerMaximum("duration", 2)

    ticket = await service.submit(lowered)  # the price shown is the price charged
    assert ticket.job.cost == lowered.cost
    assert await credits_left(service) == 5 - lowered.cost

    with pytest.raises(InvalidAmount):
        await rules.set_limits(MODERATOR, seconds=0, steps=-1)  # one out of range: neither changes
    with pytest.raises(SettingUnchanged):
        await rules.set_limits(MODERATOR, steps=2)
    await rules.set_limits(MODERATOR, steps=0, seconds=0)  # 0 removes a maximum
    assert (await screened(service, request(steps=8, duration=4))).clip.steps == 8
    assert await audit(database) == [
        (AuditAction.MAX_STEPS, None, None, "2"),
        (AuditAction.MAX_DURATION, None, None, "2"),
        (AuditAction.MAX_DURATION, None, "2", None),
        (AuditAction.MAX_STEPS, None, "2", None),
    ]


async def test_limits_change_what_changes_and_are_refused_only_when_nothing_does(
    rules: ServerRulesService, database: Database
) -> None:
    await rules.set_limits(MODERATOR, seconds=2, steps=4)
    changed = await rules.set_limits(MODERATOR, seconds=2, steps=3)  # the first is unchanged: the second still is
    assert [(change.action, change.before, change.after) for change in changed] == [(AuditAction.MAX_STEPS, "4", "3")]
    limits = await rules.rules(GUILD_ID)
    assert (limits.max_duration_seconds, limits.max_steps) == (2, 3)
    with pytest.raises(SettingUnchanged) as unchanged:
        await rules.set_limits(MODERATOR, seconds=2, steps=3)
    assert unchanged.value.action == AuditAction.MAX_DURATION
    assert await rules.set_limits(MODERATOR) == ()
    assert [action for action, *_ in await audit(database)] == [
        AuditAction.MAX_DURATION,
        AuditAction.MAX_STEPS,
        AuditAction.MAX_STEPS,
    ]


async def test_a_maximum_below_what_a_preset_can_do_refuses_it_even_by_default(
    service: Jobs, rules: ServerRulesService
) -> None:
    slow = dataclasses.replace(TINY, id="tiny", min_steps=3)
    strict = make_service(service.admission.database, ScriptedBackend(), ManualClock(), presets={"tiny": slow})
    await rules.set_limits(MODERATOR, steps=2)
    assert await refusal(strict, request()) == AboveServerMaximum("steps", 2)
    await strict.close()


async def test_a_burst_on_a_cold_cache_reads_the_rules_once_and_a_change_is_read_afresh(
    database: Database, rules: ServerRulesService, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real_read = server_rules.read_rules

    async def counted_read(read_from: Database, guild_id: int) -> ServerRules:
        reads.append(guild_id)
        return await real_read(read_from, guild_id)

    monkeypatch.setattr(server_rules, "read_rules", counted_read)
    cache = RulesCache(database)
    burst = await asyncio.gather(*(cache.get(GUILD_ID) for _ in range(50)))
    assert reads == [GUILD_ID] and all(read is burst[0] for read in burst)

    await rules.add_channel(Moderator(GUILD_ID, 1), CHANNEL)
    cache.forget(GUILD_ID)
    assert (await cache.get(GUILD_ID)).channel_ids == frozenset({CHANNEL})
    assert reads == [GUILD_ID, GUILD_ID]
