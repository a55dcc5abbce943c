"""The fake Discord, exercised by the real discord.py client."""

from __future__ import annotations

import asyncio
import io
import re

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from discord.http import Route

from tests.fake_discord.fixtures import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OTHER_CHANNEL_ID,
    OTHER_MEMBER_ID,
    OWNER_ID,
    connected_client,
    discord_py_pointed_at,
)
from tests.fake_discord.models import MEMBER_PERMISSIONS, Permission
from tests.fake_discord.payloads import EPHEMERAL_FLAG, LOADING_FLAG
from tests.fake_discord.schema import request_body_errors
from tests.fake_discord.server import FakeDiscord, SentInteraction

CLIP = b"\x00\x00\x00\x20ftypisom" + bytes(range(256)) * 64
READY_QUICKLY = 0.05  # guild_ready_timeout: how long discord.py waits for more GUILD_CREATEs


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"vote:(?P<job_id>[0-9]+)"):
    """A button that survives restarts: its state lives in the custom_id."""

    def __init__(self, job_id: int) -> None:
        super().__init__(discord.ui.Button(label="Vote", custom_id=f"vote:{job_id}"))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[discord.ui.View], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["job_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"{interaction.user.display_name} voted for job {self.job_id}")


@app_commands.command(description="Render a clip")
@app_commands.describe(prompt="What to render", frames="How many frames", credit="Who to credit")
async def render(
    interaction: discord.Interaction,
    prompt: str,
    frames: app_commands.Range[int, 1, 64] = 16,
    credit: discord.Member | None = None,
) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.edit_original_response(content=f"Rendering {prompt!r} ({frames} frames)")
    credited = credit or interaction.user
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(job_id=frames))
    assert isinstance(interaction.channel, discord.TextChannel)
    await interaction.channel.send(
        content=f"{credited.mention} made {prompt!r} @everyone",
        file=discord.File(io.BytesIO(CLIP), filename="clip.mp4"),
        allowed_mentions=discord.AllowedMentions(users=[credited], everyone=False, roles=False),
        view=view,
    )


queue = app_commands.Group(name="queue", description="The render queue")


@queue.command(name="show", description="Show the queue")
async def show_queue(interaction: discord.Interaction, channel: discord.TextChannel, role: discord.Role) -> None:
    await interaction.response.send_message(f"#{channel.name} for @{role.name}", ephemeral=True)
    await interaction.followup.send("queue is empty", wait=True)
    await interaction.delete_original_response()


class ExampleBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=READY_QUICKLY,
        )

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton)
        self.tree.add_command(render, guild=discord.Object(GUILD_ID))
        self.tree.add_command(queue, guild=discord.Object(GUILD_ID))
        await self.tree.sync(guild=discord.Object(GUILD_ID))


def plain_client() -> discord.Client:
    return discord.Client(intents=discord.Intents.default(), guild_ready_timeout=READY_QUICKLY)


async def test_bot_logs_in_and_caches_the_guild(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, ExampleBot()) as bot:
        guild = bot.get_guild(GUILD_ID)
        assert guild is not None and guild.owner_id == OWNER_ID
        assert guild.member_count == 5 and guild.me is not None  # four people and the bot
        channel = guild.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel) and channel.name == "general"
        assert guild.default_role.permissions.send_messages
        moderator_role = guild.get_role(MODERATOR_ROLE_ID)
        assert moderator_role is not None and moderator_role.permissions.manage_messages
        assert bot.user is not None and bot.user.id == fake_discord.bot_user_id
        assert bot.application_id == fake_discord.application_id
        fetched = await bot.tree.fetch_commands(guild=discord.Object(GUILD_ID))
        assert sorted(command.name for command in fetched) == ["queue", "render"]

    logins = [(request.method, request.path) for request in fake_discord.requests[:2]]
    assert logins == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert [command["name"] for command in fake_discord.synced_commands] == ["render", "queue"]
    assert fake_discord.synced_commands[0]["guild_id"] == str(GUILD_ID)


async def test_a_role_change_reaches_the_bots_cache(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, plain_client()) as bot:
        guild = bot.get_guild(GUILD_ID)
        assert guild is not None and guild.me is not None
        channel = guild.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel) and channel.permissions_for(guild.me).attach_files
        await fake_discord.set_role_permissions(GUILD_ID, GUILD_ID, int(MEMBER_PERMISSIONS & ~Permission.ATTACH_FILES))
        async with asyncio.timeout(5):
            while channel.permissions_for(guild.me).attach_files:
                await asyncio.sleep(0.01)
        assert channel.permissions_for(guild.me).send_messages


async def test_slash_command_defers_edits_and_posts_a_file(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, ExampleBot()) as bot:
        await fake_discord.wait_until_ready(commands_synced=True)
        sent = await fake_discord.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=MEMBER_ID,
            name="render",
            options={"prompt": "a red fox", "frames": 8, "credit": OTHER_MEMBER_ID},
        )
        post = await fake_discord.wait_for_request("POST", rf"/channels/{CHANNEL_ID}/messages")
        attachment = fake_discord.messages_in(CHANNEL_ID)[-1]["attachments"][0]
        assert await bot.http.get_from_cdn(attachment["url"]) == CLIP

    [callback] = fake_discord.callbacks_for(sent)
    assert callback.json == {"type": 5} and callback.query == {"with_response": "1"}
    edit = await fake_discord.wait_for_request(
        "PATCH", rf"/webhooks/{fake_discord.application_id}/{re.escape(sent.token)}/messages/@original", timeout=0
    )
    assert edit.json["content"] == "Rendering 'a red fox' (8 frames)"
    assert edit.at < post.at

    [upload] = post.files
    assert (upload.field, upload.filename, upload.data) == ("files[0]", "clip.mp4", CLIP)
    assert post.json["allowed_mentions"] == {"parse": [], "users": [OTHER_MEMBER_ID], "replied_user": True}

    original = fake_discord.original_response(sent)
    assert original is not None and original["content"] == "Rendering 'a red fox' (8 frames)"
    assert original["flags"] & LOADING_FLAG == 0
    assert original["interaction_metadata"]["user"]["id"] == str(MEMBER_ID)

    posted = fake_discord.messages_in(CHANNEL_ID)[-1]
    assert [user["id"] for user in posted["mentions"]] == [str(OTHER_MEMBER_ID)]
    assert posted["mention_everyone"] is False
    assert attachment["filename"] == "clip.mp4" and attachment["size"] == len(CLIP)
    assert attachment["content_type"] == "video/mp4"
    assert posted["components"][0]["components"][0]["custom_id"] == "vote:8"
    assert fake_discord.schema_violations() == []


async def test_wrong_token_fails_login(fake_discord: FakeDiscord) -> None:
    bot = ExampleBot()
    with discord_py_pointed_at(fake_discord):
        async with bot:
            with pytest.raises(discord.LoginFailure):
                await bot.start("not-the-token")

    [rejected] = fake_discord.requests
    assert (rejected.method, rejected.path, rejected.status) == ("GET", "/users/@me", 401)
    assert rejected.response == {"message": "401: Unauthorized", "code": 0}


async def test_dynamic_button_click_reaches_a_restarted_bot(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, ExampleBot()):
        await fake_discord.wait_until_ready(commands_synced=True)
        await fake_discord.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=MEMBER_ID,
            name="render",
            options={"prompt": "owl", "frames": 3},
        )
        post = await fake_discord.wait_for_request("POST", rf"/channels/{CHANNEL_ID}/messages")

    newcomer = fake_discord.add_member(GUILD_ID, OTHER_MEMBER_ID + 1, name="Carol", roles=[MODERATOR_ROLE_ID + 1])
    async with connected_client(fake_discord, ExampleBot()):  # a new process knows only the custom_id
        click = await fake_discord.click_button(
            message=post.response,
            custom_id="vote:3",
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=newcomer.user_id,
        )
        callback = await fake_discord.wait_for_request(
            "POST", rf"/interactions/{click.id}/{re.escape(click.token)}/callback"
        )

    assert callback.json["type"] == 7 and callback.status == 200
    assert fake_discord.messages_in(CHANNEL_ID)[-1]["content"] == "Carol voted for job 3"
    assert MODERATOR_ROLE_ID + 1 in fake_discord.guilds[GUILD_ID].roles  # a member's unknown role is created
    assert fake_discord.schema_violations() == []


async def test_subcommand_options_ephemeral_reply_followup_and_delete(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, ExampleBot()):
        await fake_discord.wait_until_ready(commands_synced=True)
        sent = await fake_discord.send_slash_command(
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
            user_id=MODERATOR_ID,
            name="queue",
            subcommand="show",
            options={"channel": OTHER_CHANNEL_ID, "role": MODERATOR_ROLE_ID},
        )
        webhook = rf"/webhooks/{fake_discord.application_id}/{re.escape(sent.token)}"
        followup = await fake_discord.wait_for_request("POST", webhook)
        await fake_discord.wait_for_request("DELETE", webhook + "/messages/@original")

    [callback] = fake_discord.callbacks_for(sent)
    reply = {"content": "#channel-2 for @Moderator", "flags": EPHEMERAL_FLAG, "tts": False}
    assert callback.json == {"type": 4, "data": reply}
    assert callback.response["resource"]["message"]["flags"] == EPHEMERAL_FLAG
    assert followup.query["wait"] == "1" and followup.status == 200
    assert fake_discord.original_response(sent) is None  # deleted
    [remaining] = fake_discord.messages_in(CHANNEL_ID)
    assert remaining["content"] == "queue is empty" and remaining["interaction_metadata"]["name"] == "queue"
    assert fake_discord.schema_violations() == []


async def test_channel_messages_nonce_edit_delete_and_gateway_events(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, plain_client()) as client:
        channel = await client.fetch_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        echoed = client.wait_for("message")  # MESSAGE_CREATE comes back over the gateway
        first = await channel.send("posted once", nonce=1234)
        assert (await echoed).id == first.id
        retried = await channel.send("posted once", nonce=1234)
        other = await channel.send("posted twice", nonce=5678)
        await first.edit(content="edited")
        await other.delete()

    assert first.id == retried.id != other.id
    [kept] = fake_discord.messages_in(CHANNEL_ID)
    assert kept["content"] == "edited" and kept["edited_timestamp"] is not None


async def test_uploads_up_to_the_guild_limit(fake_discord: FakeDiscord) -> None:
    guild = fake_discord.guilds[GUILD_ID]
    guild.upload_limit_bytes = 100 * 1024 * 1024  # a level 3 boosted server
    big = b"\x01" * (26 * 1024 * 1024)
    async with connected_client(fake_discord, plain_client()) as client:
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        posted = await channel.send(file=discord.File(io.BytesIO(big), filename="big.mp4"))
        guild.upload_limit_bytes = len(big) - 1
        with pytest.raises(discord.HTTPException) as too_large:
            await channel.send(file=discord.File(io.BytesIO(big), filename="big.mp4"))

    assert posted.attachments[0].size == len(big)
    assert (too_large.value.status, too_large.value.code) == (413, 40005)


async def test_injected_faults_reach_discord_py(fake_discord: FakeDiscord) -> None:
    messages = rf"/channels/{CHANNEL_ID}/messages"
    rate_limit = fake_discord.inject_fault("POST", messages, status=429, retry_after=0.05)
    async with connected_client(fake_discord, plain_client()) as client:
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("after a rate limit")  # discord.py waits retry_after and tries again
        fake_discord.inject_fault("POST", messages, status=403, body={"message": "Missing Permissions", "code": 50013})
        with pytest.raises(discord.Forbidden) as forbidden:
            await channel.send("not allowed")

    assert forbidden.value.code == 50013
    assert rate_limit.exhausted
    assert [request.status for request in fake_discord.requests if request.path == messages] == [429, 200, 403]


async def test_a_held_answer_waits_for_its_release_with_its_effect_already_made(fake_discord: FakeDiscord) -> None:
    messages = rf"/channels/{CHANNEL_ID}/messages$"
    held = fake_discord.hold_answers("POST", messages, predicate=lambda request: bool(request.files))
    async with connected_client(fake_discord, plain_client()) as client:
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("no file: not held")
        sending = asyncio.create_task(channel.send("a clip", file=discord.File(io.BytesIO(CLIP), filename="clip.mp4")))
        request = await held.wait_held()
        contents = [message["content"] for message in fake_discord.messages_in(CHANNEL_ID)]
        assert contents == ["no file: not held", "a clip"]
        await asyncio.sleep(0.1)
        assert not sending.done()  # the message exists, but discord.py still waits for the answer
        held.release()
        sent = await sending
        await channel.send("once released, no more held", file=discord.File(io.BytesIO(CLIP), filename="clip.mp4"))
    assert str(sent.id) == request.response["id"]
    assert held.held == [request]


async def call(session: aiohttp.ClientSession, method: str, path: str, body: object) -> tuple[int, object]:
    """A raw REST call, as a client other than discord.py would make it; returns status and JSON."""
    async with session.request(method, path, json=body) as response:
        return response.status, await response.json() if response.content_type == "application/json" else None


async def test_interaction_rules_are_enforced(fake_discord: FakeDiscord) -> None:
    async def click() -> SentInteraction:
        return await fake_discord.click_button(
            message=message, custom_id="pick", guild_id=GUILD_ID, channel_id=CHANNEL_ID, user_id=MEMBER_ID
        )

    async with connected_client(fake_discord, plain_client()) as client:  # it never answers interactions
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("pick one")
        [message] = fake_discord.messages_in(CHANNEL_ID)
        first, second = await click(), await click()
        async with aiohttp.ClientSession(fake_discord.base_url + "/") as session:
            acknowledge = f"interactions/{first.id}/{first.token}/callback"
            once = await call(session, "POST", acknowledge, {"type": 6})
            twice = await call(session, "POST", acknowledge, {"type": 6})
            fake_discord.interaction_response_deadline = 0.0
            late = await call(session, "POST", f"interactions/{second.id}/{second.token}/callback", {"type": 6})
            fake_discord.interaction_token_lifetime = 0.0
            original = f"webhooks/{fake_discord.application_id}/{first.token}/messages/@original"
            expired = await call(session, "PATCH", original, {"content": "too late"})

    assert once == (204, None)  # without ?with_response Discord answers with no body
    assert twice == (400, {"message": "Interaction has already been acknowledged.", "code": 40060})
    assert late == (404, {"message": "Unknown interaction", "code": 10062})
    assert expired == (401, {"message": "Invalid Webhook Token", "code": 50027})


async def test_unknown_routes_get_discord_shaped_404s(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, plain_client()) as client:
        with pytest.raises(discord.NotFound):
            await client.http.request(Route("GET", "/guilds/{guild_id}/no-such-thing", guild_id=GUILD_ID))

    unknown = fake_discord.requests[-1]
    assert (unknown.path, unknown.status, unknown.response) == (
        f"/guilds/{GUILD_ID}/no-such-thing",
        404,
        {"message": "404: Not Found", "code": 0},
    )


async def test_gateway_reconnect_resumes_and_late_guilds_arrive(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, plain_client()) as client:
        resumed = client.wait_for("resumed", timeout=5)  # listens from this call on
        await fake_discord.request_reconnect()
        await resumed
        joined = client.wait_for("guild_join", timeout=5)
        fake_discord.add_guild(GUILD_ID + 1, name="Second Server", channels=[GUILD_ID + 2])
        guild = await joined

    assert guild.name == "Second Server" and guild.get_channel(GUILD_ID + 2) is not None


async def test_an_auto_sharded_client_asks_for_the_gateway_first(fake_discord: FakeDiscord) -> None:
    client = discord.AutoShardedClient(intents=discord.Intents.default(), guild_ready_timeout=READY_QUICKLY)
    async with connected_client(fake_discord, client):
        assert client.shard_count == 1 and client.get_guild(GUILD_ID) is not None

    assert ("GET", "/gateway/bot") in [(request.method, request.path) for request in fake_discord.requests]


async def test_wait_for_request_timeout_lists_what_arrived(fake_discord: FakeDiscord) -> None:
    async with connected_client(fake_discord, plain_client()):
        with pytest.raises(AssertionError, match=r"GET /users/@me -> 200"):
            await fake_discord.wait_for_request("DELETE", r"/channels/\d+", timeout=0.05)


def test_schema_check_accepts_integer_snowflakes_and_reports_real_errors() -> None:
    body = {"content": "x" * 4001, "allowed_mentions": {"users": [MEMBER_ID], "parse": []}, "nonce": "1"}
    [error] = request_body_errors("POST", f"/channels/{CHANNEL_ID}/messages", body)
    assert error.startswith("content:") and error.endswith("is too long")

    ephemeral_reply = {"type": 4, "data": {"content": "hi", "flags": EPHEMERAL_FLAG, "attachments": [{"id": 0}]}}
    assert request_body_errors("POST", "/interactions/1/token/callback", ephemeral_reply) == []
    assert request_body_errors("PATCH", "/webhooks/1/token/messages/@original", {"content": 5}) == [
        "content: 5 is not of type 'string', 'null'"
    ]
