"""Discord object shapes (API v10) as the real service sends them, built from the fake's records."""

from __future__ import annotations

import datetime
import mimetypes
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tests.fake_discord.models import FakeChannel, FakeGuild, FakeMember, FakeRole

Payload = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
APPLICATION_OWNER_ID = 80_351_110_224_678_912

# Message types and flags the fake produces.
DEFAULT_MESSAGE = 0
REPLY_MESSAGE = 19
CHAT_INPUT_COMMAND_MESSAGE = 20
EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7

# Interaction and application-command option types.
APPLICATION_COMMAND_INTERACTION = 2
MESSAGE_COMPONENT_INTERACTION = 3
APPLICATION_COMMAND_AUTOCOMPLETE_INTERACTION = 4
USER_OPTION = 6
CHANNEL_OPTION = 7
ROLE_OPTION = 8
MENTIONABLE_OPTION = 9
ATTACHMENT_OPTION = 11

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE_MENTION = re.compile(r"@(?:everyone|here)\b")


class SnowflakeGenerator:
    """Ids shaped like Discord's: milliseconds since 2015 in the top bits, always increasing."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        from_clock = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(from_clock, self._last + 1)
        return self._last


def timestamp_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def user_payload(user_id: int, name: str, *, bot: bool = False) -> Payload:
    user: Payload = {
        "id": str(user_id),
        # Bots keep a name and a four-digit tag; people have a lower-case handle and a display name.
        "username": name if bot else name.lower().replace(" ", "_"),
        "global_name": None if bot else name,
        "discriminator": f"{user_id % 10_000:04d}" if bot else "0",
        "avatar": None,
        "avatar_decoration_data": None,
        "banner": None,
        "accent_color": None,
        "public_flags": 0,
        "flags": 0,
        "clan": None,
        "primary_guild": None,
        "collectibles": None,
    }
    if bot:
        user["bot"] = True
    return user


def current_user_payload(user_id: int, name: str) -> Payload:
    """GET /users/@me and READY's `user`: the bot's own account, with its private fields."""
    return {**user_payload(user_id, name, bot=True), "verified": True, "mfa_enabled": False, "email": None, "bio": ""}


def member_payload(member: FakeMember) -> Payload:
    return {
        "user": user_payload(member.user_id, member.name, bot=member.bot),
        "nick": None,
        "avatar": None,
        "banner": None,
        "roles": [str(role_id) for role_id in member.roles],
        "joined_at": member.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }


def interaction_member_payload(member: FakeMember, permissions: int) -> Payload:
    return {**member_payload(member), "permissions": str(permissions)}


def role_payload(role: FakeRole) -> Payload:
    return {
        "id": str(role.id),
        "name": role.name,
        "description": None,
        "permissions": str(int(role.permissions)),
        "position": role.position,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": role.hoist,
        "managed": False,
        "mentionable": role.mentionable,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }


def text_channel_payload(channel: FakeChannel, guild_id: int, *, last_message_id: int | None = None) -> Payload:
    return {
        "id": str(channel.id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": [],
        "topic": channel.topic,
        "nsfw": channel.nsfw,
        "last_message_id": None if last_message_id is None else str(last_message_id),
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def guild_create_payload(guild: FakeGuild, *, joined_at: str, listed_in_ready: bool) -> Payload:
    """GUILD_CREATE: every member is sent, so member_count equals the list and no chunking is needed.

    `unavailable: false` marks a guild READY listed as unavailable; a guild joined later lacks it,
    which is how discord.py tells on_guild_available from on_guild_join."""
    payload: Payload = {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "features": [],
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "max_members": 500_000,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "application_id": None,
        "incidents_data": None,
        "joined_at": joined_at,
        "large": False,
        "lazy": True,
        "member_count": len(guild.members),
        "roles": [role_payload(role) for role in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "channels": [text_channel_payload(channel, guild.id) for channel in guild.channels.values()],
        "threads": [],
        "members": [member_payload(member) for member in guild.members.values()],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
    }
    if listed_in_ready:
        payload["unavailable"] = False
    return payload


def ready_payload(
    *,
    session_id: str,
    bot_user: Payload,
    guild_ids: Sequence[int],
    resume_gateway_url: str,
    shard: list[int],
    application_id: int,
) -> Payload:
    return {
        "v": 10,
        "user": bot_user,
        "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in guild_ids],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_gateway_url,
        "shard": shard,
        "application": {"id": str(application_id), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["rotterdam", "frankfurt", "london"],
        "user_settings": {},
        "auth": {},
        "_trace": ['["fake-gateway",{"micros":0}]'],
    }


def application_payload(application_id: int, bot_user: Payload, *, guild_count: int) -> Payload:
    return {
        "id": str(application_id),
        "name": bot_user["username"],
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": f"{application_id:064x}",
        "flags": 0,
        "owner": user_payload(APPLICATION_OWNER_ID, "App Owner"),
        "team": None,
        "bot": bot_user,
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "tags": [],
        "approximate_guild_count": guild_count,
        "integration_types_config": {"0": {}},
    }


def synced_command_payload(
    definition: Payload, *, command_id: int, application_id: int, guild_id: int | None
) -> Payload:
    """A command as PUT .../commands echoes it: Discord's ids, version, and its defaults filled in."""
    permissions = definition.get("default_member_permissions")
    command: Payload = {
        "type": 1,
        "options": [],
        "nsfw": False,
        "description_localizations": None,
        "name_localizations": None,
        **definition,
        "id": str(command_id),
        "application_id": str(application_id),
        "version": str(command_id),
        # Discord answers permission bitsets as strings whatever the request used.
        "default_member_permissions": None if permissions is None else str(permissions),
    }
    if guild_id is None:
        command.setdefault("contexts", [0, 1, 2])
        command.setdefault("integration_types", [0])
    else:
        command["guild_id"] = str(guild_id)
    return command


def empty_message_payload(
    *, message_id: int, channel_id: int, guild_id: int, author: Payload, message_type: int
) -> Payload:
    return {
        "id": str(message_id),
        "type": message_type,
        "channel_id": str(channel_id),
        "guild_id": str(guild_id),
        "author": author,
        "content": "",
        "embeds": [],
        "attachments": [],
        "components": [],
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": False,
        "flags": 0,
        "timestamp": timestamp_now(),
        "edited_timestamp": None,
    }


def attachment_payload(*, attachment_id: int, filename: str, size: int, url: str, description: str | None) -> Payload:
    # Discord sniffs the type from the name; discord.py uploads everything as application/octet-stream.
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
        "content_scan_version": 0,
        "description": description,
        "spoiler": filename.startswith("SPOILER_"),
    }


def numbered_components(components: list[Payload]) -> list[Payload]:
    """Components as Discord echoes them: each gets a numeric `id` unique within the message."""
    counter = iter(range(1, 10_000))

    def number(component: Payload) -> Payload:
        numbered = {**component, "id": component.get("id") or next(counter)}
        if "components" in component:
            numbered["components"] = [number(child) for child in component["components"]]
        return numbered

    return [number(component) for component in components]


def echoed_embeds(embeds: list[Payload]) -> list[Payload]:
    return [{"type": "rich", **embed, "content_scan_version": 0} for embed in embeds]


def applied_mentions(content: str, allowed_mentions: Payload | None, guild: FakeGuild) -> Payload:
    """The `mentions`, `mention_roles` and `mention_everyone` fields after allowed_mentions is applied.

    Without allowed_mentions everything in the content pings; with it, only what `parse` or the
    explicit `users`/`roles` lists allow. Suppressed mentions do not appear in the message's lists.
    """
    allowed = allowed_mentions if allowed_mentions is not None else {"parse": ["users", "roles", "everyone"]}
    parse = allowed.get("parse") or []
    allowed_users = {int(user_id) for user_id in allowed.get("users") or []}
    allowed_roles = {int(role_id) for role_id in allowed.get("roles") or []}

    mentioned_users = dict.fromkeys(int(found) for found in _USER_MENTION.findall(content))
    mentioned_roles = dict.fromkeys(int(found) for found in _ROLE_MENTION.findall(content))
    pinged_users = [
        user_id
        for user_id in mentioned_users
        if user_id in guild.members and ("users" in parse or user_id in allowed_users)
    ]
    pinged_roles = [
        role_id
        for role_id in mentioned_roles
        if role_id in guild.roles and ("roles" in parse or role_id in allowed_roles)
    ]
    return {
        "mentions": [member_mention_payload(guild.members[user_id]) for user_id in pinged_users],
        "mention_roles": [str(role_id) for role_id in pinged_roles],
        "mention_everyone": "everyone" in parse and _EVERYONE_MENTION.search(content) is not None,
    }


def member_mention_payload(member: FakeMember) -> Payload:
    member_fields = {key: value for key, value in member_payload(member).items() if key != "user"}
    return {**user_payload(member.user_id, member.name, bot=member.bot), "member": member_fields}


def interaction_payload(
    *,
    interaction_id: int,
    interaction_type: int,
    token: str,
    application_id: int,
    guild: FakeGuild,
    channel: FakeChannel,
    member: Payload,
    app_permissions: int,
    data: Payload,
    locale: str,
    attachment_size_limit: int,
) -> Payload:
    """INTERACTION_CREATE for a guild channel, with every key discord.py reads."""
    return {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": interaction_type,
        "data": data,
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "guild_id": str(guild.id),
        "guild_locale": "en-US",
        "channel": text_channel_payload(channel, guild.id),
        "channel_id": str(channel.id),
        "member": member,
        "token": token,
        "version": 1,
        "app_permissions": str(app_permissions),
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": attachment_size_limit,
    }


def command_data(
    command: Payload,
    *,
    guild: FakeGuild,
    options: Mapping[str, object] | Sequence[Payload] | None,
    subcommand: str | None,
) -> Payload:
    """`data` of an application-command interaction invoking `command` (as synced).

    `options` is either name -> value, typed from the synced definition, or the raw option list.
    `subcommand` is "sub" or "group sub".
    """
    definitions: list[Payload] = command.get("options") or []
    path: list[Payload] = []
    for name in (subcommand or "").split():
        parent = _named(definitions, name, command["name"])
        path.append(parent)
        definitions = parent.get("options") or []

    resolved: Payload = {}
    if options is None:
        leaf_options: list[Payload] = []
    elif isinstance(options, Mapping):
        leaf_options = [
            _typed_option(_named(definitions, name, command["name"]), value, guild, resolved)
            for name, value in options.items()
        ]
    else:
        leaf_options = list(options)

    for parent in reversed(path):
        leaf_options = [{"name": parent["name"], "type": parent["type"], "options": leaf_options}]

    data: Payload = {
        "id": command["id"],
        "name": command["name"],
        "type": command.get("type", 1),
        "options": leaf_options,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def _named(definitions: list[Payload], name: str, command_name: str) -> Payload:
    for definition in definitions:
        if definition["name"] == name:
            return definition
    known = ", ".join(definition["name"] for definition in definitions) or "none"
    raise AssertionError(f"/{command_name} has no option {name!r} (it has: {known})")


def _typed_option(definition: Payload, value: object, guild: FakeGuild, resolved: Payload) -> Payload:
    option_type: int = definition["type"]
    if option_type == ATTACHMENT_OPTION:
        raise NotImplementedError("the fake does not upload attachment options yet")
    if option_type in (USER_OPTION, CHANNEL_OPTION, ROLE_OPTION, MENTIONABLE_OPTION):
        _resolve(option_type, int(str(value)), guild, resolved)
        value = str(value)
    return {"name": definition["name"], "type": option_type, "value": value}


def _resolve(option_type: int, target_id: int, guild: FakeGuild, resolved: Payload) -> None:
    """Fill `resolved` the way Discord does for user, channel, role and mentionable options."""
    key = str(target_id)
    if option_type in (USER_OPTION, MENTIONABLE_OPTION) and target_id in guild.members:
        member = guild.members[target_id]
        resolved.setdefault("users", {})[key] = user_payload(member.user_id, member.name, bot=member.bot)
        member_fields = {name: value for name, value in member_payload(member).items() if name != "user"}
        member_fields["permissions"] = str(guild.permissions_for(member.user_id, member.roles))
        resolved.setdefault("members", {})[key] = member_fields
    elif option_type in (ROLE_OPTION, MENTIONABLE_OPTION) and target_id in guild.roles:
        resolved.setdefault("roles", {})[key] = role_payload(guild.roles[target_id])
    elif option_type == CHANNEL_OPTION and target_id in guild.channels:
        channel = guild.channels[target_id]
        resolved.setdefault("channels", {})[key] = {
            "id": key,
            "name": channel.name,
            "type": 0,
            "guild_id": str(guild.id),
            "parent_id": None,
            "permissions": str(int(guild.roles[guild.id].permissions)),  # as @everyone sees it
        }
    else:
        raise AssertionError(f"option type {option_type}: {target_id} is not a member, role or channel of {guild.name}")
