"""/queue end to end: one `python -m bot` against the fake Discord, its tiny preset made slow (many steps) so that
jobs wait behind the one rendering.

Discord hides /queue from members (default_member_permissions), but a server owner can show it to anyone, so the fake
lets anyone invoke it and the bot must refuse. The module shares one bot: each test makes its own members and roles,
compares counts rather than totals, and leaves the queue resumed. The paging test restarts the bot last of all.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping

import pytest
import pytest_asyncio

from bot.formatting import safe_user_text
from bot.messages import text
from tests.bot.bot_process import RestartableBot, bot_environment
from tests.fake_discord.fixtures import CHANNEL_ID, GUILD_ID, MEMBER_ID, MODERATOR_ID, add_default_guild
from tests.fake_discord.models import MEMBER_PERMISSIONS, Permission
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 1 << 6
UPDATE_MESSAGE = 7
MESSAGE_LIMIT = 2000
FRESH_IDS = itertools.count(701_224_690_812_790_000)
UNTOUCHED_ROLE_ID = 1_184_012_109_630_054_777

QUEUE_COMMANDS: list[tuple[str, Mapping[str, object]]] = [
    ("show", {}),
    ("pause", {}),
    ("resume", {}),
    ("priority", {"role": UNTOUCHED_ROLE_ID, "weight": 3}),
]


class RunningBot(RestartableBot):
    guild_id = GUILD_ID
    renders_at_start = True  # jobs render from the start

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

    async def video(self, user_id: int, prompt: str) -> str:
        """/video, answered: the deferred ephemeral answer's words (Queued, or why not)."""
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=user_id, name="video", options={"prompt": prompt}
        )
        callback = await self.callback(interaction)
        assert callback.json is not None and callback.json["data"]["flags"] & EPHEMERAL
        edit = await self.fake.wait_for_request(
            "PATCH", rf"/webhooks/{self.fake.application_id}/{interaction.token}/messages/@original", timeout=30
        )
        assert edit.json is not None and edit.json["allowed_mentions"]["parse"] == []
        return str(edit.json["content"])

    def count(self, query: str, *parameters: object) -> int:
        with sqlite3.connect(self.workdir / "bot.db") as database:
            return int(database.execute(query, parameters).fetchone()[0])

    def counts(self) -> tuple[int, ...]:
        """Rows of every table a queue command writes to, and the paused servers."""
        tables = ("audit_log", "role_priorities", "guild_settings", "jobs")
        paused = self.count("SELECT count(*) FROM guild_settings WHERE queue_paused")
        return (*(self.count(f"SELECT count(*) FROM {table}") for table in tables), paused)

    def new_member(self, name: str, roles: list[int] | None = None) -> int:
        user_id = next(FRESH_IDS)
        self.fake.add_member(GUILD_ID, user_id, name=name, roles=roles or [])
        return user_id

    def new_role(self) -> int:
        """A role no other test knows (the fake creates a role with the first member given it)."""
        role_id = next(FRESH_IDS)
        self.new_member("Role holder", [role_id])
        return role_id

    def page_message(self, content: str) -> Payload:
        [message] = [message for message in self.fake.messages_in(CHANNEL_ID) if message["content"] == content]
        return message

    async def click(self, message: Payload, custom_id: str, user_id: int) -> RecordedRequest:
        click = await self.fake.click_button(
            message=message, custom_id=custom_id, guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=user_id
        )
        return await self.callback(click)


def reply_of(callback: RecordedRequest) -> Payload:
    """The content of an immediate ephemeral reply that pings nobody."""
    assert callback.json is not None and callback.json["type"] == 4, callback.describe()
    data: Payload = callback.json["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"]["parse"] == []
    return data


def buttons(message: Payload) -> list[Payload]:
    return [button for row in message.get("components", []) for button in row["components"]]


def queue_lines(content: str) -> list[tuple[int, int]]:
    """(job id, position) of each line of a /queue show page."""
    return [(int(job_id), int(place)) for job_id, place in re.findall(r"`#(\d+)` · position (\d+) ·", content)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    await fake.start()
    add_default_guild(fake)
    fake.add_member(GUILD_ID, next(FRESH_IDS), name="Untouched", roles=[UNTOUCHED_ROLE_ID])
    workdir = tmp_path_factory.mktemp("queue-bot")
    presets = workdir / "presets.toml"
    # minutes of rendering: the other jobs wait
    presets.write_text("[tiny]\ndefault_steps = 5000\nmax_steps = 5000\n")
    environment = bot_environment(
        fake,
        workdir,
        DISCORD_GUILD_ID=str(GUILD_ID),
        VIDEO_PRESETS_FILE=str(presets),
        QUOTA_DAILY_CREDITS="100",
        QUOTA_MAX_ACTIVE_JOBS="20",
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


async def test_queue_is_hidden_from_members_and_lists_its_subcommands(bot: RunningBot) -> None:
    commands = {command["name"]: command for command in bot.fake.synced_commands}
    assert int(commands["queue"]["default_member_permissions"]) == Permission.MANAGE_GUILD
    options = {option["name"]: option for option in commands["queue"]["options"]}
    assert set(options) == {"show", "pause", "resume", "priority"}
    weight = {option["name"]: option for option in options["priority"]["options"]}["weight"]
    assert (weight["min_value"], weight["max_value"]) == (1, 10)


@pytest.mark.parametrize(("subcommand", "options"), QUEUE_COMMANDS)
async def test_every_queue_command_is_refused_to_a_member(
    bot: RunningBot, subcommand: str, options: Mapping[str, object]
) -> None:
    before = bot.counts()
    callback = await bot.command(MEMBER_ID, "queue", subcommand, permissions=int(MEMBER_PERMISSIONS), **options)
    assert reply_of(callback)["content"] == text("mod.denied")
    assert bot.counts() == before


async def test_a_paused_server_refuses_video_and_charges_nothing_until_resumed(bot: RunningBot) -> None:
    member = bot.new_member("Gina")
    audited = bot.count("SELECT count(*) FROM audit_log")
    paused = reply_of(await bot.command(MODERATOR_ID, "queue", "pause"))
    try:
        assert paused["content"] == "Done: paused the queue (new requests refused, waiting jobs held)."
        again = reply_of(await bot.command(MODERATOR_ID, "queue", "pause"))
        assert again["content"] == text("queue.already_paused")
        assert text("queue.paused_note") in reply_of(await bot.command(MODERATOR_ID, "queue", "show"))["content"]

        assert await bot.video(member, "a fox in a paused queue") == text("queue.paused")
        assert bot.count("SELECT count(*) FROM jobs WHERE user_id = ?", member) == 0
        assert bot.count("SELECT count(*) FROM credit_ledger WHERE user_id = ?", member) == 0
    finally:
        resumed = reply_of(await bot.command(MODERATOR_ID, "queue", "resume"))
    assert resumed["content"] == "Done: resumed the queue."
    assert reply_of(await bot.command(MODERATOR_ID, "queue", "resume"))["content"] == text("queue.not_paused")
    assert (await bot.video(member, "a fox in a running queue")).startswith("Queued")
    assert bot.count("SELECT count(*) FROM credit_ledger WHERE user_id = ? AND kind = 'reserve'", member) == 1

    assert bot.count("SELECT count(*) FROM audit_log") == audited + 2  # the refused pause and resume wrote nothing
    audit = reply_of(await bot.command(MODERATOR_ID, "mod", "audit"))["content"]
    assert f"<@{MODERATOR_ID}>: resumed the queue" in audit
    assert f"<@{MODERATOR_ID}>: paused the queue (new requests refused, waiting jobs held)" in audit


async def test_a_roles_priority_goes_on_its_members_jobs_and_shows_in_the_audit_log(bot: RunningBot) -> None:
    role = bot.new_role()
    holder = bot.new_member("Hugo", [role])
    before = bot.counts()
    refused = reply_of(await bot.command(MODERATOR_ID, "queue", "priority", role=role, weight=11))
    assert refused["content"] == text("amount.invalid", field="weight", minimum=1, maximum=10)
    assert bot.counts() == before

    done = reply_of(await bot.command(MODERATOR_ID, "queue", "priority", role=role, weight=3))["content"]
    assert done.startswith("Done: queue priority of") and done.endswith("1 → 3 turns per round.")
    assert (await bot.video(holder, "a weighty fox")).startswith("Queued")
    assert bot.count("SELECT priority_weight FROM jobs WHERE user_id = ?", holder) == 3
    assert bot.count("SELECT weight FROM role_priorities WHERE role_id = ?", role) == 3

    audit = reply_of(await bot.command(MODERATOR_ID, "mod", "audit"))["content"]
    assert f"<@{MODERATOR_ID}>: queue priority of" in audit and "1 → 3 turns per round" in audit


async def test_queue_show_pages_in_fair_order_and_its_buttons_work_after_a_restart(bot: RunningBot) -> None:
    ivy, jon = bot.new_member("Ivy *the* @everyone"), bot.new_member("Jon")
    for number in range(6):
        for member in (ivy, jon):
            assert (await bot.video(member, f"a fox, take {number}")).startswith("Queued")
    waiting = bot.count("SELECT count(*) FROM jobs WHERE guild_id = ? AND state IN ('queued', 'running')", GUILD_ID)
    assert 12 < waiting <= 20  # two pages

    first = reply_of(await bot.command(MODERATOR_ID, "queue", "show"))
    content = first["content"]
    assert len(content) <= MESSAGE_LIMIT and "@everyone" not in content
    assert f"{waiting} jobs waiting or rendering · page 1 of 2" in content
    lines = queue_lines(content)
    assert len(lines) == 10 and [place for _, place in lines] == sorted(place for _, place in lines)
    assert "· rendering ·" in content.splitlines()[1]  # the job on the GPU comes first
    assert safe_user_text("Ivy *the* @everyone", 40) in content and "· Jon ·" in content  # named, escaped, no ping
    page = bot.page_message(content)
    [next_page] = buttons(page)
    assert (next_page["label"], next_page["custom_id"]) == ("Next", f"queue:{GUILD_ID}:1")

    await bot.restart()

    update = await bot.click(page, next_page["custom_id"], MODERATOR_ID)
    assert update.json is not None and update.json["type"] == UPDATE_MESSAGE
    data = update.json["data"]
    assert data["allowed_mentions"]["parse"] == []
    assert "page 2 of 2" in data["content"]
    assert {job_id for job_id, _ in queue_lines(data["content"])}.isdisjoint(job_id for job_id, _ in lines)
    [previous] = buttons(data)
    assert (previous["label"], previous["custom_id"]) == ("Previous", f"queue:{GUILD_ID}:0")

    # The button checks who clicks it, too.
    intruder = await bot.click(page, next_page["custom_id"], MEMBER_ID)
    assert reply_of(intruder)["content"] == text("mod.denied")
    assert bot.fake.schema_violations() == []


async def test_nothing_went_wrong_inside_the_bot(bot: RunningBot) -> None:
    for process in bot.processes:
        assert "Traceback" not in process.output
