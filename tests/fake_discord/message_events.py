"""Message changes the bot's REST calls make, each followed by the gateway event Discord sends for it.

Channel routes and interaction routes both create, edit and delete messages: this module does it once for
both, in the message store and then as MESSAGE_CREATE, MESSAGE_UPDATE or MESSAGE_DELETE to the bots that
asked for the guild-messages intent (never for an ephemeral message, as with Discord).
"""

from __future__ import annotations

from tests.fake_discord.gateway import GUILD_MESSAGES_INTENT
from tests.fake_discord.gateway_sessions import GatewaySessions
from tests.fake_discord.models import UploadedFile
from tests.fake_discord.payloads import EPHEMERAL_FLAG, Payload
from tests.fake_discord.state import FakeState


def is_ephemeral(message: Payload) -> bool:
    return bool(message.get("flags", 0) & EPHEMERAL_FLAG)


class MessageEvents:
    """Creates, edits and deletes messages in the state's store, and announces each change."""

    def __init__(self, state: FakeState, gateway: GatewaySessions) -> None:
        self._state = state
        self._gateway = gateway

    async def create(
        self, channel_id: int, body: Payload, files: list[UploadedFile], *, message_type: int, extra: Payload
    ) -> Payload:
        guild, _ = self._state.channel(channel_id)
        message = self._state.messages.create(
            guild=guild, channel_id=channel_id, body=body, files=files, message_type=message_type, extra=extra
        )
        await self._announce("MESSAGE_CREATE", message, ephemeral=is_ephemeral(message))
        return message

    async def edit(self, message_id: int, body: Payload, files: list[UploadedFile]) -> Payload:
        messages = self._state.messages
        guild, _ = self._state.channel(int(messages.get(message_id)["channel_id"]))
        message = messages.edit(message_id, guild=guild, body=body, files=files)
        await self._announce("MESSAGE_UPDATE", message, ephemeral=is_ephemeral(message))
        return message

    async def delete(self, message_id: int) -> None:
        message = self._state.messages.delete(message_id)
        guild, _ = self._state.channel(int(message["channel_id"]))
        event = {"id": message["id"], "channel_id": message["channel_id"], "guild_id": str(guild.id)}
        await self._announce("MESSAGE_DELETE", event, ephemeral=is_ephemeral(message))

    async def _announce(self, event: str, data: Payload, *, ephemeral: bool) -> None:
        if not ephemeral:
            await self._gateway.broadcast(event, data, intent=GUILD_MESSAGES_INTENT)
