"""/quota and /mod end to end: one `python -m bot` against the fake Discord, moderators and members.

Discord hides /mod from members (default_member_permissions), but a server owner can show it to anyone,
and /quota is visible to all for `/quota me`: so the fake lets anyone invoke anything, and the bot must refuse.

The module shares one bot, so each test makes its own members and roles and compares counts before and
after, never totals: any test passes alone or in any order. No test changes the server's default or window.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
import pytest_asyncio

from bot.messages import text
from tests.bot.bot_process import BotProcess, bot_environment
from tests.fake_discord.fixtures import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    OTHER_MEMBER_ID,
    OWNER_ID,
    add_default_guild,
)
from tests.fake_discord.models import MEMBER_PERMISSIONS, Permission
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 1 << 6
UPDATE_MESSAGE = 7
DAILY_CREDITS = 2
MESSAGE_LIMIT = 2000
# Members and roles made per test; the ones in MODERATOR_COMMANDS are never changed (every call is refused).
FRESH_IDS = itertools.count(701_224_690_812_590_000)
UNTOUCHED_ROLE_ID = 1_184_012_109_630_054_502

MODERATOR_COMMANDS: list[tuple[str, str, Mapping[str, object]]] = [
    ("quota", "show", {"member": MEMBER_ID}),
    ("quota", "set-default", {"credits": 50}),
    ("quota", "set-role", {"role": UNTOUCHED_ROLE_ID, "credits": 50}),
    ("quota", "set-member", {"member": MEMBER_ID, "credits": 50}),
    ("quota", "grant", {"member": MEMBER_ID, "credits": 50}),
    ("quota", "reset", {"member": MEMBER_ID}),
    ("quota", "window", {"kind": "rolling"}),
    ("mod", "ban", {"member": OTHER_MEMBER_ID}),
    ("mod", "unban", {"member": OTHER_MEMBER_ID}),
    ("mod", "audit", {}),
    ("mod", "role", {"role": UNTOUCHED_ROLE_ID}),
]


class RunningBot:
    def __init__(self, fake: FakeDiscord, process: BotProcess, workdir: Path) -> None:
        self.fake = fake
        self.process = process
        self.workdir = workdir

    async def command(
        self, user_id: int, name: str, subcommand: str, permissions: int | None = None, **options: object
    ) -> RecordedRequest:
        """Run a command and return the bot's first answer to it."""
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=user_id,
            name=name,
            subcommand=subcommand,
            options=options,
            permissions=permissions,
        )
        return await self.callback(interaction)

    async def callback(self, interaction: SentInteraction) -> RecordedRequest:
        return await self.fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback")

    def count(self, query: str, *parameters: object) -> int:
        with sqlite3.connect(self.workdir / "bot.db") as database:
            return int(database.execute(query, parameters).fetchone()[0])

    def counts(self) -> tuple[int, ...]:
        """Rows of every table a moderator command writes to."""
        tables = ("audit_log", "role_tiers", "credit_ledger", "guild_settings", "quota_members")
        return tuple(self.count(f"SELECT count(*) FROM {table}") for table in tables)

    def new_member(self, name: str, roles: list[int] | None = None) -> int:
        """A member no other test knows, with plain member permissions (from @everyone)."""
        user_id = next(FRESH_IDS)
        self.fake.add_member(GUILD_ID, user_id, name=name, roles=roles or [])
        return user_id

    def new_role(self) -> int:
        """A role no other test knows (the fake creates a role with the first member given it)."""
        role_id = next(FRESH_IDS)
        self.new_member("Role holder", [role_id])
        return role_id


def reply_of(callback: RecordedRequest) -> Payload:
    """The content of an immediate ephemeral reply that pings nobody."""
    assert callback.json is not None and callback.json["type"] == 4, callback.describe()
    data: Payload = callback.json["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"]["parse"] == []
    return data


def credits_of(me: str) -> tuple[int, int]:
    """(left, allowance) from a /quota me answer."""
    found = re.search(r"(-?\d+) of (\d+) credits left", me)
    assert found is not None, me
    return int(found[1]), int(found[2])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    await fake.start()
    add_default_guild(fake)
    fake.add_member(GUILD_ID, next(FRESH_IDS), name="Untouched", roles=[UNTOUCHED_ROLE_ID])
    workdir = tmp_path_factory.mktemp("quota-bot")
    environment = bot_environment(
        fake, workdir, DISCORD_GUILD_ID=str(GUILD_ID), QUOTA_DAILY_CREDITS=str(DAILY_CREDITS), LOG_LEVEL="INFO"
    )
    process = BotProcess(environment, workdir)
    await process.start()
    try:
        await fake.wait_until_ready(timeout=60, commands_synced=True)
        await process.wait_for_log("logged in as")
        yield RunningBot(fake, process, workdir)
    finally:
        await process.stop()
        await fake.stop()


async def test_mod_is_hidden_from_members_and_quota_lists_every_subcommand(bot: RunningBot) -> None:
    commands = {command["name"]: command for command in bot.fake.synced_commands}
    assert int(commands["mod"]["default_member_permissions"]) == Permission.MANAGE_GUILD
    assert commands["mod"]["contexts"] == [0] or commands["mod"].get("dm_permission") is False
    subcommands = {option["name"] for option in commands["quota"]["options"]}
    assert subcommands == {"me", "show", "set-default", "set-role", "set-member", "grant", "reset", "window"}


@pytest.mark.parametrize(("name", "subcommand", "options"), MODERATOR_COMMANDS)
async def test_every_moderator_command_is_refused_to_a_member(
    bot: RunningBot, name: str, subcommand: str, options: Mapping[str, object]
) -> None:
    before = bot.counts()
    callback = await bot.command(MEMBER_ID, name, subcommand, permissions=int(MEMBER_PERMISSIONS), **options)
    denial = "mod.denied_manage_server" if (name, subcommand) == ("mod", "role") else "mod.denied"
    assert reply_of(callback)["content"] == text(denial)
    assert bot.counts() == before


async def test_a_manage_server_moderator_sets_a_tier_and_grants_credits(bot: RunningBot) -> None:
    tier_role = bot.new_role()
    carol = bot.new_member("Carol", [tier_role])
    tier = reply_of(await bot.command(MODERATOR_ID, "quota", "set-role", role=tier_role, credits=7))
    assert tier["content"] == f"Done: tier of <@&{tier_role}> none → 7."
    grant = reply_of(await bot.command(MODERATOR_ID, "quota", "grant", member=carol, credits=3))
    assert f"granted <@{carol}> +3 credits" in grant["content"]

    me = reply_of(await bot.command(carol, "quota", "me"))["content"]
    assert "10 of 7 credits left (resets daily at 00:00 UTC)" in me
    assert "Active jobs: 0 of 2" in me and "the default clip costs 1 credit" in me
    shown = reply_of(await bot.command(MODERATOR_ID, "quota", "show", member=carol))["content"]
    assert f"<@{carol}>" in shown and "10 of 7" in shown


async def test_a_member_with_the_moderator_role_can_moderate(bot: RunningBot) -> None:
    helper_role, tier_role = bot.new_role(), bot.new_role()
    helper = bot.new_member("Helper Hana", [helper_role])
    member = bot.new_member("Dana")
    refused = reply_of(await bot.command(helper, "quota", "grant", member=member, credits=1))
    assert "Only moderators" in refused["content"]
    chosen = reply_of(await bot.command(OWNER_ID, "mod", "role", role=helper_role))
    assert chosen["content"].endswith(f"→ <@&{helper_role}>.")

    tier = reply_of(await bot.command(helper, "quota", "set-role", role=tier_role, credits=9))
    assert tier["content"] == f"Done: tier of <@&{tier_role}> none → 9."
    left, allowance = credits_of(reply_of(await bot.command(member, "quota", "me"))["content"])
    reply_of(await bot.command(helper, "quota", "grant", member=member, credits=4))
    assert credits_of(reply_of(await bot.command(member, "quota", "me"))["content"]) == (left + 4, allowance)
    # The moderator role moderates quotas, but does not choose who moderates.
    assert "Manage Server" in reply_of(await bot.command(helper, "mod", "role"))["content"]


@pytest.mark.parametrize("credits", [-5, 0, 10**7, "lots"])
async def test_a_bad_amount_gets_a_clear_error_and_changes_nothing(bot: RunningBot, credits: object) -> None:
    member = bot.new_member("Erin")
    before = bot.counts()
    callback = await bot.command(MODERATOR_ID, "quota", "grant", member=member, credits=credits)
    assert "`credits` must be a whole number from 1 to 1000000" in reply_of(callback)["content"]
    assert bot.counts() == before


async def test_a_window_kind_discord_does_not_offer_is_refused_politely(bot: RunningBot) -> None:
    before = bot.counts()
    callback = await bot.command(MODERATOR_ID, "quota", "window", kind="weekly")
    assert "`kind` must be one of `daily`, `rolling`" in reply_of(callback)["content"]
    assert bot.counts() == before


async def test_a_banned_member_gets_an_ephemeral_refusal_and_no_job(bot: RunningBot) -> None:
    bob = bot.new_member("Bob")
    banned = reply_of(await bot.command(MODERATOR_ID, "mod", "ban", member=bob, reason="spam"))
    assert banned["content"] == f"Done: banned <@{bob}> from making videos (banned: spam)."

    interaction = await bot.fake.send_slash_command(
        guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=bob, name="video", options={"prompt": "a fox"}
    )
    callback = await bot.callback(interaction)
    assert callback.json is not None and callback.json["data"]["flags"] & EPHEMERAL
    refusal = await bot.fake.wait_for_request(
        "PATCH", rf"/webhooks/{bot.fake.application_id}/{interaction.token}/messages/@original"
    )
    assert refusal.json is not None and "can't make videos in this server" in refusal.json["content"]
    assert bot.count("SELECT count(*) FROM jobs WHERE user_id = ?", bob) == 0
    assert "Banned" in reply_of(await bot.command(bob, "quota", "me"))["content"]


async def test_the_audit_log_pages_with_buttons(bot: RunningBot) -> None:
    member = bot.new_member("Frank")
    for credits in range(1, 13):
        reply_of(await bot.command(MODERATOR_ID, "quota", "set-member", member=member, credits=credits))

    first = reply_of(await bot.command(MODERATOR_ID, "mod", "audit"))
    assert f"<@{MODERATOR_ID}>: override of <@{member}> 11 → 12" in first["content"]
    assert "none → 1" not in first["content"]  # ten a page: the oldest two are on the next
    [page] = [message for message in bot.fake.messages_in(CHANNEL_ID) if message["content"] == first["content"]]
    [[older]] = [[button for button in row["components"]] for row in page["components"]]
    assert older["label"] == "Older"

    click = await bot.fake.click_button(
        message=page, custom_id=older["custom_id"], guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MODERATOR_ID
    )
    update = await bot.callback(click)
    assert update.json is not None and update.json["type"] == UPDATE_MESSAGE
    assert f"override of <@{member}> none → 1" in update.json["data"]["content"]

    # The button checks who clicks it, too.
    intruder = await bot.fake.click_button(
        message=page, custom_id=older["custom_id"], guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MEMBER_ID
    )
    assert "Only moderators" in reply_of(await bot.callback(intruder))["content"]
    assert bot.fake.schema_violations() == []


async def test_an_audit_page_of_long_ban_reasons_fits_in_a_message(bot: RunningBot) -> None:
    reason = ("*spam* " * 40)[:200]
    members = [bot.new_member(f"Spammer {number}") for number in range(10)]
    for member in members:
        reply_of(await bot.command(MODERATOR_ID, "mod", "ban", member=member, reason=reason))

    first = reply_of(await bot.command(MODERATOR_ID, "mod", "audit"))

    assert len(first["content"]) <= MESSAGE_LIMIT
    assert f"<@{members[-1]}>" in first["content"] and f"<@{members[0]}>" not in first["content"]
    [page] = [message for message in bot.fake.messages_in(CHANNEL_ID) if message["content"] == first["content"]]
    [[older]] = [[button for button in row["components"]] for row in page["components"]]
    click = await bot.fake.click_button(
        message=page, custom_id=older["custom_id"], guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MODERATOR_ID
    )
    update = await bot.callback(click)
    assert update.json is not None and len(update.json["data"]["content"]) <= MESSAGE_LIMIT
    assert f"<@{members[0]}>" in update.json["data"]["content"]  # left out of the first page, not lost
    assert bot.fake.schema_violations() == []


async def test_nothing_went_wrong_inside_the_bot(bot: RunningBot) -> None:
    assert "Traceback" not in bot.process.output
