"""REST routes for channels: reading a channel, its messages (create, get, edit, delete), and the CDN.

Messages sent here follow Discord's channel rules: enforce_nonce returns the earlier message, a
message_reference makes a reply, only the bot's own messages can be edited. Attachment URLs point at
the fake's CDN route, which serves the uploaded bytes.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

from tests.fake_discord.message_events import MessageEvents
from tests.fake_discord.payloads import DEFAULT_MESSAGE, REPLY_MESSAGE, Payload, text_channel_payload
from tests.fake_discord.rest import DiscordError, Route, body_of, json_response, no_content
from tests.fake_discord.state import FakeState

CDN_ATTACHMENT_PATH = "/attachments/{channel_id}/{attachment_id}/{filename}"  # outside /api/v10, as on Discord


class ChannelRoutes:
    """Channel and channel-message handlers, and the CDN that serves attachments."""

    def __init__(self, state: FakeState, message_events: MessageEvents) -> None:
        self._state = state
        self._message_events = message_events

    def routes(self) -> list[Route]:
        return [
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("POST", "/channels/{channel_id}/messages", self._create_channel_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_channel_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_channel_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_channel_message),
        ]

    async def serve_attachment(self, request: web.Request) -> web.Response:
        """The CDN that attachment URLs point to (CDN_ATTACHMENT_PATH)."""
        data = self._state.messages.attachment_data(int(request.match_info["attachment_id"]))
        if data is None:
            return web.Response(status=HTTPStatus.NOT_FOUND, text="This content is no longer available.")
        return web.Response(body=data, content_type="application/octet-stream")

    def _channel_message_id(self, request: web.Request) -> int:
        channel_id, message_id = int(request.match_info["channel_id"]), int(request.match_info["message_id"])
        self._state.channel(channel_id)
        if self._state.messages.get(message_id)["channel_id"] != str(channel_id):
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Message", 10008)
        return message_id

    async def _get_channel(self, request: web.Request) -> web.Response:
        guild, channel = self._state.channel(int(request.match_info["channel_id"]))
        messages = self._state.messages.in_channel(channel.id)
        last_message_id = max((int(message["id"]) for message in messages), default=None)
        return json_response(text_channel_payload(channel, guild.id, last_message_id=last_message_id))

    async def _create_channel_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        body = body_of(request)
        fields: Payload = body.json or {}
        if fields.get("enforce_nonce") and fields.get("nonce") is not None:
            earlier = self._state.messages.recent_with_nonce(str(fields["nonce"]))
            if earlier is not None:
                return json_response(earlier)
        reference = fields.get("message_reference")
        if reference is None:
            message = await self._message_events.create(
                channel_id, fields, body.files, message_type=DEFAULT_MESSAGE, extra={}
            )
        else:
            reply = {"message_reference": {"type": 0, "channel_id": str(channel_id), **reference}}
            message = await self._message_events.create(
                channel_id, fields, body.files, message_type=REPLY_MESSAGE, extra=reply
            )
        return json_response(message)

    async def _get_channel_message(self, request: web.Request) -> web.Response:
        return json_response(self._state.messages.get(self._channel_message_id(request)))

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        message_id = self._channel_message_id(request)
        if self._state.messages.get(message_id)["author"]["id"] != str(self._state.bot_user_id):
            raise DiscordError(HTTPStatus.FORBIDDEN, "Cannot edit a message authored by another user", 50005)
        body = body_of(request)
        return json_response(await self._message_events.edit(message_id, body.json or {}, body.files))

    async def _delete_channel_message(self, request: web.Request) -> web.Response:
        await self._message_events.delete(self._channel_message_id(request))
        return no_content()
