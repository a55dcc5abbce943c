"""/settings end to end: one `python -m bot` against the fake Discord, in a server with an age-restricted channel.

Discord hides /settings from members (default_member_permissions), but a server owner can show it to anyone, so the
fake lets anyone invoke it and the bot must refuse. The module shares one bot; each test leaves the server's rules as
it found them (none), and restarts it last of all, with `tiny` marked sensitive, against the same database.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping

import pytest
import pytest_asyncio

from bot.messages import text
from tests.bot.bot_process import RestartableBot, bot_environment
from tests.fake_discord.fixtures import CHANNEL_ID, GUILD_ID, MEMBER_ID, MODERATOR_ID, MODERATOR_ROLE_ID, OWNER_ID
from tests.fake_discord.models import MEMBER_PERMISSIONS, MODERATOR_PERMISSIONS, FakeMember, FakeRole, Permission
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, RecordedRequest

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 1 << 6
OTHER_CHANNEL_ID = 1_184_011_822_290_812_935
AGE_RESTRICTED_ID = 1_184_011_822_290_812_936
OTHER_MEMBER_ID = 1_184_011_822_290_812_937  # Alice's blocklist refusals would soon hold her back (STRIKES)
PROBING_MEMBER_ID = 1_184_011_822_290_812_938
CHARGED = "This clip costs"  # the start of the first answer to a /video that is queued
SETTINGS_COMMANDS: list[tuple[str, Mapping[str, object]]] = [
    ("show", {}),
    ("limits", {"max_steps": 2}),
    ("channels add", {"channel": OTHER_CHANNEL_ID}),
    ("channels remove", {"channel": OTHER_CHANNEL_ID}),
    ("channels list", {}),
    ("blocklist add", {"term": "fox"}),
    ("blocklist remove", {"term": "fox"}),
    ("blocklist list", {}),
    ("blocklist default", {"enabled": True}),
    ("presets disable", {"preset": "tiny"}),
    ("presets enable", {"preset": "tiny"}),
    ("presets sensitive", {"allow": True}),
]


class RunningBot(RestartableBot):
    guild_id = GUILD_ID

    async def settings(
        self, subcommand: str, user_id: int = MODERATOR_ID, permissions: int | None = None, **options: object
    ) -> str:
        """/settings <subcommand>, answered: the reply's words (ephemeral, pinging no one)."""
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=user_id,
            name="settings",
            subcommand=subcommand,
            options=options,
            permissions=permissions,
        )
        return reply_of(await self.fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback"))

    async def video(
        self, prompt: str, channel_id: int = CHANNEL_ID, user_id: int = MEMBER_ID, **options: object
    ) -> str:
        """/video by a plain member, answered: the first answer's words (what it costs, or why not); once it says
        what it costs, the job is queued too."""
        jobs = self.charges(user_id)[0]
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=channel_id,
            user_id=user_id,
            name="video",
            options={"prompt": prompt, **options},
        )
        words = reply_of(await self.fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback"))
        if words.startswith(CHARGED):  # the first answer comes before the job is queued
            async with asyncio.timeout(10):
                while self.charges(user_id)[0] == jobs:
                    await asyncio.sleep(0.05)
        return words

    def count(self, query: str, *parameters: object) -> int:
        with sqlite3.connect(self.workdir / "bot.db") as database:
            return int(database.execute(query, parameters).fetchone()[0])

    def charges(self, user_id: int = MEMBER_ID) -> tuple[int, int]:
        """The member's jobs and the credits reserved for them."""
        jobs = self.count("SELECT count(*) FROM jobs WHERE user_id = ?", user_id)
        spent = self.count("SELECT coalesce(-sum(delta), 0) FROM credit_ledger WHERE user_id = ?", user_id)
        return jobs, spent

    def rows(self) -> tuple[int, ...]:
        """Rows of every table a /settings command writes to."""
        tables = ("audit_log", "video_channels", "blocked_terms", "disabled_presets", "guild_settings")
        return tuple(self.count(f"SELECT count(*) FROM {table}") for table in tables)


def reply_of(callback: RecordedRequest) -> str:
    """The content of an immediate ephemeral reply that pings nobody."""
    assert callback.json is not None and callback.json["type"] == 4, callback.describe()
    data: Payload = callback.json["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"]["parse"] == []
    return str(data["content"])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    await fake.start()
    guild = fake.add_guild(
        GUILD_ID,
        name="Promptreel Test Server",
        owner_id=OWNER_ID,
        channels=[CHANNEL_ID, OTHER_CHANNEL_ID, AGE_RESTRICTED_ID],
        roles=[FakeRole(id=MODERATOR_ROLE_ID, name="Moderator", permissions=MODERATOR_PERMISSIONS, position=1)],
        members=[
            FakeMember(user_id=OWNER_ID, name="Server Owner"),
            FakeMember(user_id=MEMBER_ID, name="Alice"),
            FakeMember(user_id=OTHER_MEMBER_ID, name="Bob"),
            FakeMember(user_id=PROBING_MEMBER_ID, name="Pat"),
            FakeMember(user_id=MODERATOR_ID, name="Mod Marta", roles=[MODERATOR_ROLE_ID]),
        ],
    )
    guild.channels[AGE_RESTRICTED_ID].nsfw = True
    workdir = tmp_path_factory.mktemp("settings-bot")
    environment = bot_environment(
        fake,
        workdir,
        DISCORD_GUILD_ID=str(GUILD_ID),
        QUOTA_DAILY_CREDITS="1000",
        QUOTA_MAX_ACTIVE_JOBS="50",
        LOG_LEVEL="INFO",
    )
    running = RunningBot(fake, environment, workdir)
    try:
        await running.start()
        yield running
    finally:
        if running.processes:
            await running.process.stop()
        await fake.stop()


async def test_settings_is_hidden_from_members_and_lists_its_commands(bot: RunningBot) -> None:
    commands = {command["name"]: command for command in bot.fake.synced_commands}
    assert int(commands["settings"]["default_member_permissions"]) == Permission.MANAGE_GUILD
    options = {option["name"]: option for option in commands["settings"]["options"]}
    assert set(options) == {"show", "limits", "channels", "blocklist", "presets"}
    assert {option["name"] for option in options["blocklist"]["options"]} == {"add", "remove", "list", "default"}


@pytest.mark.parametrize(("subcommand", "options"), SETTINGS_COMMANDS)
async def test_every_settings_command_is_refused_to_a_member(
    bot: RunningBot, subcommand: str, options: Mapping[str, object]
) -> None:
    before = bot.rows()
    words = await bot.settings(subcommand, user_id=MEMBER_ID, permissions=int(MEMBER_PERMISSIONS), **options)
    assert words == text("mod.denied")
    assert bot.rows() == before


async def test_video_only_in_the_listed_channels_and_nothing_charged_elsewhere(bot: RunningBot) -> None:
    added = await bot.settings("channels add", channel=OTHER_CHANNEL_ID)
    assert added == f"Done: /video allowed in <#{OTHER_CHANNEL_ID}>."
    try:
        assert await bot.settings("channels add", channel=OTHER_CHANNEL_ID) == text(
            "settings.unchanged.video_channel_add"
        )
        before = bot.charges()
        refused = await bot.video("a fox in the wrong channel")
        assert refused == text("settings.channel_not_allowed", channels=f"<#{OTHER_CHANNEL_ID}>")
        assert bot.charges() == before
        assert (await bot.video("a fox in the right channel", channel_id=OTHER_CHANNEL_ID)).startswith(CHARGED)
        assert bot.charges()[0] == before[0] + 1
        assert f"only in <#{OTHER_CHANNEL_ID}>" in await bot.settings("channels list")
    finally:
        removed = await bot.settings("channels remove", channel=OTHER_CHANNEL_ID)
    assert removed == f"Done: /video no longer listed for <#{OTHER_CHANNEL_ID}>."
    assert await bot.settings("channels list") == text("settings.channels_anywhere")
    assert (await bot.video("a fox anywhere")).startswith(CHARGED)
    assert text("settings.channels_anywhere") in await bot.settings("show")


async def test_a_blocked_term_refuses_any_case_and_accents_charging_nothing_and_naming_nothing(
    bot: RunningBot,
) -> None:
    assert await bot.settings("blocklist add", term="Bạo lực") == "Done: blocked Bạo lực in prompts everywhere."
    try:
        before = bot.charges()
        for prompt in ("BAO LUC in the street", "bạo-lực", "Bao Luc --ar 9:16"):
            refused = await bot.video(prompt)
            assert refused == text("settings.prompt_blocked", field=text("field.prompt")), prompt
            assert "bao" not in refused.lower() and "lực" not in refused.lower()
        negative = await bot.video("a calm street", negative_prompt="no BẠO LỰC")
        assert negative == text("settings.prompt_blocked", field=text("field.negative_prompt"))
        assert bot.charges() == before
        listed = await bot.settings("blocklist list")
        assert "Everywhere: `Bạo lực`" in listed and text("settings.blocklist_default_off") in listed
    finally:
        assert await bot.settings("blocklist remove", term="BAO LUC") == "Done: unblocked Bạo lực."
    assert (await bot.video("BAO LUC in the street")).startswith(CHARGED)


async def test_sensitive_terms_pass_only_in_age_restricted_channels(bot: RunningBot) -> None:
    assert await bot.settings("blocklist default", enabled=True) == "Done: built-in blocklist off → on."
    added = await bot.settings("blocklist add", term="gore*", scope="outside_age_restricted")
    assert added == "Done: blocked gore\\* in prompts outside age-restricted channels."
    try:
        before = bot.charges(OTHER_MEMBER_ID)
        assert await bot.video("a GOREFEST scene", user_id=OTHER_MEMBER_ID) == text(
            "settings.prompt_blocked_age_restricted", field=text("field.prompt")
        )
        assert await bot.video("a NUDE statue", user_id=OTHER_MEMBER_ID) == text(
            "settings.prompt_blocked_age_restricted", field=text("field.prompt")
        )
        assert await bot.video("child porn", channel_id=AGE_RESTRICTED_ID, user_id=OTHER_MEMBER_ID) == text(
            "settings.prompt_blocked", field=text("field.prompt")
        )
        assert bot.charges(OTHER_MEMBER_ID) == before
        scene = await bot.video("a Gorefest scene", channel_id=AGE_RESTRICTED_ID, user_id=OTHER_MEMBER_ID)
        assert scene.startswith(CHARGED)
        listed = await bot.settings("blocklist list")
        assert "Outside age-restricted channels: `gore*`" in listed and "`child porn*`" in listed
    finally:
        await bot.settings("blocklist remove", term="gore*")
        await bot.settings("blocklist default", enabled=False)
    assert (await bot.video("a GOREFEST scene", user_id=OTHER_MEMBER_ID)).startswith(CHARGED)


async def test_a_member_who_keeps_hitting_the_blocklist_is_held_back_a_while(bot: RunningBot) -> None:
    await bot.settings("blocklist add", term="kill")
    try:
        blocked = text("settings.prompt_blocked", field=text("field.prompt"))
        for prompt in ("kill", "KILL", "𝐊𝐈𝐋𝐋", "k.i.l.l", "k i l l"):
            assert await bot.video(prompt, user_id=PROBING_MEMBER_ID) == blocked, prompt
        held = await bot.video("a fox in the snow", user_id=PROBING_MEMBER_ID)
        assert re.fullmatch(re.escape(text("cooldown", until="UNTIL")).replace("UNTIL", r"<t:\d+:R>"), held), held
        assert bot.charges(PROBING_MEMBER_ID) == (0, 0)
    finally:
        await bot.settings("blocklist remove", term="kill")


async def test_the_servers_limits_refuse_more_and_lower_the_default(bot: RunningBot) -> None:
    shown = await bot.settings("limits", max_steps=2, max_seconds=1)
    assert shown.splitlines()[0] == "Done: longest clip (seconds) none → 1; most steps per clip none → 2."
    try:
        assert await bot.settings("limits", max_steps=2) == "\n".join(
            (text("settings.unchanged.max_steps"), "Longest clip: 1 second · most steps: 2")
        )
        assert await bot.video("a fox", steps=3) == text("settings.above_max_steps", maximum=2)
        assert await bot.video("a fox --duration 2") == text("settings.above_max_duration", maximum=1)
        assert (await bot.video("a fox, lowered")).startswith(CHARGED)
        assert bot.count("SELECT steps FROM jobs WHERE prompt = 'a fox, lowered'") == 2
        changed = await bot.settings("limits", max_seconds=1, max_steps=3)  # the first is as it was: the second changes
        assert changed == "Done: most steps per clip 2 → 3.\nLongest clip: 1 second · most steps: 3"
    finally:
        cleared = await bot.settings("limits", max_steps=0, max_seconds=0)
    assert cleared.splitlines()[-1] == "Longest clip: the preset's own · most steps: the preset's own"


async def test_disabled_presets_and_the_audit_log(bot: RunningBot) -> None:
    assert await bot.settings("presets disable", preset="tiny") == "Done: turned the preset tiny off."
    try:
        assert await bot.video("a fox") == text("settings.preset_disabled_none", preset="tiny")
        assert "Presets turned off here: `tiny`" in await bot.settings("show")
    finally:
        assert await bot.settings("presets enable", preset="tiny") == "Done: turned the preset tiny back on."
    assert await bot.settings("presets enable", preset="tiny") == text("settings.unchanged.preset_enable")
    audit = reply_of(await _audit(bot))
    for change in ("turned the preset tiny back on", "turned the preset tiny off", "longest clip (seconds) 1 → none"):
        assert change in audit


async def _audit(bot: RunningBot) -> RecordedRequest:
    """/mod audit's first page, as the moderator sees it."""
    interaction = await bot.fake.send_slash_command(
        guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MODERATOR_ID, name="mod", subcommand="audit"
    )
    return await bot.fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback")


async def test_a_sensitive_preset_only_where_the_server_allows_it_after_a_restart(bot: RunningBot) -> None:
    """Last: the bot restarts with `tiny` marked sensitive, on the same database."""
    assert await bot.settings("presets sensitive", allow=True) == (
        "Done: sensitive presets in age-restricted channels off → on."
    )
    presets = bot.workdir / "presets.toml"
    presets.write_text("[tiny]\nsensitive = true\n")
    await bot.process.stop()
    bot.environment["VIDEO_PRESETS_FILE"] = str(presets)
    await bot.start()

    before = bot.charges()
    assert await bot.video("a fox") == text("settings.sensitive_preset_age_restricted", preset="tiny")
    assert bot.charges() == before
    assert (await bot.video("a fox after dark", channel_id=AGE_RESTRICTED_ID)).startswith(CHARGED)
    await bot.settings("presets sensitive", allow=False)
    refused = await bot.video("a fox after dark", channel_id=AGE_RESTRICTED_ID)
    assert refused == text("settings.sensitive_preset_refused", preset="tiny")


async def test_nothing_went_wrong_inside_the_bot(bot: RunningBot) -> None:
    assert bot.fake.schema_violations() == []
    for process in bot.processes:
        assert "Traceback" not in process.output
