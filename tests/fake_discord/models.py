"""The fake's own records: what it knows about guilds, and what the bot sent it."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import Any

from tests.fake_discord import schema

MIB = 1024 * 1024
DEFAULT_UPLOAD_LIMIT = 10 * MIB  # bots and webhooks in an unboosted server, since January 2025


class Permission(enum.IntFlag):
    """Discord permission bits (the subset a bot's tests talk about)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40


# What @everyone gets in a server created today.
MEMBER_PERMISSIONS = (
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CONNECT
    | Permission.SPEAK
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
MODERATOR_PERMISSIONS = (
    Permission.KICK_MEMBERS
    | Permission.BAN_MEMBERS
    | Permission.MANAGE_GUILD
    | Permission.MANAGE_MESSAGES
    | Permission.MODERATE_MEMBERS
)
# Discord sends every bit, known or not, for an administrator.
ALL_PERMISSIONS = (1 << 51) - 1


@dataclass(frozen=True)
class UploadedFile:
    field: str  # the multipart field name, e.g. "files[0]"
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request as the fake received it, and how it answered."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any  # the JSON body, or the parsed payload_json of a multipart body
    files: list[UploadedFile]
    at: float  # time.monotonic() on arrival
    status: int = 0
    response: Any = None  # the JSON the fake answered with, if any

    @functools.cached_property
    def schema_errors(self) -> list[str]:
        """Where the body breaks Discord's OpenAPI schema; worked out on first read, off the request's path,
        so checking never slows the fake's answers (a benchmark times them)."""
        return [] if self.json is None else schema.request_body_errors(self.method, self.path, self.json)

    def describe(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int = 0  # on top of @everyone's
    position: int = 1
    color: int = 0
    hoist: bool = False
    mentionable: bool = False


@dataclass
class FakeMember:
    user_id: int
    name: str
    roles: list[int] = field(default_factory=list)
    bot: bool = False
    joined_at: str = "2024-01-01T12:00:00.000000+00:00"


@dataclass
class FakeChannel:
    id: int
    name: str
    position: int
    topic: str | None = None
    nsfw: bool = False  # what Discord calls an age-restricted channel


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    roles: dict[int, FakeRole] = field(default_factory=dict)  # @everyone's id is the guild's
    upload_limit_bytes: int = DEFAULT_UPLOAD_LIMIT

    def permissions_for(self, user_id: int, role_ids: list[int]) -> int:
        """Guild-level permissions: @everyone's plus each role's; the owner and administrators get all."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        permissions = self.roles[self.id].permissions
        for role_id in role_ids:
            if role_id not in self.roles:
                raise AssertionError(f"guild {self.name} has no role {role_id}")
            permissions |= self.roles[role_id].permissions
        if permissions & Permission.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return int(permissions)


@dataclass(frozen=True)
class SentInteraction:
    """An interaction the fake dispatched to the bot."""

    id: int
    token: str
    type: int  # 2 application command, 3 message component
    guild_id: int
    channel_id: int
    user_id: int
    dispatched_at: float  # time.monotonic() just before the frame was sent
    message_id: int | None = None  # for a component: the message it is on


@dataclass
class InjectedFault:
    """Makes the next `times` requests matching `method` and `path_pattern` fail with `status`."""

    method: str
    path_pattern: str  # a regular expression searched for in the path without /api/v10
    status: int
    times: int
    retry_after: float
    body: dict[str, Any] | None
    served: int = 0

    @property
    def exhausted(self) -> bool:
        return self.served >= self.times
