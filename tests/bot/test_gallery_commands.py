"""/gallery, the buttons under every post (Star, Reroll, Details, Delete) and the gallery channel end to end: one
`python -m bot` (tiny preset, real renders) against the fake Discord, with GALLERY_PUBLIC_URL set so that the lists
can link to the web gallery.

The module shares one bot and one database, in order: the tests build on the clips the earlier ones made (nine
renders in all, one of them a Reroll) and the paging test restarts the bot, so the buttons clicked after it are on
posts (and a Delete question) made before it. The bot serves its web gallery on a free port, behind the
public URL as if a proxy were in front of it. Alice (MEMBER_ID) and Bob (OTHER_MEMBER_ID) make the clips;
OTHER_CHANNEL_ID becomes the gallery channel.
"""

from __future__ import annotations

import asyncio
import re
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.messages import text
from tests.bot.bot_process import RestartableBot, bot_environment
from tests.fake_discord.fixtures import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    OTHER_CHANNEL_ID,
    OTHER_MEMBER_ID,
    add_default_guild,
)
from tests.fake_discord.models import MEMBER_PERMISSIONS, FakeMember, Permission
from tests.fake_discord.payloads import Payload
from tests.fake_discord.server import FakeDiscord, RecordedRequest, SentInteraction

pytestmark = pytest.mark.asyncio(loop_scope="module")

EPHEMERAL = 1 << 6
REPLY, DEFERRED_REPLY, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
MESSAGE_LIMIT = 2000
PUBLIC_URL = "https://gallery.example"
ELSEWHERE_GUILD_ID, ELSEWHERE_CHANNEL_ID = 1_184_011_822_290_899_001, 1_184_011_822_290_899_002


class RunningBot(RestartableBot):
    guild_id = GUILD_ID

    def __init__(self, fake: FakeDiscord, environment: dict[str, str], workdir: Path) -> None:
        super().__init__(fake, environment, workdir)
        self.web_gallery = f"http://127.0.0.1:{environment['GALLERY_PORT']}"
        self.confirmation: tuple[int, Payload] | None = None
        """A Delete button's question asked before the restart, with its job: answered after it."""

    # -- acting as members ------------------------------------------------------------

    async def command(self, user_id: int, subcommand: str, name: str = "gallery", **options: object) -> Payload:
        """Run a command; its answer, which must be ephemeral and ping no one."""
        interaction = await self.fake.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=user_id,
            name=name,
            subcommand=subcommand,
            options=options,
        )
        return reply_of(await self.callback(interaction)) | {"interaction": interaction}

    async def callback(self, interaction: SentInteraction) -> RecordedRequest:
        return await self.fake.wait_for_request("POST", rf"/interactions/{interaction.id}/[^/]+/callback")

    async def video(self, user_id: int, prompt: str) -> SentInteraction:
        return await self.fake.send_slash_command(
            guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=user_id, name="video", options={"prompt": prompt}
        )

    async def posted(self, interaction: SentInteraction) -> tuple[int, Payload]:
        """The job of a /video and its post in the channel, once its status says it is posted."""
        edit = await self.fake.wait_for_request(
            "PATCH",
            rf"/webhooks/{self.fake.application_id}/{interaction.token}/messages/@original",
            predicate=lambda request: "is posted" in (request.json or {}).get("content", ""),
            timeout=90,
        )
        found = re.search(r"job #(\d+)\*\* is posted: \S+/(\d+)$", edit.json["content"])
        assert found is not None, edit.json["content"]
        [post] = [message for message in self.fake.messages_in(CHANNEL_ID) if message["id"] == found[2]]
        return int(found[1]), post

    async def make_clips(self, *makers: tuple[int, str]) -> list[tuple[int, Payload]]:
        """Each (member, prompt) runs /video, all at once; their jobs and posts, in that order."""
        interactions = [await self.video(user_id, prompt) for user_id, prompt in makers]
        return [await self.posted(interaction) for interaction in interactions]

    async def click(
        self, message: Payload, custom_id: str, user_id: int, guild_id: int = GUILD_ID, locale: str = "en-US"
    ) -> tuple[SentInteraction, RecordedRequest]:
        channel_id = CHANNEL_ID if guild_id == GUILD_ID else ELSEWHERE_CHANNEL_ID
        click = await self.fake.click_button(
            message=message,
            custom_id=custom_id,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            locale=locale,
        )
        return click, await self.callback(click)

    async def answer(self, message: Payload, custom_id: str, user_id: int, **where: Any) -> Payload:
        """Click a button that answers in a new ephemeral message, deferred first: that message's first words (and
        its embeds and buttons), which ping no one. The click is kept as the answer's "interaction"."""
        click, callback = await self.click(message, custom_id, user_id, **where)
        assert callback.json is not None and callback.json["type"] == DEFERRED_REPLY, callback.describe()
        assert callback.json["data"]["flags"] & EPHEMERAL
        return await self.first_edit(click)

    async def first_edit(self, click: SentInteraction) -> Payload:
        edit = await self.fake.wait_for_request(
            "PATCH", rf"^/webhooks/{self.fake.application_id}/{click.token}/messages/@original$"
        )
        body: Payload = edit.json
        assert body["allowed_mentions"]["parse"] == [] and not body["allowed_mentions"].get("users")
        return body | {"interaction": click}

    async def ask_to_delete(self, post: Payload, job_id: int, user_id: int) -> tuple[str, Payload]:
        """Click the post's Delete: the question's words, and its message (which carries Delete and Keep)."""
        asked = await self.answer(post, f"delete:{job_id}", user_id)
        question = self.fake.original_response(asked["interaction"])
        assert question is not None and question["flags"] & EPHEMERAL
        return str(asked["content"]), question

    async def confirm(self, question: Payload, custom_id: str, user_id: int) -> Payload:
        """Click Delete or Keep on a Delete question: the question's message as the click left it."""
        click, callback = await self.click(question, custom_id, user_id)
        assert callback.json is not None and callback.json["type"] in (DEFERRED_UPDATE, UPDATE_MESSAGE)
        if callback.json["type"] == UPDATE_MESSAGE:
            data: Payload = callback.json["data"]
            return data
        return await self.first_edit(click)

    def post_of(self, job_id: int) -> Payload:
        message_id = self.value("SELECT message_id FROM jobs WHERE id = ?", job_id)
        [post] = [message for message in self.fake.messages_in(CHANNEL_ID) if message["id"] == str(message_id)]
        return post

    async def star(self, post: Payload, job_id: int, user_id: int) -> tuple[Payload, str]:
        """Click the post's Star button: the message's new data, and the ephemeral followup's words."""
        click, callback = await self.click(post, f"star:{job_id}", user_id)
        assert callback.json is not None and callback.json["type"] == UPDATE_MESSAGE, callback.describe()
        followup = await self.fake.wait_for_request("POST", rf"^/webhooks/{self.fake.application_id}/{click.token}$")
        assert followup.json["flags"] & EPHEMERAL and followup.json["allowed_mentions"]["parse"] == []
        return callback.json["data"], str(followup.json["content"])

    async def turn(self, page: Payload, label: str, user_id: int = MEMBER_ID) -> Payload:
        """Click a list page's Previous or Next: the page it turns to (the same message, edited)."""
        [button] = [button for button in buttons(page) if button["label"] == label]
        _, callback = await self.click(page, button["custom_id"], user_id)
        assert callback.json is not None and callback.json["type"] == UPDATE_MESSAGE, callback.describe()
        data: Payload = callback.json["data"]
        assert data["allowed_mentions"]["parse"] == [] and not data["allowed_mentions"].get("users")
        return {**page, **data}

    # -- reading what happened ----------------------------------------------------------

    def query(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.workdir / "bot.db") as database:
            return database.execute(sql, parameters).fetchall()

    def value(self, sql: str, *parameters: object) -> Any:
        [(found,)] = self.query(sql, *parameters)
        return found

    async def recorded_cross_post(self, job_id: int, timeout: float = 10.0) -> Any:
        """The job's cross-post as the bot recorded it, once it has (right after Discord answered)."""
        async with asyncio.timeout(timeout):
            while (message_id := self.value("SELECT gallery_message_id FROM jobs WHERE id = ?", job_id)) is None:
                await asyncio.sleep(0.05)
        return message_id

    async def web_status(self, url: str) -> int:
        """What the web gallery in the bot's process answers for a link the bot posted (GALLERY_PUBLIC_URL is the
        address of a proxy in front of it)."""
        assert url.startswith(PUBLIC_URL)
        async with aiohttp.ClientSession() as session, session.get(self.web_gallery + url[len(PUBLIC_URL) :]) as got:
            return got.status

    def cross_posts(self) -> list[RecordedRequest]:
        return [
            request
            for request in self.fake.requests
            if request.method == "POST" and request.path == f"/channels/{OTHER_CHANNEL_ID}/messages"
        ]

    async def cross_post_of(self, job_id: int) -> RecordedRequest:
        return await self.fake.wait_for_request(
            "POST",
            rf"^/channels/{OTHER_CHANNEL_ID}/messages$",
            predicate=lambda request: (request.json or {}).get("nonce") == f"gallery-{job_id}",
            timeout=30,
        )

    def files_of(self, job_id: int) -> list[Path]:
        [(video, poster)] = self.query("SELECT video_key, poster_key FROM jobs WHERE id = ?", job_id)
        keys = [str(video), str(poster), f"media/{job_id}.json"]
        return [self.workdir / "data" / key for key in keys]


def reply_of(callback: RecordedRequest) -> Payload:
    """An immediate ephemeral reply that pings nobody."""
    assert callback.json is not None and callback.json["type"] == REPLY, callback.describe()
    data: Payload = callback.json["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"]["parse"] == [] and not data["allowed_mentions"].get("users")
    assert len(data["content"]) <= MESSAGE_LIMIT
    return data


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def buttons(message: Payload) -> list[Payload]:
    return [button for row in message.get("components") or [] for button in row["components"]]


def listed(content: str) -> list[int]:
    """The job numbers on a gallery page, in order."""
    return [int(job_id) for job_id in re.findall(r"^\*\*#(\d+)\*\* · ", content, flags=re.MULTILINE)]


def stars_of(content: str, job_id: int) -> int:
    found = re.search(rf"^\*\*#{job_id}\*\* · ⭐ (\d+) · ", content, flags=re.MULTILINE)
    assert found is not None, content
    return int(found[1])


def star_label(message: Payload) -> str:
    [button] = [button for button in buttons(message) if button["custom_id"].startswith("star:")]
    return str(button["label"])


def clip_row(job_id: int, star: str = text("star.label_none")) -> list[tuple[str, str]]:
    """The buttons under a posted clip: (custom_id, label) of each."""
    return [
        (f"star:{job_id}", star),
        (f"reroll:{job_id}", text("clip.reroll")),
        (f"details:{job_id}", text("clip.details")),
        (f"delete:{job_id}", text("clip.delete")),
    ]


def row_of(message: Payload) -> list[tuple[str, str]]:
    return [(button["custom_id"], button["label"]) for button in buttons(message)]


def with_button(message: Payload, custom_id: str) -> Payload:
    """The message as if it carried a button with this custom_id (discord.py dispatches only a button it shows)."""
    button = {"type": 2, "style": 2, "label": "?", "custom_id": custom_id}
    return message | {"components": [{"type": 1, "components": [button]}]}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningBot]:
    fake = FakeDiscord()
    await fake.start()
    add_default_guild(fake)
    fake.add_guild(
        ELSEWHERE_GUILD_ID,
        name="Elsewhere",
        channels=[ELSEWHERE_CHANNEL_ID],
        members=[FakeMember(user_id=OTHER_MEMBER_ID, name="Bob")],
    )
    workdir = tmp_path_factory.mktemp("gallery-bot")
    environment = bot_environment(
        fake,
        workdir,
        DISCORD_GUILD_ID=str(GUILD_ID),
        GALLERY_PUBLIC_URL=PUBLIC_URL,
        GALLERY_PORT=str(free_port()),
        QUOTA_DAILY_CREDITS="100",
        QUOTA_MAX_ACTIVE_JOBS="10",
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


async def test_gallery_is_synced_with_its_subcommands_for_everyone(bot: RunningBot) -> None:
    [gallery] = [command for command in bot.fake.synced_commands if command["name"] == "gallery"]
    assert gallery.get("default_member_permissions") is None  # members browse it; moderators' parts check
    subcommands = {option["name"]: option for option in gallery["options"]}
    assert set(subcommands) == {"recent", "top", "member", "optout", "optin", "delete", "settings", "hide", "unhide"}
    settings = {option["name"]: option for option in subcommands["settings"]["options"]}
    assert set(settings) == {"public", "channel", "clear_channel", "new_link"}
    assert not any(option.get("required") for option in settings.values())
    assert settings["channel"]["channel_types"] == [0, 5]  # text and announcement channels
    assert f"web gallery listening on {bot.web_gallery}" in bot.process.output  # started with the bot


async def test_settings_are_for_moderators_and_a_new_gallery_is_private(bot: RunningBot) -> None:
    audited = bot.value("SELECT count(*) FROM audit_log")
    for options in ({}, {"public": True}, {"new_link": True}, {"channel": OTHER_CHANNEL_ID}):
        refused = await bot.command(MEMBER_ID, "settings", **options)
        assert refused["content"] == text("mod.denied")
    for subcommand in ("hide", "unhide"):
        assert (await bot.command(MEMBER_ID, subcommand, job=1))["content"] == text("mod.denied")
    assert bot.value("SELECT count(*) FROM audit_log") == audited
    assert bot.query("SELECT guild_id FROM guild_settings WHERE gallery_slug IS NOT NULL") == []  # never set up

    shown = (await bot.command(MODERATOR_ID, "settings"))["content"]
    assert shown == text("gallery.settings", visibility=text("gallery.settings_private"), channel=text("value.none"))
    both = await bot.command(MODERATOR_ID, "settings", channel=OTHER_CHANNEL_ID, clear_channel=True)
    assert both["content"] == text("gallery.settings_conflict")
    await bot.fake.set_role_permissions(GUILD_ID, GUILD_ID, int(MEMBER_PERMISSIONS & ~Permission.ATTACH_FILES))
    try:
        refused = await bot.command(MODERATOR_ID, "settings", channel=OTHER_CHANNEL_ID)
    finally:
        await bot.fake.set_role_permissions(GUILD_ID, GUILD_ID, int(MEMBER_PERMISSIONS))
    assert refused["content"] == text(
        "gallery.channel_missing_permissions", channel=f"<#{OTHER_CHANNEL_ID}>", permissions="Attach Files"
    )
    # Setting what is already so changes nothing and leaves no audit row.
    unchanged = await bot.command(MODERATOR_ID, "settings", public=False, clear_channel=True)
    assert unchanged["content"] == shown
    assert bot.value("SELECT count(*) FROM audit_log") == audited

    empty = await bot.command(MEMBER_ID, "recent")
    assert empty["content"] == text("gallery.recent_empty") and not buttons(empty)
    assert (await bot.command(MEMBER_ID, "top"))["content"] == text("gallery.top_empty")


async def test_a_posted_video_carries_a_star_button_one_star_per_member_and_top_counts_them(bot: RunningBot) -> None:
    [(job_id, post)] = await bot.make_clips((MEMBER_ID, "a lighthouse keeper's cat @everyone"))
    assert row_of(post) == clip_row(job_id)
    assert [user["id"] for user in post["mentions"]] == [str(MEMBER_ID)]

    data, said = await bot.star(post, job_id, MEMBER_ID)
    assert row_of(data) == clip_row(job_id, "⭐ 1")  # the click keeps the other buttons
    assert said.startswith(f"You starred **job #{job_id}**: it has 1 star now")
    # Only the components change: the body leaves the video, the credit and the requester's mention alone.
    assert set(data) <= {"components", "allowed_mentions", "tts"}
    assert [str(user) for user in data["allowed_mentions"]["users"]] == [str(MEMBER_ID)]
    [now] = [message for message in bot.fake.messages_in(CHANNEL_ID) if message["id"] == post["id"]]
    assert now["attachments"] == post["attachments"] and now["embeds"] == post["embeds"]
    assert now["mentions"] == post["mentions"] and now["content"] == post["content"]

    data, said = await bot.star(now, job_id, MEMBER_ID)  # a second click takes the star back
    assert star_label(data) == text("star.label_none") and said == text("star.unstarred", job_id=job_id)
    for member in (OTHER_MEMBER_ID, MODERATOR_ID):
        data, _ = await bot.star(post, job_id, member)
    assert star_label(data) == "⭐ 2"
    assert bot.value("SELECT star_count FROM jobs WHERE id = ?", job_id) == 2
    assert bot.value("SELECT count(*) FROM gallery_stars WHERE job_id = ?", job_id) == 2

    top = (await bot.command(OTHER_MEMBER_ID, "top"))["content"]
    assert listed(top) == [job_id] and stars_of(top, job_id) == 2
    assert top.startswith(text("gallery.top_title", page=1))
    assert f"by <@{MEMBER_ID}>" in top and "@everyone" not in top  # credited by a mention that pings no one
    assert f"[Discord post](<https://discord.com/channels/{GUILD_ID}/{CHANNEL_ID}/{post['id']}>)" in top
    assert PUBLIC_URL not in top  # the gallery is private

    # A click in another server is no star there.
    _, elsewhere = await bot.click(post, f"star:{job_id}", OTHER_MEMBER_ID, guild_id=ELSEWHERE_GUILD_ID)
    assert reply_of(elsewhere)["content"] == text("gallery.not_in_gallery", job_id=job_id)
    assert bot.value("SELECT star_count FROM jobs WHERE id = ?", job_id) == 2
    assert bot.fake.schema_violations() == []


async def test_the_gallery_channel_gets_each_new_video_once_with_its_credit_and_no_pings(bot: RunningBot) -> None:
    done = (await bot.command(MODERATOR_ID, "settings", channel=OTHER_CHANNEL_ID))["content"]
    assert done.startswith(f"Done: gallery channel none → <#{OTHER_CHANNEL_ID}>.\n")
    assert done.endswith(f"Gallery channel: <#{OTHER_CHANNEL_ID}>")

    [(job_id, post)] = await bot.make_clips((OTHER_MEMBER_ID, "a paper boat in a gutter <@&1> **loud**"))
    cross_post = await bot.cross_post_of(job_id)
    body = cross_post.json
    assert body["allowed_mentions"]["parse"] == [] and not body["allowed_mentions"].get("users")
    assert body["content"] == text("gallery.cross_post", job_id=job_id, creator=f"<@{OTHER_MEMBER_ID}>")
    assert body.get("enforce_nonce") is True
    [embed] = body["embeds"]
    assert {field["name"]: field["value"] for field in embed["fields"]}["Requested by"] == f"<@{OTHER_MEMBER_ID}>"
    assert (embed["title"], embed["description"]) == (post["embeds"][0]["title"], post["embeds"][0]["description"])
    [upload] = cross_post.files
    assert upload.data == bot.files_of(job_id)[0].read_bytes()

    [message] = bot.fake.messages_in(OTHER_CHANNEL_ID)
    assert message["mentions"] == [] and message["mention_roles"] == []
    assert row_of(message) == clip_row(job_id)
    assert await bot.recorded_cross_post(job_id) == int(message["id"])
    # Starring the cross-post counts for the clip, and leaves its mentions empty.
    data, _ = await bot.star(message, job_id, MEMBER_ID)
    assert star_label(data) == "⭐ 1" and data["allowed_mentions"] == {"parse": [], "users": []}
    assert len(bot.cross_posts()) == 1
    assert bot.fake.schema_violations() == []


async def test_an_opted_out_member_leaves_the_lists_and_is_not_cross_posted_until_back(bot: RunningBot) -> None:
    bobs = [job_id for (job_id,) in bot.query("SELECT id FROM jobs WHERE user_id = ?", OTHER_MEMBER_ID)]
    [cross_posted] = [bot.value("SELECT gallery_message_id FROM jobs WHERE id = ?", job_id) for job_id in bobs]
    assert cross_posted in [int(message["id"]) for message in bot.fake.messages_in(OTHER_CHANNEL_ID)]
    assert (await bot.command(OTHER_MEMBER_ID, "optout"))["content"] == text("gallery.opted_out")
    # The gallery channel's copy of Bob's clip is taken back, once the answer is on its way; his own post stays.
    await bot.fake.wait_for_request("DELETE", rf"^/channels/{OTHER_CHANNEL_ID}/messages/{cross_posted}$")
    assert cross_posted not in [int(message["id"]) for message in bot.fake.messages_in(OTHER_CHANNEL_ID)]
    async with asyncio.timeout(15):  # forgotten right after the delete is answered
        while bot.value("SELECT count(*) FROM jobs WHERE gallery_message_id = ?", cross_posted):
            await asyncio.sleep(0.05)
    assert all(bot.value("SELECT message_id FROM jobs WHERE id = ?", job_id) for job_id in bobs)
    assert (await bot.command(OTHER_MEMBER_ID, "optout"))["content"] == text("gallery.already_opted_out")

    recent = (await bot.command(MEMBER_ID, "recent"))["content"]
    assert listed(recent) and set(listed(recent)).isdisjoint(bobs)
    member = await bot.command(MEMBER_ID, "member", member=OTHER_MEMBER_ID)
    assert member["content"] == text("gallery.member_empty", member=f"<@{OTHER_MEMBER_ID}>")
    assert member["allowed_mentions"]["parse"] == []

    # Bob's new clip is posted for him as ever, but not in the gallery channel; Alice's, made after it, is.
    [(hidden_job, _)] = await bot.make_clips((OTHER_MEMBER_ID, "a fox that likes its privacy"))
    [(alices, _)] = await bot.make_clips((MEMBER_ID, "a fox that likes an audience"))
    await bot.recorded_cross_post(alices)
    assert bot.value("SELECT gallery_message_id FROM jobs WHERE id = ?", hidden_job) is None
    assert [request.json["nonce"] for request in bot.cross_posts()][-1] == f"gallery-{alices}"
    assert hidden_job not in listed((await bot.command(MEMBER_ID, "recent"))["content"])

    assert (await bot.command(OTHER_MEMBER_ID, "optin"))["content"] == text("gallery.opted_in")
    assert (await bot.command(OTHER_MEMBER_ID, "optin"))["content"] == text("gallery.already_opted_in")
    member = (await bot.command(MEMBER_ID, "member", member=OTHER_MEMBER_ID))["content"]
    assert member.startswith(text("gallery.member_title", member=f"<@{OTHER_MEMBER_ID}>", page=1))
    assert listed(member) == sorted([*bobs, hidden_job], reverse=True)
    assert bot.value("SELECT gallery_message_id FROM jobs WHERE id = ?", hidden_job) is None  # never made later


async def test_a_cross_post_discord_refuses_is_logged_once_and_the_clips_are_delivered_all_the_same(
    bot: RunningBot,
) -> None:
    missing_access = {"message": "Missing Access", "code": 50001}
    bot.fake.inject_fault("POST", rf"^/channels/{OTHER_CHANNEL_ID}/messages$", status=403, times=2, body=missing_access)
    made = await bot.make_clips(*((MEMBER_ID, f"a lantern festival, take {take}") for take in range(2)))
    for job_id, post in made:
        refused = await bot.cross_post_of(job_id)
        assert refused.status == 403 and post["attachments"]
        assert bot.value("SELECT state FROM jobs WHERE id = ?", job_id) == "delivered"
        assert bot.value("SELECT count(*) FROM credit_ledger WHERE job_id = ? AND kind = 'refund'", job_id) == 0
    await bot.process.wait_for_log(f"could not cross-post job {made[0][0]} to the gallery channel {OTHER_CHANNEL_ID}")
    assert bot.process.output.count("could not cross-post") == 1  # once while the channel keeps refusing
    assert "Traceback" not in bot.process.output
    assert [bot.value("SELECT gallery_message_id FROM jobs WHERE id = ?", job_id) for job_id, _ in made] == [None] * 2


async def test_lists_page_with_buttons_that_keep_working_after_a_restart(bot: RunningBot) -> None:
    [(job_id, post), _] = await bot.make_clips(*((MEMBER_ID, f"a lantern festival, take {take}") for take in (2, 3)))
    await bot.recorded_cross_post(job_id)
    await bot.process.wait_for_log(f"cross-posting to the gallery channel {OTHER_CHANNEL_ID} works again")
    everyone = [job_id for (job_id,) in bot.query("SELECT id FROM jobs ORDER BY id DESC")]
    alices = [job_id for (job_id,) in bot.query("SELECT id FROM jobs WHERE user_id = ? ORDER BY id DESC", MEMBER_ID)]
    assert len(everyone) == 8 and len(alices) == 6  # two pages of each

    recent = await bot.command(OTHER_MEMBER_ID, "recent")
    assert listed(recent["content"]) == everyone[:5]
    [next_button] = buttons(recent)
    assert (next_button["label"], next_button["custom_id"]) == ("Next", f"gallery:recent:{GUILD_ID}:0:1")
    member = await bot.command(OTHER_MEMBER_ID, "member", member=MEMBER_ID)
    assert listed(member["content"]) == alices[:5]
    [member_next] = buttons(member)
    assert member_next["custom_id"] == f"gallery:recent:{GUILD_ID}:{MEMBER_ID}:1"
    recent_page = bot.fake.original_response(recent["interaction"])
    member_page = bot.fake.original_response(member["interaction"])
    assert recent_page is not None and member_page is not None
    # A Delete button's question asked now is answered after the restart, in test_delete_asks_first_...
    asked, question = await bot.ask_to_delete(post, job_id, MEMBER_ID)
    assert asked == text("delete.confirm_own", job_id=job_id)
    assert row_of(question) == [(f"delete-yes:{job_id}", "Delete"), (f"delete-no:{job_id}", "Keep")]
    bot.confirmation = (job_id, question)

    await bot.restart()

    second = await bot.turn(recent_page, "Next", OTHER_MEMBER_ID)
    assert second["content"].startswith(text("gallery.recent_title", page=2))
    assert listed(second["content"]) == everyone[5:]
    assert [button["custom_id"] for button in buttons(second)] == [f"gallery:recent:{GUILD_ID}:0:0"]
    first = await bot.turn(second, "Previous", OTHER_MEMBER_ID)
    assert listed(first["content"]) == everyone[:5]

    member_second = await bot.turn(member_page, "Next", MODERATOR_ID)  # any member may turn anyone's page
    assert listed(member_second["content"]) == alices[5:]
    assert [button["label"] for button in buttons(member_second)] == ["Previous"]
    data, _ = await bot.star(post, job_id, OTHER_MEMBER_ID)  # so do the Star buttons
    assert star_label(data) == "⭐ 1"

    # A page button clicked in another server pages nothing there.
    _, elsewhere = await bot.click(recent_page, next_button["custom_id"], OTHER_MEMBER_ID, ELSEWHERE_GUILD_ID)
    assert reply_of(elsewhere)["content"] == text("button.other_server")
    assert bot.fake.schema_violations() == []


async def test_lists_link_to_the_web_gallery_only_while_it_is_public_and_a_new_link_changes_them(
    bot: RunningBot,
) -> None:
    assert PUBLIC_URL not in (await bot.command(MEMBER_ID, "recent"))["content"]
    slug = bot.value("SELECT gallery_slug FROM guild_settings WHERE guild_id = ?", GUILD_ID)

    public = (await bot.command(MODERATOR_ID, "settings", public=True))["content"]
    assert public.startswith("Done: gallery private → public.\n")
    assert f"<{PUBLIC_URL}/g/{slug}>" in public
    recent = (await bot.command(MEMBER_ID, "recent"))["content"]
    [newest, *_] = listed(recent)
    link = f"{PUBLIC_URL}/g/{slug}/item/{newest}"
    assert f"[web page](<{link}>)" in recent
    assert recent.count(f"{PUBLIC_URL}/g/{slug}/item/") == len(listed(recent)) == 5
    assert await bot.web_status(link) == 200  # the web gallery in the bot's process serves what the bot links to

    rotated = (await bot.command(MODERATOR_ID, "settings", new_link=True))["content"]
    new_slug = bot.value("SELECT gallery_slug FROM guild_settings WHERE guild_id = ?", GUILD_ID)
    assert new_slug != slug and len(str(new_slug)) >= 22
    assert rotated.startswith(f"Done: {text('audit.gallery_link')}.\n") and f"<{PUBLIC_URL}/g/{new_slug}>" in rotated
    recent = (await bot.command(MEMBER_ID, "recent"))["content"]
    new_link = f"{PUBLIC_URL}/g/{new_slug}/item/{newest}"
    assert f"/g/{slug}/" not in recent and f"[web page](<{new_link}>)" in recent
    assert (await bot.web_status(link), await bot.web_status(new_link)) == (404, 200)

    private = (await bot.command(MODERATOR_ID, "settings", public=False, clear_channel=True))["content"]
    assert private.startswith(f"Done: gallery public → private; gallery channel <#{OTHER_CHANNEL_ID}> → none.\n")
    assert private.endswith(text("gallery.settings_private") + "\nGallery channel: none")
    assert PUBLIC_URL not in (await bot.command(MEMBER_ID, "recent"))["content"]
    assert await bot.web_status(new_link) == 404  # a private gallery is not served at all


async def test_the_creator_deletes_a_clip_and_its_files_and_nobody_else_can(bot: RunningBot) -> None:
    job_id = bot.value("SELECT max(id) FROM jobs WHERE user_id = ?", MEMBER_ID)
    files = bot.files_of(job_id)
    assert all(path.exists() for path in files)

    for member in (OTHER_MEMBER_ID, MODERATOR_ID):
        refused = (await bot.command(member, "delete", job=job_id))["content"]
        assert refused == text("gallery.delete_not_yours", job_id=job_id)
    assert all(path.exists() for path in files)
    assert job_id in listed((await bot.command(MEMBER_ID, "recent"))["content"])

    assert (await bot.command(MEMBER_ID, "delete", job=job_id))["content"] == text("gallery.deleted", job_id=job_id)
    assert not any(path.exists() for path in files)
    assert job_id not in listed((await bot.command(MEMBER_ID, "recent"))["content"])
    assert (await bot.command(MEMBER_ID, "delete", job=job_id))["content"] == text(
        "gallery.not_in_gallery", job_id=job_id
    )
    assert (await bot.command(MEMBER_ID, "delete", job=999_999))["content"] == text(
        "gallery.not_in_gallery", job_id=999_999
    )
    # Its credits stay spent; its post stays in the channel, its creator's to delete.
    assert bot.value("SELECT count(*) FROM credit_ledger WHERE job_id = ? AND kind = 'refund'", job_id) == 0
    message_id = bot.value("SELECT message_id FROM jobs WHERE id = ?", job_id)
    [post] = [message for message in bot.fake.messages_in(CHANNEL_ID) if message["id"] == str(message_id)]
    _, starred = await bot.click(post, f"star:{job_id}", OTHER_MEMBER_ID)  # a deleted clip takes no stars
    assert reply_of(starred)["content"] == text("gallery.not_in_gallery", job_id=job_id)


async def test_moderators_hide_and_unhide_a_clip_and_the_audit_log_says_so(bot: RunningBot) -> None:
    job_id, other = [job_id for (job_id,) in bot.query("SELECT id FROM jobs WHERE user_id = ?", OTHER_MEMBER_ID)]
    hidden = (await bot.command(MODERATOR_ID, "hide", job=job_id))["content"]
    assert hidden == f"Done: hid job #{job_id} from the gallery."
    assert (await bot.command(MODERATOR_ID, "hide", job=job_id))["content"] == text(
        "gallery.already_hidden", job_id=job_id
    )
    assert job_id not in listed((await bot.command(MEMBER_ID, "recent"))["content"])
    assert listed((await bot.command(MEMBER_ID, "member", member=OTHER_MEMBER_ID))["content"]) == [other]

    shown = (await bot.command(MODERATOR_ID, "unhide", job=job_id))["content"]
    assert shown == f"Done: put job #{job_id} back in the gallery."
    assert (await bot.command(MODERATOR_ID, "unhide", job=job_id))["content"] == text(
        "gallery.not_hidden", job_id=job_id
    )
    assert job_id in listed((await bot.command(MEMBER_ID, "member", member=OTHER_MEMBER_ID))["content"])
    assert (await bot.command(MODERATOR_ID, "hide", job=999_999))["content"] == text(
        "gallery.not_in_gallery", job_id=999_999
    )

    audit = (await bot.command(MODERATOR_ID, "audit", name="mod"))["content"]
    actor = f"<@{MODERATOR_ID}>:"
    for change in (
        f"put job #{job_id} back in the gallery",
        f"hid job #{job_id} from the gallery",
        f"gallery channel <#{OTHER_CHANNEL_ID}> → none",
        "gallery public → private",
        text("audit.gallery_link"),
        "gallery private → public",
        f"gallery channel none → <#{OTHER_CHANNEL_ID}>",
    ):
        assert f"{actor} {change}" in audit, audit
    assert bot.value("SELECT count(*) FROM audit_log WHERE action LIKE 'gallery%'") == 7  # refusals wrote nothing


# -- the buttons under every post, clicked on posts made before the restart --------------------------------------

CLIP_COLUMNS = "prompt, negative_prompt, preset_id, frames, width, height, fps, steps, guidance"


async def test_reroll_makes_the_same_clip_with_a_new_seed_for_whoever_clicked_and_charges_them(bot: RunningBot) -> None:
    job_id = bot.value("SELECT min(id) FROM jobs WHERE user_id = ?", MEMBER_ID)  # Alice's first clip
    post = bot.post_of(job_id)
    await bot.command(MODERATOR_ID, "settings", channel=OTHER_CHANNEL_ID)  # so the new clip is cross-posted
    jobs_before = bot.value("SELECT count(*) FROM jobs")

    # Bob double-clicks: one job, charged once; the second click is told the first is under way.
    clicks = await asyncio.gather(*(bot.click(post, f"reroll:{job_id}", OTHER_MEMBER_ID) for _ in range(2)))
    [(rerolling, _)] = [(click, callback) for click, callback in clicks if callback.json["type"] == DEFERRED_REPLY]
    [(_, doubled)] = [(click, callback) for click, callback in clicks if callback.json["type"] == REPLY]
    assert reply_of(doubled)["content"] == text("reroll.in_flight", job_id=job_id)
    first = await bot.first_edit(rerolling)
    new_job, new_post = await bot.posted(first["interaction"])
    assert bot.value("SELECT count(*) FROM jobs") == jobs_before + 1
    assert bot.query(f"SELECT {CLIP_COLUMNS} FROM jobs WHERE id = ?", new_job) == bot.query(
        f"SELECT {CLIP_COLUMNS} FROM jobs WHERE id = ?", job_id
    )
    assert bot.value("SELECT seed FROM jobs WHERE id = ?", new_job) != bot.value(
        "SELECT seed FROM jobs WHERE id = ?", job_id
    )
    # Bob's job: credited to him, charged to him, posted for him where he clicked.
    assert bot.query("SELECT user_id, user_name, channel_id FROM jobs WHERE id = ?", new_job) == [
        (OTHER_MEMBER_ID, "Bob", CHANNEL_ID)
    ]
    cost = bot.value("SELECT cost FROM jobs WHERE id = ?", new_job)
    assert bot.query("SELECT user_id, kind, delta FROM credit_ledger WHERE job_id = ?", new_job) == [
        (OTHER_MEMBER_ID, "reserve", -cost)
    ]
    assert first["content"] == text("video.first_answer", cost=cost)  # the cost shown is the cost charged
    assert [user["id"] for user in new_post["mentions"]] == [str(OTHER_MEMBER_ID)]
    assert row_of(new_post) == clip_row(new_job)
    assert row_of((await bot.cross_post_of(new_job)).json) == clip_row(new_job)

    # A refused reroll says why in the clicker's language and charges nothing.
    await bot.command(MODERATOR_ID, "ban", name="mod", member=OTHER_MEMBER_ID)
    ledger = bot.value("SELECT count(*) FROM credit_ledger")
    click, _ = await bot.click(post, f"reroll:{job_id}", OTHER_MEMBER_ID, locale="vi")
    refusal = text("member.banned", "vi")
    await bot.fake.wait_for_request(
        "PATCH",
        rf"^/webhooks/{bot.fake.application_id}/{click.token}/messages/@original$",
        predicate=lambda request: (request.json or {}).get("content") == refusal,
    )
    assert (bot.fake.original_response(click) or {}).get("embeds") == []  # the settings go with the refusal
    await bot.command(MODERATOR_ID, "unban", name="mod", member=OTHER_MEMBER_ID)
    elsewhere = await bot.answer(post, f"reroll:{job_id}", OTHER_MEMBER_ID, guild_id=ELSEWHERE_GUILD_ID)
    assert elsewhere["content"] == text("button.other_server")
    gone = await bot.answer(with_button(post, "reroll:999999"), "reroll:999999", OTHER_MEMBER_ID)
    assert gone["content"] == text("clip.gone", job_id=999_999)
    assert bot.value("SELECT count(*) FROM jobs") == jobs_before + 1
    assert bot.value("SELECT count(*) FROM credit_ledger") == ledger


async def test_details_show_every_setting_the_command_and_the_gallery_link_while_it_is_public(bot: RunningBot) -> None:
    job_id = bot.value("SELECT min(id) FROM jobs WHERE user_id = ?", MEMBER_ID)
    post = bot.post_of(job_id)
    prompt, seed, steps = bot.query("SELECT prompt, seed, steps FROM jobs WHERE id = ?", job_id)[0]
    await bot.command(MODERATOR_ID, "settings", public=True)
    slug = bot.value("SELECT gallery_slug FROM guild_settings WHERE guild_id = ?", GUILD_ID)

    shown = await bot.answer(post, f"details:{job_id}", OTHER_MEMBER_ID)
    [embed] = shown["embeds"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Seed"] == f"`{seed}`" and fields["Preset"] == "`tiny`" and fields["Steps"] == str(steps)
    assert {"Model", "Licence", "Aspect and size", "Duration", "Guidance", "Render time", "Encode time"} <= set(fields)
    link = f"{PUBLIC_URL}/g/{slug}/item/{job_id}"
    assert fields["Gallery"] == text("details.gallery_link", url=link)
    assert await bot.web_status(link) == 200
    # The prompt is shown escaped ("@everyone" pings no one), and the command gives it back as typed, the preset's
    # defaults left out as /video was given them.
    assert "@everyone" not in embed["description"].split("```")[0]
    assert f"```\n/video prompt:{prompt} seed:{seed} preset:tiny\n```" in embed["description"]

    await bot.command(MODERATOR_ID, "settings", public=False)
    private = await bot.answer(post, f"details:{job_id}", MEMBER_ID)
    assert "Gallery" not in {field["name"] for field in private["embeds"][0]["fields"]}
    elsewhere = await bot.answer(post, f"details:{job_id}", OTHER_MEMBER_ID, guild_id=ELSEWHERE_GUILD_ID)
    assert elsewhere["content"] == text("button.other_server") and not elsewhere.get("embeds")
    gone = await bot.answer(with_button(post, "details:999999"), "details:999999", OTHER_MEMBER_ID)
    assert gone["content"] == text("clip.gone", job_id=999_999)


async def test_delete_asks_first_and_takes_the_post_down_for_its_requester_or_a_moderator_only(bot: RunningBot) -> None:
    assert bot.confirmation is not None
    job_id, question = bot.confirmation  # asked before the restart
    post = bot.post_of(job_id)
    files = bot.files_of(job_id)
    refused = await bot.answer(post, f"delete:{job_id}", OTHER_MEMBER_ID)
    assert refused["content"] == text("delete.not_yours", job_id=job_id) and not refused.get("components")
    forged = await bot.confirm(question, f"delete-yes:{job_id}", OTHER_MEMBER_ID)  # the question is Alice's alone
    assert forged["content"] == text("delete.not_yours", job_id=job_id)
    assert bot.post_of(job_id) and all(path.exists() for path in files)

    done = await bot.confirm(question, f"delete-yes:{job_id}", MEMBER_ID)
    assert done["content"] == text("delete.deleted_own", job_id=job_id) and done["components"] == []
    await bot.fake.wait_for_request("DELETE", rf"^/channels/{CHANNEL_ID}/messages/{post['id']}$")
    assert bot.value("SELECT gallery_deleted_at IS NOT NULL FROM jobs WHERE id = ?", job_id)
    assert not any(path.exists() for path in files)
    assert job_id not in listed((await bot.command(MEMBER_ID, "member", member=MEMBER_ID))["content"])
    again = await bot.confirm(question, f"delete-yes:{job_id}", MEMBER_ID)
    assert again["content"] == text("delete.post_gone", job_id=job_id)

    # Keep leaves everything as it was.
    first = bot.value("SELECT min(id) FROM jobs WHERE user_id = ?", MEMBER_ID)
    asked, keep_question = await bot.ask_to_delete(bot.post_of(first), first, MEMBER_ID)
    kept = await bot.confirm(keep_question, f"delete-no:{first}", MEMBER_ID)
    assert kept["content"] == text("delete.kept", job_id=first) and kept["components"] == []
    assert bot.post_of(first)["id"] == str(bot.value("SELECT message_id FROM jobs WHERE id = ?", first))

    # A moderator takes down Bob's post: the clip is hidden from the gallery (audited), its cross-post withdrawn.
    bobs = bot.value("SELECT max(id) FROM jobs WHERE user_id = ?", OTHER_MEMBER_ID)  # his reroll
    cross_post = await bot.recorded_cross_post(bobs)
    asked, mod_question = await bot.ask_to_delete(bot.post_of(bobs), bobs, MODERATOR_ID)
    assert asked == text("delete.confirm_moderator", job_id=bobs, creator=f"<@{OTHER_MEMBER_ID}>")
    hidden = await bot.confirm(mod_question, f"delete-yes:{bobs}", MODERATOR_ID)
    assert hidden["content"] == text("delete.deleted_moderator", job_id=bobs)
    bobs_post = bot.value("SELECT message_id FROM jobs WHERE id = ?", bobs)
    await bot.fake.wait_for_request("DELETE", rf"^/channels/{CHANNEL_ID}/messages/{bobs_post}$")
    await bot.fake.wait_for_request("DELETE", rf"^/channels/{OTHER_CHANNEL_ID}/messages/{cross_post}$")
    assert bot.value("SELECT gallery_hidden_at IS NOT NULL FROM jobs WHERE id = ?", bobs)
    assert bot.query("SELECT actor_id, target_id FROM audit_log WHERE action = 'gallery_hide' ORDER BY id DESC")[0] == (
        MODERATOR_ID,
        bobs,
    )
    gone = await bot.answer(with_button(bot.post_of(first), "delete:999999"), "delete:999999", MEMBER_ID)
    assert gone["content"] == text("clip.gone", job_id=999_999)

    # A clip its creator deleted, or a moderator hid, is rerolled by no one; its details are its creator's and the
    # moderators' alone, and never link the gallery.
    await bot.command(MODERATOR_ID, "settings", public=True)
    jobs = bot.value("SELECT count(*) FROM jobs")
    for withdrawn, clicker in ((job_id, MEMBER_ID), (bobs, OTHER_MEMBER_ID), (bobs, MEMBER_ID)):
        button = f"reroll:{withdrawn}"
        refused = await bot.answer(with_button(bot.post_of(first), button), button, clicker)
        assert refused["content"] == text("reroll.withdrawn", job_id=withdrawn) and not refused.get("embeds")
    assert bot.value("SELECT count(*) FROM jobs") == jobs
    for clicker in (OTHER_MEMBER_ID, MODERATOR_ID):
        shown = await bot.answer(with_button(bot.post_of(first), f"details:{bobs}"), f"details:{bobs}", clicker)
        [embed] = shown["embeds"]
        assert embed["title"] == text("details.title", job_id=bobs) and "Gallery" not in str(embed["fields"])
    refused = await bot.answer(with_button(bot.post_of(first), f"details:{bobs}"), f"details:{bobs}", MEMBER_ID)
    assert refused["content"] == text("details.withdrawn", job_id=bobs) and not refused.get("embeds")
    await bot.command(MODERATOR_ID, "settings", public=False)


async def test_nothing_went_wrong_inside_the_bot(bot: RunningBot) -> None:
    assert bot.fake.schema_violations() == []
    for process in bot.processes:
        assert "Traceback" not in process.output
