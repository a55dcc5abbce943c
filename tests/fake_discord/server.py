"""FakeDiscord: Discord's gateway and REST API on loopback, for the real discord.py client.

Point discord.py at it with `fixtures.discord_py_pointed_at(fake)`. Every REST request is recorded
(its body checked against Discord's OpenAPI spec); interactions follow Discord's rules (3 s to
acknowledge, once only, tokens that expire after 15 minutes); faults can be injected per route, and
answers held until the test releases them.

This module is the façade tests use: it starts and stops the server, assembles its routes and
middleware, and offers the test API. The work is done around one shared FakeState (state.py) by
gateway_sessions.py, rest_middleware.py, message_events.py and one routes_*.py module per resource.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast, overload

from aiohttp import web

from tests.fake_discord import schema
from tests.fake_discord.gateway import GUILD_MEMBERS_INTENT
from tests.fake_discord.gateway_sessions import GatewaySessions
from tests.fake_discord.holds import HeldAnswers
from tests.fake_discord.message_events import MessageEvents
from tests.fake_discord.models import (
    DEFAULT_UPLOAD_LIMIT,
    MIB,
    FakeGuild,
    FakeMember,
    FakeRole,
    InjectedFault,
    RecordedRequest,
    SentInteraction,
)
from tests.fake_discord.payloads import (
    APPLICATION_COMMAND_AUTOCOMPLETE_INTERACTION,
    APPLICATION_COMMAND_INTERACTION,
    MESSAGE_COMPONENT_INTERACTION,
    Payload,
    command_data,
    guild_create_payload,
    member_payload,
    role_payload,
    timestamp_now,
)
from tests.fake_discord.rest import API_PREFIX, RateLimiter
from tests.fake_discord.rest_middleware import RestMiddleware
from tests.fake_discord.routes_application import ApplicationRoutes
from tests.fake_discord.routes_channels import CDN_ATTACHMENT_PATH, ChannelRoutes
from tests.fake_discord.routes_interactions import InteractionRoutes
from tests.fake_discord.state import FakeState, add_missing_roles

__all__ = ["FakeDiscord", "RecordedRequest", "SentInteraction"]  # tests import all three from here

DEFAULT_TOKEN = "fake-token-MTE4MDMwMTIxMDU0NzIyNDU3Ng.GfAkEt.for-tests-only"
DEFAULT_APPLICATION_ID = 1_180_301_113_546_006_528
# Bots made today share their application's id; a distinct one here catches code that mixes them up.
DEFAULT_BOT_USER_ID = 1_180_301_210_547_224_576
MAX_REQUEST_BYTES = 512 * MIB  # read big uploads whole, so that the fake itself answers 413 as Discord does

T = TypeVar("T")


class _InState(Generic[T]):
    """A FakeDiscord attribute kept in its FakeState: tests read and set the value the handlers use."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, fake: None, owner: type) -> _InState[T]: ...
    @overload
    def __get__(self, fake: FakeDiscord, owner: type) -> T: ...
    def __get__(self, fake: FakeDiscord | None, owner: type) -> T | _InState[T]:
        return self if fake is None else cast(T, getattr(fake._state, self._name))

    def __set__(self, fake: FakeDiscord, value: T) -> None:
        setattr(fake._state, self._name, value)


class FakeDiscord:
    """One bot's view of Discord: its guilds, its commands, its messages, and a log of its requests.

    Set-up (add_guild, add_member) works before or after the bot connects; user actions
    (send_slash_command, click_button) need a connected bot; requests, synced_commands, messages_in,
    callbacks_for and schema_violations show what the bot did.
    """

    token: _InState[str] = _InState()
    application_id: _InState[int] = _InState()
    bot_user_id: _InState[int] = _InState()
    bot_name: _InState[str] = _InState()
    requests: _InState[list[RecordedRequest]] = _InState()
    synced_commands: _InState[list[Payload]] = _InState()  # the last PUT of commands, global or guild
    presences: _InState[list[Payload]] = _InState()  # each presence the bot set (IDENTIFY's, then op 3's), in order
    guilds: _InState[dict[int, FakeGuild]] = _InState()
    # Discord's limits, adjustable so that tests can reach the edges quickly.
    interaction_response_deadline: _InState[float] = _InState()
    interaction_token_lifetime: _InState[float] = _InState()
    rate_limits: _InState[RateLimiter] = _InState()

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        application_id: int = DEFAULT_APPLICATION_ID,
        bot_user_id: int = DEFAULT_BOT_USER_ID,
        bot_name: str = "Fake Bot",
    ) -> None:
        self._state = FakeState(token=token, application_id=application_id, bot_user_id=bot_user_id, bot_name=bot_name)
        self._gateway = GatewaySessions(self._state)
        message_events = MessageEvents(self._state, self._gateway)
        self._application = ApplicationRoutes(self._state)
        self._interactions = InteractionRoutes(self._state, self._gateway, message_events)
        self._channels = ChannelRoutes(self._state, message_events)
        self._middleware = RestMiddleware(self._state)
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        schema.warm_up()
        app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[self._middleware.handle])
        for method, path, handler in [
            *self._application.routes(),
            *self._interactions.routes(),
            *self._channels.routes(),
        ]:
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_route("*", API_PREFIX + "/{unknown_route:.*}", self._middleware.unknown_route)
        app.router.add_get("/", self._gateway.serve)
        app.router.add_get(CDN_ATTACHMENT_PATH, self._channels.serve_attachment)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._state.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for held in self._state.holds:
            held.release()  # a held handler would keep the server's clean-up waiting
        await self._gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """For discord.http.Route.BASE."""
        return f"{self._state.http_root()}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """For discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY (as a yarl.URL)."""
        return self._state.gateway_url

    # ------------------------------------------------------------ world set-up

    def add_guild(
        self,
        guild_id: int,
        *,
        name: str = "Test Server",
        owner_id: int | None = None,
        channels: Sequence[int] = (),
        members: Iterable[FakeMember] = (),
        roles: Iterable[FakeRole] = (),
        upload_limit_bytes: int = DEFAULT_UPLOAD_LIMIT,
    ) -> FakeGuild:
        """A guild the bot is in, with text channels named general, channel-2, ... The bot is a member
        itself; the owner defaults to the first member. Added once a bot is connected, it gets GUILD_CREATE."""
        guild = self._state.new_guild(
            guild_id,
            name=name,
            owner_id=owner_id,
            channels=channels,
            members=list(members),
            roles=roles,
            upload_limit_bytes=upload_limit_bytes,
        )
        joined = guild_create_payload(guild, joined_at=timestamp_now(), listed_in_ready=False)
        self._gateway.dispatch_soon("GUILD_CREATE", joined)
        return guild

    def add_member(self, guild_id: int, user_id: int, *, name: str, roles: Sequence[int] = ()) -> FakeMember:
        """A new member. Roles the guild lacks are created, with no permissions of their own. A
        connected bot gets GUILD_MEMBER_ADD if it asked for the (privileged) members intent, as with Discord."""
        guild = self._state.guild(guild_id)
        for role in add_missing_roles(guild, roles):
            self._gateway.dispatch_soon("GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": role_payload(role)})
        member = FakeMember(user_id=user_id, name=name, roles=list(roles), joined_at=timestamp_now())
        guild.members[user_id] = member
        event = {**member_payload(member), "guild_id": str(guild_id)}
        self._gateway.dispatch_soon("GUILD_MEMBER_ADD", event, intent=GUILD_MEMBERS_INTENT)
        return member

    async def set_role_permissions(self, guild_id: int, role_id: int, permissions: int) -> None:
        """A server admin changes a role's permissions (the guild's id is @everyone's): every connected bot gets
        GUILD_ROLE_UPDATE before this returns, so its cache sees the change before any later interaction."""
        role = self._state.guild(guild_id).roles[role_id]
        role.permissions = permissions
        await self._gateway.broadcast("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": role_payload(role)})

    def inject_fault(
        self,
        method: str,
        path_regex: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float = 0.0,
        body: dict[str, Any] | None = None,
    ) -> InjectedFault:
        """Answer the next `times` requests with this method, whose path (without /api/v10) contains
        `path_regex` (re.search, as in wait_for_request), with `status` instead of handling them.

        A 429 carries `retry_after` and the headers discord.py needs to wait and retry; other statuses
        get Discord's generic error body unless `body` is given. Such requests are recorded too, with
        that status. E.g. `fake.inject_fault("POST", r"/channels/[0-9]+/messages$", status=500, times=2)`."""
        fault = InjectedFault(method.upper(), path_regex, status, times, retry_after, body)
        self._state.faults.append(fault)
        return fault

    def hold_answers(
        self,
        method: str,
        path_regex: str,
        *,
        times: int = 1,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> HeldAnswers:
        """Handle the next `times` requests with this method whose path contains `path_regex` (and that
        `predicate` accepts, given the request as handled) but hold their answers until `release()`: the fake's
        state shows their effect while the bot still waits, as when Discord acted and the connection stalled.
        `await held.wait_held()` returns the first one held. E.g. a clip post, created but unanswered:
        `fake.hold_answers("POST", r"/channels/[0-9]+/messages$", predicate=lambda request: bool(request.files))`."""
        held = HeldAnswers(method, path_regex, times=times, predicate=predicate)
        self._state.holds.append(held)
        return held

    # --------------------------------------------------------- what the bot did

    def schema_violations(self) -> list[str]:
        """Every reason Discord's spec gives to reject a body the bot sent, across all requests."""
        return [
            f"{request.method} {request.path}: {error}" for request in self.requests for error in request.schema_errors
        ]

    def callbacks_for(self, interaction: SentInteraction) -> list[RecordedRequest]:
        path = f"/interactions/{interaction.id}/{interaction.token}/callback"
        return [request for request in self.requests if request.method == "POST" and request.path == path]

    def messages_in(self, channel_id: int) -> list[Payload]:
        """The channel's messages, oldest first, as they are now: edits applied, deleted ones gone.
        Ephemeral interaction responses are included; their flags say so."""
        return copy.deepcopy(self._state.messages.in_channel(channel_id))

    def original_response(self, interaction: SentInteraction) -> Payload | None:
        """The message `@original` means for this interaction, unless there is none (yet, or any more)."""
        message_id = self._state.interactions[interaction.id].original_message_id
        return None if message_id is None else copy.deepcopy(self._state.messages.find(message_id))

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = 15.0,
        after: int = 0,
    ) -> RecordedRequest:
        """The first recorded request at index >= `after` with this method whose path (without
        /api/v10) `path_regex` is found in (re.search: anchor it with ^...$ for an exact path).
        Requests are recorded once answered, so the fake's state already shows their effect."""
        return await self._state.wait_for_request(method, path_regex, predicate=predicate, timeout=timeout, after=after)

    async def wait_for_presence(
        self, predicate: Callable[[Payload], bool], *, timeout: float = 15.0, after: int = 0
    ) -> Payload:
        """The first presence the bot set (its `d`: since, activities, status, afk), at index >= `after` of
        `presences`, that `predicate` accepts; waits up to `timeout` for it."""
        return await self._state.wait_for_presence(predicate, timeout=timeout, after=after)

    async def wait_until_ready(self, timeout: float = 15.0, *, commands_synced: bool = False) -> None:
        """Until a bot has identified and been sent READY and its GUILD_CREATEs, and, with
        `commands_synced`, has also synced its application commands."""
        try:
            await asyncio.wait_for(self._state.ready.wait(), timeout)
            if commands_synced:
                await asyncio.wait_for(self._state.commands_synced.wait(), timeout)
        except TimeoutError:
            received = ", ".join(request.describe() for request in self.requests) or "no REST requests"
            raise AssertionError(f"the bot was not ready within {timeout}s ({received})") from None

    # ---------------------------------------------------------- acting as users

    async def send_slash_command(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, object] | Sequence[Payload] | None = None,
        subcommand: str | None = None,
        permissions: int | None = None,
        role_ids: Sequence[int] | None = None,
        attachment_size_limit: int | None = None,
        locale: str = "en-US",
    ) -> SentInteraction:
        """A member runs a synced slash command. Options given as name -> value are typed from the
        synced definition (a raw option list is sent as is); `subcommand` is "sub" or "group sub".
        `permissions` defaults to what the member's roles (or `role_ids`) grant, and
        `attachment_size_limit` to the guild's upload limit (10 MiB unless add_guild said otherwise)."""
        guild = self._state.guild(guild_id)
        command = self._state.synced_command(name, guild_id)
        data = command_data(command, guild=guild, options=options, subcommand=subcommand)
        return await self._interactions.dispatch(
            APPLICATION_COMMAND_INTERACTION,
            guild=guild,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            permissions=permissions,
            role_ids=role_ids,
            attachment_size_limit=attachment_size_limit,
            locale=locale,
            command_name=name,
        )

    async def send_autocomplete(
        self,
        *,
        guild_id: int,
        channel_id: int,
        user_id: int,
        name: str,
        focused: str,
        typed: str,
        options: Mapping[str, object] | None = None,
        locale: str = "en-US",
    ) -> SentInteraction:
        """A member types `typed` into the option `focused` of a synced command, the other `options` filled in:
        Discord asks the bot for suggestions (it answers with callback type 8). As Discord does, the focused
        option's value is the text typed, whatever the option's type."""
        guild = self._state.guild(guild_id)
        command = self._state.synced_command(name, guild_id)
        data = command_data(command, guild=guild, options=options, subcommand=None)
        [definition] = [option for option in command.get("options") or [] if option["name"] == focused]
        data["options"].append({"name": focused, "type": definition["type"], "value": typed, "focused": True})
        return await self._interactions.dispatch(
            APPLICATION_COMMAND_AUTOCOMPLETE_INTERACTION,
            guild=guild,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            permissions=None,
            role_ids=None,
            attachment_size_limit=None,
            locale=locale,
            command_name=name,
        )

    async def click_button(
        self,
        *,
        message: Payload,
        custom_id: str,
        guild_id: int,
        channel_id: int,
        user_id: int,
        permissions: int | None = None,
        role_ids: Sequence[int] | None = None,
        locale: str = "en-US",
    ) -> SentInteraction:
        """A member clicks the button `custom_id` on `message` (a message object, e.g. from messages_in)."""
        self._state.messages.adopt(copy.deepcopy(message))
        return await self._interactions.dispatch(
            MESSAGE_COMPONENT_INTERACTION,
            guild=self._state.guild(guild_id),
            channel_id=channel_id,
            user_id=user_id,
            data={"custom_id": custom_id, "component_type": 2},
            permissions=permissions,
            role_ids=role_ids,
            attachment_size_limit=None,
            locale=locale,
            message=message,
        )

    async def dispatch_event(self, event: str, data: Payload) -> float:
        """Send any gateway DISPATCH to the connected bot; returns time.monotonic() just before sending."""
        return await self._gateway.dispatch_to_bot(event, data)

    async def request_reconnect(self) -> None:
        """Send RECONNECT (op 7) to every bot connection: discord.py then RESUMEs on a new socket."""
        await self._gateway.request_reconnect()
