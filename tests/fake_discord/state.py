"""The fake Discord's shared state, and the look-ups every part of it makes.

One FakeState per FakeDiscord holds what the gateway sessions, the REST route modules and the test-facing
façade all read and change: the bot's identity and Discord's adjustable limits, the guilds, the synced
commands, the messages, the interactions in flight, the injected faults, the held answers and the log of
recorded requests (with the condition that wakes those waiting for one). It knows nothing of HTTP routes or
websockets.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

from tests.fake_discord.holds import HeldAnswers
from tests.fake_discord.messages import MessageStore
from tests.fake_discord.models import (
    MEMBER_PERMISSIONS,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    InjectedFault,
    RecordedRequest,
    SentInteraction,
)
from tests.fake_discord.payloads import Payload, SnowflakeGenerator, user_payload
from tests.fake_discord.rest import DiscordError, RateLimiter


@dataclass
class InteractionState:
    """An interaction the fake dispatched, and what the bot has done with it so far."""

    sent: SentInteraction
    invoker: Payload  # the user object of whoever triggered it
    command_name: str | None  # None for a component interaction
    acknowledged_with: int | None = None  # the callback type, once acknowledged
    original_message_id: int | None = None  # what @original means
    message_ids: set[int] = field(default_factory=set)  # what this token may read, edit and delete


class FakeState:
    """Everything one fake Discord knows; FakeDiscord exposes its public part to tests."""

    def __init__(self, *, token: str, application_id: int, bot_user_id: int, bot_name: str) -> None:
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

        self.snowflakes = SnowflakeGenerator()
        self.messages = MessageStore(
            self.snowflakes, author=user_payload(bot_user_id, bot_name, bot=True), cdn_base_url=self.http_root
        )
        self.commands_by_scope: dict[int | None, list[Payload]] = {}  # None: global commands
        self.interactions: dict[int, InteractionState] = {}
        self.interactions_by_token: dict[str, InteractionState] = {}
        self.faults: list[InjectedFault] = []
        self.holds: list[HeldAnswers] = []
        self.request_recorded = asyncio.Condition()
        self.ready = asyncio.Event()  # a bot identified and got READY and its GUILD_CREATEs
        self.commands_synced = asyncio.Event()
        self.presences: list[Payload] = []  # each presence the bot set: IDENTIFY's, then every PRESENCE_UPDATE (op 3)
        self.presence_changed = asyncio.Condition()
        self.port = 0  # set once the server listens

    # ------------------------------------------------------------------ addresses

    def http_root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    # -------------------------------------------------------------------- guilds

    def new_guild(
        self,
        guild_id: int,
        *,
        name: str,
        owner_id: int | None,
        channels: Sequence[int],
        members: list[FakeMember],
        roles: Iterable[FakeRole],
        upload_limit_bytes: int,
    ) -> FakeGuild:
        """Adds a guild with the bot as a member, text channels named general, channel-2, ..., and the
        roles its members name; the owner defaults to the first member."""
        everyone = FakeRole(id=guild_id, name="@everyone", permissions=MEMBER_PERMISSIONS, position=0)
        guild = FakeGuild(
            id=guild_id,
            name=name,
            owner_id=owner_id if owner_id is not None else (members[0].user_id if members else self.snowflakes.next()),
            channels={
                channel_id: FakeChannel(channel_id, "general" if index == 0 else f"channel-{index + 1}", position=index)
                for index, channel_id in enumerate(channels)
            },
            roles={role.id: role for role in [everyone, *roles]},
            upload_limit_bytes=upload_limit_bytes,
        )
        for member in [FakeMember(user_id=self.bot_user_id, name=self.bot_name, bot=True), *members]:
            guild.members[member.user_id] = member
        add_missing_roles(guild, [role_id for member in members for role_id in member.roles])
        self.guilds[guild_id] = guild
        return guild

    def guild(self, guild_id: int) -> FakeGuild:
        """For the test API: a guild the test must have added."""
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise AssertionError(f"the fake has no guild {guild_id}; add it with add_guild()") from None

    def channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        """For REST handlers: the channel and its guild, or Discord's Unknown Channel."""
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild, guild.channels[channel_id]
        raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Channel", 10003)

    def synced_command(self, name: str, guild_id: int) -> Payload:
        """The synced command a member of `guild_id` sees as /name: the guild's own, else the global one."""
        for scope in (guild_id, None):
            for command in self.commands_by_scope.get(scope, []):
                if command["name"] == name:
                    return command
        synced = sorted(command["name"] for commands in self.commands_by_scope.values() for command in commands)
        raise AssertionError(f"/{name} was never synced (synced: {synced or 'nothing'})")

    # ---------------------------------------------------------- recorded requests

    async def record(self, request: RecordedRequest) -> None:
        async with self.request_recorded:
            self.requests.append(request)
            self.request_recorded.notify_all()

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        predicate: Callable[[RecordedRequest], bool] | None,
        timeout: float,
        after: int,
    ) -> RecordedRequest:
        """FakeDiscord.wait_for_request: the first match at index >= `after`, waiting up to `timeout`."""
        pattern = re.compile(path_regex)

        def first_match() -> RecordedRequest | None:
            for request in self.requests[after:]:
                if request.method == method.upper() and pattern.search(request.path):
                    if predicate is None or predicate(request):
                        return request
            return None

        async with self.request_recorded:
            try:
                # Looked up first, so that timeout=0 still finds a request that already arrived.
                found = first_match() or await asyncio.wait_for(self.request_recorded.wait_for(first_match), timeout)
            except TimeoutError:
                received = "\n  ".join(request.describe() for request in self.requests[after:]) or "(nothing)"
                raise AssertionError(
                    f"no {method.upper()} {path_regex} within {timeout}s; received since #{after}:\n  {received}"
                ) from None
        assert found is not None  # wait_for returns only once first_match() finds one
        return found

    async def record_presence(self, presence: Payload) -> None:
        async with self.presence_changed:
            self.presences.append(presence)
            self.presence_changed.notify_all()

    async def wait_for_presence(self, predicate: Callable[[Payload], bool], *, timeout: float, after: int) -> Payload:
        """FakeDiscord.wait_for_presence: the first presence at index >= `after` that `predicate` accepts."""

        def first_match() -> Payload | None:
            return next((presence for presence in self.presences[after:] if predicate(presence)), None)

        async with self.presence_changed:
            try:
                found = first_match() or await asyncio.wait_for(self.presence_changed.wait_for(first_match), timeout)
            except TimeoutError:
                shown = self.presences[after:]
                raise AssertionError(f"no such presence within {timeout}s; the bot set {shown}") from None
        assert found is not None
        return found


def add_missing_roles(guild: FakeGuild, role_ids: Iterable[int]) -> list[FakeRole]:
    """A member's roles must exist in its guild, as on Discord; tests often name only an id."""
    added = []
    for role_id in role_ids:
        if role_id not in guild.roles:
            guild.roles[role_id] = FakeRole(id=role_id, name=f"role-{len(guild.roles)}")
            added.append(guild.roles[role_id])
    return added
