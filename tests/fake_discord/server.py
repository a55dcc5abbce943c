"""FakeDiscord: Discord's gateway and REST API on loopback, for the real discord.py client.

Point discord.py at it with `fixtures.discord_py_pointed_at(fake)`. Every REST request is recorded
(its body checked against Discord's OpenAPI spec); interactions follow Discord's rules (3 s to
acknowledge, once only, tokens that expire after 15 minutes); faults can be injected per route.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from aiohttp import WSMsgType, hdrs, web

from tests.fake_discord import schema
from tests.fake_discord.gateway import (
    AUTHENTICATION_FAILED,
    GUILD_MEMBERS_INTENT,
    GUILD_MESSAGES_INTENT,
    HEARTBEAT_INTERVAL_MS,
    GatewayConnection,
    Op,
)
from tests.fake_discord.messages import MessageStore
from tests.fake_discord.models import (
    DEFAULT_UPLOAD_LIMIT,
    MEMBER_PERMISSIONS,
    MIB,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    InjectedFault,
    RecordedRequest,
    SentInteraction,
    UploadedFile,
)
from tests.fake_discord.payloads import (
    APPLICATION_COMMAND_INTERACTION,
    CHAT_INPUT_COMMAND_MESSAGE,
    DEFAULT_MESSAGE,
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    MESSAGE_COMPONENT_INTERACTION,
    REPLY_MESSAGE,
    Payload,
    SnowflakeGenerator,
    application_payload,
    command_data,
    current_user_payload,
    guild_create_payload,
    interaction_member_payload,
    interaction_payload,
    member_payload,
    ready_payload,
    role_payload,
    synced_command_payload,
    text_channel_payload,
    timestamp_now,
    user_payload,
)
from tests.fake_discord.rest import (
    BODY,
    DiscordError,
    IncomingBody,
    RateLimiter,
    fault_response,
    json_response,
    no_content,
    read_body,
    response_json,
)

API_PREFIX = "/api/v10"
DEFAULT_TOKEN = "fake-token-MTE4MDMwMTIxMDU0NzIyNDU3Ng.GfAkEt.for-tests-only"
DEFAULT_APPLICATION_ID = 1_180_301_113_546_006_528
# Bots made today share their application's id; a distinct one here catches code that mixes them up.
DEFAULT_BOT_USER_ID = 1_180_301_210_547_224_576
MAX_REQUEST_BYTES = 512 * MIB  # read big uploads whole, so that the fake itself answers 413 as Discord does

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Interaction callback types.
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Paths authenticated by the token inside them rather than by the Authorization header.
_TOKEN_IN_PATH = re.compile(r"/(?:interactions|webhooks)/\d+/[^/]+(?:/.*)?|/gateway")
_MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id", "interaction_token")


@dataclass
class _InteractionState:
    sent: SentInteraction
    invoker: Payload  # the user object of whoever triggered it
    command_name: str | None  # None for a component interaction
    acknowledged_with: int | None = None  # the callback type, once acknowledged
    original_message_id: int | None = None  # what @original means
    message_ids: set[int] = field(default_factory=set)  # what this token may read, edit and delete


def _body(request: web.Request) -> IncomingBody:
    return request[BODY]


def _add_missing_roles(guild: FakeGuild, role_ids: Iterable[int]) -> list[FakeRole]:
    """A member's roles must exist in its guild, as on Discord; tests often name only an id."""
    added = []
    for role_id in role_ids:
        if role_id not in guild.roles:
            guild.roles[role_id] = FakeRole(id=role_id, name=f"role-{len(guild.roles)}")
            added.append(guild.roles[role_id])
    return added


def _is_ephemeral(message: Payload) -> bool:
    return bool(message.get("flags", 0) & EPHEMERAL_FLAG)


def _query_flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


class FakeDiscord:
    """One bot's view of Discord: its guilds, its commands, its messages, and a log of its requests.

    Set-up (add_guild, add_member) works before or after the bot connects; user actions
    (send_slash_command, click_button) need a connected bot; requests, synced_commands, messages_in,
    callbacks_for and schema_violations show what the bot did.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        application_id: int = DEFAULT_APPLICATION_ID,
        bot_user_id: int = DEFAULT_BOT_USER_ID,
        bot_name: str = "Fake Bot",
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.requests: list[RecordedRequest] = []
        self.synced_commands: list[Payload] = []  # the last PUT of commands, global or guild
        self.guilds: dict[int, FakeGuild] = {}
        # Discord's limits, adjustable so that tests can reach the edges quickly.
        self.interaction_response_deadline = 3.0
        self.interaction_token_lifetime = 15 * 60.0
        self.rate_limits = RateLimiter()

        self._snowflakes = SnowflakeGenerator()
        self._messages = MessageStore(
            self._snowflakes, author=user_payload(bot_user_id, bot_name, bot=True), cdn_base_url=self._http_root
        )
        self._commands_by_scope: dict[int | None, list[Payload]] = {}  # None: global commands
        self._interactions: dict[int, _InteractionState] = {}
        self._interactions_by_token: dict[str, _InteractionState] = {}
        self._faults: list[InjectedFault] = []
        self._connections: set[GatewayConnection] = set()
        self._session_intents: dict[str, int] = {}  # every session ever identified, for RESUME
        self._background: set[asyncio.Task[None]] = set()
        self._request_recorded = asyncio.Condition()
        self._ready = asyncio.Event()
        self._commands_synced = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        schema.warm_up()
        app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[self._rest_middleware])
        self._add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for connection in list(self._connections):
            await connection.close(code=1001, message="fake Discord stopping")
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """For discord.http.Route.BASE."""
        return f"{self._http_root()}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """For discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY (as a yarl.URL)."""
        return f"ws://127.0.0.1:{self._port}/"

    def _http_root(self) -> str:
        return f"http://127.0.0.1:{self._port}"

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
        members = list(members)
        everyone = FakeRole(id=guild_id, name="@everyone", permissions=MEMBER_PERMISSIONS, position=0)
        guild = FakeGuild(
            id=guild_id,
            name=name,
            owner_id=owner_id if owner_id is not None else (members[0].user_id if members else self._snowflakes.next()),
            channels={
                channel_id: FakeChannel(channel_id, "general" if index == 0 else f"channel-{index + 1}", position=index)
                for index, channel_id in enumerate(channels)
            },
            roles={role.id: role for role in [everyone, *roles]},
            upload_limit_bytes=upload_limit_bytes,
        )
        for member in [FakeMember(user_id=self.bot_user_id, name=self.bot_name, bot=True), *members]:
            guild.members[member.user_id] = member
        _add_missing_roles(guild, [role_id for member in members for role_id in member.roles])
        self.guilds[guild_id] = guild
        joined = guild_create_payload(guild, joined_at=timestamp_now(), listed_in_ready=False)
        self._dispatch_soon("GUILD_CREATE", joined)
        return guild

    def add_member(self, guild_id: int, user_id: int, *, name: str, roles: Sequence[int] = ()) -> FakeMember:
        """A new member. Roles the guild lacks are created, with no permissions of their own. A
        connected bot gets GUILD_MEMBER_ADD if it asked for the (privileged) members intent, as with Discord."""
        guild = self._guild(guild_id)
        for role in _add_missing_roles(guild, roles):
            self._dispatch_soon("GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": role_payload(role)})
        member = FakeMember(user_id=user_id, name=name, roles=list(roles), joined_at=timestamp_now())
        guild.members[user_id] = member
        event = {**member_payload(member), "guild_id": str(guild_id)}
        self._dispatch_soon("GUILD_MEMBER_ADD", event, intent=GUILD_MEMBERS_INTENT)
        return member

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
        self._faults.append(fault)
        return fault

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
        return copy.deepcopy(self._messages.in_channel(channel_id))

    def original_response(self, interaction: SentInteraction) -> Payload | None:
        """The message `@original` means for this interaction, unless there is none (yet, or any more)."""
        message_id = self._interactions[interaction.id].original_message_id
        return None if message_id is None else copy.deepcopy(self._messages.find(message_id))

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
        pattern = re.compile(path_regex)

        def first_match() -> RecordedRequest | None:
            for request in self.requests[after:]:
                if request.method == method.upper() and pattern.search(request.path):
                    if predicate is None or predicate(request):
                        return request
            return None

        async with self._request_recorded:
            try:
                # Looked up first, so that timeout=0 still finds a request that already arrived.
                return first_match() or await asyncio.wait_for(self._request_recorded.wait_for(first_match), timeout)
            except TimeoutError:
                received = "\n  ".join(request.describe() for request in self.requests[after:]) or "(nothing)"
                raise AssertionError(
                    f"no {method.upper()} {path_regex} within {timeout}s; received since #{after}:\n  {received}"
                ) from None

    async def wait_until_ready(self, timeout: float = 15.0, *, commands_synced: bool = False) -> None:
        """Until a bot has identified and been sent READY and its GUILD_CREATEs, and, with
        `commands_synced`, has also synced its application commands."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
            if commands_synced:
                await asyncio.wait_for(self._commands_synced.wait(), timeout)
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
        guild = self._guild(guild_id)
        data = command_data(self._synced_command(name, guild_id), guild=guild, options=options, subcommand=subcommand)
        return await self._send_interaction(
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
        self._messages.adopt(copy.deepcopy(message))
        return await self._send_interaction(
            MESSAGE_COMPONENT_INTERACTION,
            guild=self._guild(guild_id),
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
        connections = self._connections_for()
        if not connections:
            raise AssertionError(f"no bot is connected to the fake gateway to receive {event}")
        return await connections[0].dispatch(event, data)

    async def request_reconnect(self) -> None:
        """Send RECONNECT (op 7) to every bot connection: discord.py then RESUMEs on a new socket."""
        for connection in self._connections_for():
            await connection.send_op(Op.RECONNECT, None)

    def _guild(self, guild_id: int) -> FakeGuild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise AssertionError(f"the fake has no guild {guild_id}; add it with add_guild()") from None

    def _synced_command(self, name: str, guild_id: int) -> Payload:
        for scope in (guild_id, None):
            for command in self._commands_by_scope.get(scope, []):
                if command["name"] == name:
                    return command
        synced = sorted(command["name"] for commands in self._commands_by_scope.values() for command in commands)
        raise AssertionError(f"/{name} was never synced (synced: {synced or 'nothing'})")

    async def _send_interaction(
        self,
        interaction_type: int,
        *,
        guild: FakeGuild,
        channel_id: int,
        user_id: int,
        data: Payload,
        permissions: int | None,
        role_ids: Sequence[int] | None,
        attachment_size_limit: int | None,
        locale: str,
        command_name: str | None = None,
        message: Payload | None = None,
    ) -> SentInteraction:
        if user_id not in guild.members or channel_id not in guild.channels:
            raise AssertionError(f"user {user_id} or channel {channel_id} is not in guild {guild.name}")
        member = guild.members[user_id]
        roles = list(member.roles if role_ids is None else role_ids)
        member_data = interaction_member_payload(
            replace(member, roles=roles), guild.permissions_for(user_id, roles) if permissions is None else permissions
        )
        interaction_id = self._snowflakes.next()
        # Shaped like Discord's: base64 of "interaction:<id>:<secret>".
        secret = f"interaction:{interaction_id}:{secrets.token_hex(32)}"
        token = base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")
        payload = interaction_payload(
            interaction_id=interaction_id,
            interaction_type=interaction_type,
            token=token,
            application_id=self.application_id,
            guild=guild,
            channel=guild.channels[channel_id],
            member=member_data,
            app_permissions=guild.permissions_for(self.bot_user_id, guild.members[self.bot_user_id].roles),
            data=data,
            locale=locale,
            attachment_size_limit=guild.upload_limit_bytes if attachment_size_limit is None else attachment_size_limit,
        )
        if message is not None:
            payload["message"] = message
        # Registered before sending: the bot may answer before dispatch_event returns.
        state = _InteractionState(
            sent=SentInteraction(
                id=interaction_id,
                token=token,
                type=interaction_type,
                guild_id=guild.id,
                channel_id=channel_id,
                user_id=user_id,
                dispatched_at=time.monotonic(),
                message_id=None if message is None else int(message["id"]),
            ),
            invoker=member_data["user"],
            command_name=command_name,
        )
        self._interactions[interaction_id] = self._interactions_by_token[token] = state
        state.sent = replace(state.sent, dispatched_at=await self.dispatch_event("INTERACTION_CREATE", payload))
        return state.sent

    # ------------------------------------------------------------------ gateway

    def _connections_for(self, intent: int | None = None) -> list[GatewayConnection]:
        """Identified bot connections, optionally only those whose intents include `intent`."""
        return [
            connection
            for connection in self._connections
            if connection.identified and (intent is None or connection.wants(intent))
        ]

    async def _broadcast(self, event: str, data: Payload, *, intent: int | None = None) -> None:
        for connection in self._connections_for(intent):
            await connection.dispatch(event, data)

    def _dispatch_soon(self, event: str, data: Payload, *, intent: int | None = None) -> None:
        """For synchronous set-up calls: send in the background, to connected bots only."""
        if not self._connections_for(intent):
            return
        task = asyncio.get_running_loop().create_task(self._broadcast(event, data, intent=intent))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _serve_gateway(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        connection = GatewayConnection(websocket)
        self._connections.add(connection)
        try:
            hello = {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake-gateway"]}
            await connection.send_op(Op.HELLO, hello)
            async for frame in websocket:
                if frame.type is WSMsgType.TEXT:
                    await self._on_gateway_frame(connection, json.loads(frame.data))
        finally:
            self._connections.discard(connection)
        return websocket

    async def _on_gateway_frame(self, connection: GatewayConnection, frame: Payload) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == Op.HEARTBEAT:
            await connection.send_op(Op.HEARTBEAT_ACK, None)
        elif op == Op.IDENTIFY:
            await self._identify(connection, data)
        elif op == Op.RESUME:
            await self._resume(connection, data)
        # Presence updates and member requests need no answer: GUILD_CREATE already lists every member.

    async def _identify(self, connection: GatewayConnection, data: Payload) -> None:
        if data.get("token") != self.token:
            await connection.close(AUTHENTICATION_FAILED, "Authentication failed.")
            return
        connection.session_id = secrets.token_hex(16)
        connection.intents = int(data.get("intents", 0))
        self._session_intents[connection.session_id] = connection.intents
        ready = ready_payload(
            session_id=connection.session_id,
            bot_user=current_user_payload(self.bot_user_id, self.bot_name),
            guild_ids=list(self.guilds),
            resume_gateway_url=self.gateway_url,
            shard=data.get("shard", [0, 1]),
            application_id=self.application_id,
        )
        await connection.dispatch("READY", ready)
        for guild in list(self.guilds.values()):
            available = guild_create_payload(guild, joined_at=timestamp_now(), listed_in_ready=True)
            await connection.dispatch("GUILD_CREATE", available)
        self._ready.set()

    async def _resume(self, connection: GatewayConnection, data: Payload) -> None:
        if data.get("token") != self.token:
            await connection.close(AUTHENTICATION_FAILED, "Authentication failed.")
            return
        session_id = data.get("session_id")
        if session_id not in self._session_intents:
            await connection.send_op(Op.INVALID_SESSION, False)
            return
        # Nothing is replayed: events meant for a disconnected bot are not sent at all.
        connection.session_id = session_id
        connection.intents = self._session_intents[session_id]
        connection.sequence = int(data.get("seq") or 0)
        await connection.dispatch("RESUMED", {"_trace": ["fake-gateway"]})

    # ---------------------------------------------------------------- REST core

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self._get_current_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{application_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/commands", self._put_commands),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._put_commands),
            ("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self._create_interaction_response),
            ("POST", "/webhooks/{webhook_id}/{webhook_token}", self._execute_webhook),
            ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self._get_webhook_message),
            ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self._edit_webhook_message),
            ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self._delete_webhook_message),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("POST", "/channels/{channel_id}/messages", self._create_channel_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_channel_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_channel_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_channel_message),
        ]
        for method, path, handler in routes:
            router.add_route(method, API_PREFIX + path, handler)
        router.add_route("*", API_PREFIX + "/{unknown_route:.*}", self._unknown_route)
        router.add_get("/", self._serve_gateway)
        router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment)

    @web.middleware
    async def _rest_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Reads, checks and records every REST request, and adds Discord's headers to the answer."""
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        path = request.path.removeprefix(API_PREFIX)
        record = RecordedRequest(request.method, path, dict(request.query), json=None, files=[], at=time.monotonic())
        try:
            body = await read_body(request)
            record.json, record.files = body.json, body.files
            request[BODY] = body
            response = self._injected_fault(request.method, path) or await self._authorized(request, path, handler)
        except DiscordError as error:
            response = error.response()
        if response.status != HTTPStatus.TOO_MANY_REQUESTS:
            response.headers.update(self._rate_limit_headers(request))
        response.headers["Via"] = "1.1 google"  # discord.py retries a 429 only if it came through Discord's proxy
        record.status, record.response = response.status, response_json(response)
        async with self._request_recorded:
            self.requests.append(record)
            self._request_recorded.notify_all()
        return response

    async def _authorized(self, request: web.Request, path: str, handler: Handler) -> web.StreamResponse:
        if not _TOKEN_IN_PATH.fullmatch(path) and request.headers.get(hdrs.AUTHORIZATION) != f"Bot {self.token}":
            raise DiscordError(HTTPStatus.UNAUTHORIZED, "401: Unauthorized", 0)
        return await handler(request)

    def _injected_fault(self, method: str, path: str) -> web.Response | None:
        for fault in self._faults:
            if not fault.exhausted and fault.method == method and re.search(fault.path_pattern, path):
                fault.served += 1
                return fault_response(fault)
        return None

    def _rate_limit_headers(self, request: web.Request) -> dict[str, str]:
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        major = "+".join(request.match_info[name] for name in _MAJOR_PARAMETERS if name in request.match_info)
        return self.rate_limits.headers(request.method, template, major)

    async def _unknown_route(self, request: web.Request) -> web.Response:
        raise DiscordError(HTTPStatus.NOT_FOUND, "404: Not Found", 0)

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        """The CDN that attachment URLs point to."""
        data = self._messages.attachment_data(int(request.match_info["attachment_id"]))
        if data is None:
            return web.Response(status=HTTPStatus.NOT_FOUND, text="This content is no longer available.")
        return web.Response(body=data, content_type="application/octet-stream")

    # ------------------------------------------------------------ REST: session

    async def _get_current_user(self, request: web.Request) -> web.Response:
        return json_response(current_user_payload(self.bot_user_id, self.bot_name))

    async def _get_application(self, request: web.Request) -> web.Response:
        bot_user = user_payload(self.bot_user_id, self.bot_name, bot=True)
        return json_response(application_payload(self.application_id, bot_user, guild_count=len(self.guilds)))

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    # ----------------------------------------------------------- REST: commands

    def _command_scope(self, request: web.Request) -> int | None:
        """None for global commands, else the guild's id."""
        guild_id = request.match_info.get("guild_id")
        if int(request.match_info["application_id"]) != self.application_id or (
            guild_id is not None and int(guild_id) not in self.guilds
        ):
            raise DiscordError(HTTPStatus.FORBIDDEN, "Missing Access", 50001)
        return None if guild_id is None else int(guild_id)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self._commands_by_scope.get(self._command_scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        # A command keeps its id across syncs that keep its name.
        previous_ids = {command["name"]: int(command["id"]) for command in self._commands_by_scope.get(scope, [])}
        commands = [
            synced_command_payload(
                definition,
                command_id=previous_ids.get(definition["name"]) or self._snowflakes.next(),
                application_id=self.application_id,
                guild_id=scope,
            )
            for definition in _body(request).json or []
        ]
        self._commands_by_scope[scope] = commands
        self.synced_commands = commands
        self._commands_synced.set()
        return json_response(commands)

    # ------------------------------------------------------- REST: interactions

    async def _create_interaction_response(self, request: web.Request) -> web.StreamResponse:
        state = self._interactions.get(int(request.match_info["interaction_id"]))
        if (
            state is None
            or state.sent.token != request.match_info["interaction_token"]
            or time.monotonic() - state.sent.dispatched_at > self.interaction_response_deadline
        ):
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown interaction", 10062)
        if state.acknowledged_with is not None:
            raise DiscordError(HTTPStatus.BAD_REQUEST, "Interaction has already been acknowledged.", 40060)

        body = _body(request)
        fields: Payload = body.json or {}
        callback_type = int(fields.get("type", 0))
        message = await self._acknowledge(state, callback_type, fields.get("data") or {}, body.files)
        state.acknowledged_with = callback_type
        if not _query_flag(request, "with_response"):
            return no_content()

        resource: Payload = {"type": callback_type}
        if message is not None and callback_type != DEFERRED_UPDATE_MESSAGE:
            resource["message"] = message
        callback = {
            "id": str(state.sent.id),
            "type": state.sent.type,
            "activity_instance_id": None,
            "response_message_id": None if message is None else message["id"],
            "response_message_loading": callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            "response_message_ephemeral": message is not None and _is_ephemeral(message),
        }
        return json_response({"interaction": callback, "resource": resource})

    async def _acknowledge(
        self, state: _InteractionState, callback_type: int, data: Payload, files: list[UploadedFile]
    ) -> Payload | None:
        """What an interaction callback does to messages; returns the message it created or touched."""
        if callback_type in (CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE):
            if callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:  # a "thinking..." placeholder
                data = {"flags": LOADING_FLAG | (int(data.get("flags") or 0) & EPHEMERAL_FLAG)}
            message = await self._create_interaction_message(state, data, files)
            state.original_message_id = int(message["id"])
            return message
        if callback_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and state.sent.message_id is not None:
            state.original_message_id = state.sent.message_id
            state.message_ids.add(state.sent.message_id)
            if callback_type == UPDATE_MESSAGE:
                return await self._edit_message(state.sent.message_id, data, files)
            return self._messages.find(state.sent.message_id)
        if callback_type in (APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, MODAL):
            return None
        raise DiscordError(HTTPStatus.BAD_REQUEST, f"Invalid Form Body (callback type {callback_type} here)", 50035)

    async def _create_interaction_message(
        self, state: _InteractionState, data: Payload, files: list[UploadedFile]
    ) -> Payload:
        """A response or followup: sent by the application's webhook, carrying interaction_metadata."""
        metadata: Payload = {
            "id": str(state.sent.id),
            "type": state.sent.type,
            "user": state.invoker,
            "authorizing_integration_owners": {"0": str(state.sent.guild_id)},
        }
        if state.command_name is not None:
            metadata |= {"name": state.command_name, "command_type": 1}
        if state.sent.message_id is not None:
            metadata["interacted_message_id"] = str(state.sent.message_id)
        if state.original_message_id is not None:
            metadata["original_response_message_id"] = str(state.original_message_id)
        message = await self._create_message(
            state.sent.channel_id,
            data,
            files,
            message_type=CHAT_INPUT_COMMAND_MESSAGE if state.command_name is not None else DEFAULT_MESSAGE,
            extra={
                "webhook_id": str(self.application_id),
                "application_id": str(self.application_id),
                "interaction_metadata": metadata,
            },
        )
        state.message_ids.add(int(message["id"]))
        return message

    def _webhook_interaction(self, request: web.Request) -> _InteractionState:
        """The interaction whose token a /webhooks/{application}/{token} request uses, if usable."""
        state = self._interactions_by_token.get(request.match_info["webhook_token"])
        wrong_application = int(request.match_info["webhook_id"]) != self.application_id
        if state is None or state.acknowledged_with is None or wrong_application:
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Webhook", 10015)
        if time.monotonic() - state.sent.dispatched_at > self.interaction_token_lifetime:
            raise DiscordError(HTTPStatus.UNAUTHORIZED, "Invalid Webhook Token", 50027)
        return state

    def _webhook_message_id(self, request: web.Request) -> int:
        state = self._webhook_interaction(request)
        raw_id = request.match_info["message_id"]
        message_id = state.original_message_id if raw_id == "@original" else int(raw_id)
        if message_id is None or message_id not in state.message_ids:
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Message", 10008)
        return message_id

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        state, body = self._webhook_interaction(request), _body(request)
        message = await self._create_interaction_message(state, body.json or {}, body.files)
        return json_response(message) if _query_flag(request, "wait") else no_content()

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        return json_response(self._messages.get(self._webhook_message_id(request)))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        body = _body(request)
        return json_response(await self._edit_message(self._webhook_message_id(request), body.json or {}, body.files))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        await self._delete_message(self._webhook_message_id(request))
        return no_content()

    # ----------------------------------------------------------- REST: channels

    def _channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild, guild.channels[channel_id]
        raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Channel", 10003)

    def _channel_message_id(self, request: web.Request) -> int:
        channel_id, message_id = int(request.match_info["channel_id"]), int(request.match_info["message_id"])
        self._channel(channel_id)
        if self._messages.get(message_id)["channel_id"] != str(channel_id):
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Message", 10008)
        return message_id

    async def _get_channel(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(int(request.match_info["channel_id"]))
        last_message_id = max((int(message["id"]) for message in self._messages.in_channel(channel.id)), default=None)
        return json_response(text_channel_payload(channel, guild.id, last_message_id=last_message_id))

    async def _create_channel_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        body = _body(request)
        fields: Payload = body.json or {}
        if fields.get("enforce_nonce") and fields.get("nonce") is not None:
            earlier = self._messages.recent_with_nonce(str(fields["nonce"]))
            if earlier is not None:
                return json_response(earlier)
        reference = fields.get("message_reference")
        if reference is None:
            message = await self._create_message(channel_id, fields, body.files, message_type=DEFAULT_MESSAGE, extra={})
        else:
            reply = {"message_reference": {"type": 0, "channel_id": str(channel_id), **reference}}
            message = await self._create_message(
                channel_id, fields, body.files, message_type=REPLY_MESSAGE, extra=reply
            )
        return json_response(message)

    async def _get_channel_message(self, request: web.Request) -> web.Response:
        return json_response(self._messages.get(self._channel_message_id(request)))

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        message_id = self._channel_message_id(request)
        if self._messages.get(message_id)["author"]["id"] != str(self.bot_user_id):
            raise DiscordError(HTTPStatus.FORBIDDEN, "Cannot edit a message authored by another user", 50005)
        body = _body(request)
        return json_response(await self._edit_message(message_id, body.json or {}, body.files))

    async def _delete_channel_message(self, request: web.Request) -> web.Response:
        await self._delete_message(self._channel_message_id(request))
        return no_content()

    # --------------------------------------------- messages, and their gateway events

    async def _create_message(
        self, channel_id: int, body: Payload, files: list[UploadedFile], *, message_type: int, extra: Payload
    ) -> Payload:
        guild, _ = self._channel(channel_id)
        message = self._messages.create(
            guild=guild, channel_id=channel_id, body=body, files=files, message_type=message_type, extra=extra
        )
        await self._announce("MESSAGE_CREATE", message, ephemeral=_is_ephemeral(message))
        return message

    async def _edit_message(self, message_id: int, body: Payload, files: list[UploadedFile]) -> Payload:
        guild, _ = self._channel(int(self._messages.get(message_id)["channel_id"]))
        message = self._messages.edit(message_id, guild=guild, body=body, files=files)
        await self._announce("MESSAGE_UPDATE", message, ephemeral=_is_ephemeral(message))
        return message

    async def _delete_message(self, message_id: int) -> None:
        message = self._messages.delete(message_id)
        guild, _ = self._channel(int(message["channel_id"]))
        event = {"id": message["id"], "channel_id": message["channel_id"], "guild_id": str(guild.id)}
        await self._announce("MESSAGE_DELETE", event, ephemeral=_is_ephemeral(message))

    async def _announce(self, event: str, data: Payload, *, ephemeral: bool) -> None:
        """Tell bots with the guild-messages intent, as Discord does; never about ephemeral messages."""
        if not ephemeral:
            await self._broadcast(event, data, intent=GUILD_MESSAGES_INTENT)
