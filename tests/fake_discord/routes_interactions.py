"""Interactions, from the INTERACTION_CREATE a member's action sends the bot to the REST calls that answer it.

`dispatch` mints an interaction (id, Discord-shaped token, the member's permissions) and sends it over the
gateway; the routes then hold the bot to Discord's rules: one callback per interaction, within the
response deadline; webhook follow-ups and @original only with an acknowledged interaction's token, and
only until that token expires; each token reaches only the messages its interaction created or touched.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Sequence
from dataclasses import replace
from http import HTTPStatus

from aiohttp import web

from tests.fake_discord.gateway_sessions import GatewaySessions
from tests.fake_discord.message_events import MessageEvents, is_ephemeral
from tests.fake_discord.models import FakeGuild, SentInteraction, UploadedFile
from tests.fake_discord.payloads import (
    CHAT_INPUT_COMMAND_MESSAGE,
    DEFAULT_MESSAGE,
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    Payload,
    interaction_member_payload,
    interaction_payload,
)
from tests.fake_discord.rest import DiscordError, Route, body_of, json_response, no_content, query_flag
from tests.fake_discord.state import FakeState, InteractionState

# Interaction callback types.
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9


class InteractionRoutes:
    """Sends interactions to the bot, and handles its callbacks and its webhook calls with their tokens."""

    def __init__(self, state: FakeState, gateway: GatewaySessions, message_events: MessageEvents) -> None:
        self._state = state
        self._gateway = gateway
        self._message_events = message_events

    def routes(self) -> list[Route]:
        return [
            ("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self._create_interaction_response),
            ("POST", "/webhooks/{webhook_id}/{webhook_token}", self._execute_webhook),
            ("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self._get_webhook_message),
            ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self._edit_webhook_message),
            ("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self._delete_webhook_message),
        ]

    # ------------------------------------------------------------- dispatching

    async def dispatch(
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
        """A member of `guild` triggers an interaction in `channel_id`; the bot gets INTERACTION_CREATE."""
        if user_id not in guild.members or channel_id not in guild.channels:
            raise AssertionError(f"user {user_id} or channel {channel_id} is not in guild {guild.name}")
        state = self._state
        member = guild.members[user_id]
        roles = list(member.roles if role_ids is None else role_ids)
        member_data = interaction_member_payload(
            replace(member, roles=roles), guild.permissions_for(user_id, roles) if permissions is None else permissions
        )
        interaction_id = state.snowflakes.next()
        # Shaped like Discord's: base64 of "interaction:<id>:<secret>".
        secret = f"interaction:{interaction_id}:{secrets.token_hex(32)}"
        token = base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")
        payload = interaction_payload(
            interaction_id=interaction_id,
            interaction_type=interaction_type,
            token=token,
            application_id=state.application_id,
            guild=guild,
            channel=guild.channels[channel_id],
            member=member_data,
            app_permissions=guild.permissions_for(state.bot_user_id, guild.members[state.bot_user_id].roles),
            data=data,
            locale=locale,
            attachment_size_limit=guild.upload_limit_bytes if attachment_size_limit is None else attachment_size_limit,
        )
        if message is not None:
            payload["message"] = message
        # Registered before sending: the bot may answer before the dispatch returns.
        interaction = InteractionState(
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
        state.interactions[interaction_id] = state.interactions_by_token[token] = interaction
        dispatched_at = await self._gateway.dispatch_to_bot("INTERACTION_CREATE", payload)
        interaction.sent = replace(interaction.sent, dispatched_at=dispatched_at)
        return interaction.sent

    # --------------------------------------------------------------- callbacks

    async def _create_interaction_response(self, request: web.Request) -> web.StreamResponse:
        interaction = self._state.interactions.get(int(request.match_info["interaction_id"]))
        if (
            interaction is None
            or interaction.sent.token != request.match_info["interaction_token"]
            or time.monotonic() - interaction.sent.dispatched_at > self._state.interaction_response_deadline
        ):
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown interaction", 10062)
        if interaction.acknowledged_with is not None:
            raise DiscordError(HTTPStatus.BAD_REQUEST, "Interaction has already been acknowledged.", 40060)

        body = body_of(request)
        fields: Payload = body.json or {}
        callback_type = int(fields.get("type", 0))
        message = await self._acknowledge(interaction, callback_type, fields.get("data") or {}, body.files)
        interaction.acknowledged_with = callback_type
        if not query_flag(request, "with_response"):
            return no_content()

        resource: Payload = {"type": callback_type}
        if message is not None and callback_type != DEFERRED_UPDATE_MESSAGE:
            resource["message"] = message
        callback = {
            "id": str(interaction.sent.id),
            "type": interaction.sent.type,
            "activity_instance_id": None,
            "response_message_id": None if message is None else message["id"],
            "response_message_loading": callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            "response_message_ephemeral": message is not None and is_ephemeral(message),
        }
        return json_response({"interaction": callback, "resource": resource})

    async def _acknowledge(
        self, interaction: InteractionState, callback_type: int, data: Payload, files: list[UploadedFile]
    ) -> Payload | None:
        """What an interaction callback does to messages; returns the message it created or touched."""
        if callback_type in (CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE):
            if callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:  # a "thinking..." placeholder
                data = {"flags": LOADING_FLAG | (int(data.get("flags") or 0) & EPHEMERAL_FLAG)}
            message = await self._create_interaction_message(interaction, data, files)
            interaction.original_message_id = int(message["id"])
            return message
        clicked_message_id = interaction.sent.message_id
        if callback_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and clicked_message_id is not None:
            interaction.original_message_id = clicked_message_id
            interaction.message_ids.add(clicked_message_id)
            if callback_type == UPDATE_MESSAGE:
                return await self._message_events.edit(clicked_message_id, data, files)
            return self._state.messages.find(clicked_message_id)
        if callback_type in (APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, MODAL):
            return None
        raise DiscordError(HTTPStatus.BAD_REQUEST, f"Invalid Form Body (callback type {callback_type} here)", 50035)

    async def _create_interaction_message(
        self, interaction: InteractionState, data: Payload, files: list[UploadedFile]
    ) -> Payload:
        """A response or followup: sent by the application's webhook, carrying interaction_metadata."""
        sent, application_id = interaction.sent, str(self._state.application_id)
        metadata: Payload = {
            "id": str(sent.id),
            "type": sent.type,
            "user": interaction.invoker,
            "authorizing_integration_owners": {"0": str(sent.guild_id)},
        }
        if interaction.command_name is not None:
            metadata |= {"name": interaction.command_name, "command_type": 1}
        if sent.message_id is not None:
            metadata["interacted_message_id"] = str(sent.message_id)
        if interaction.original_message_id is not None:
            metadata["original_response_message_id"] = str(interaction.original_message_id)
        message = await self._message_events.create(
            sent.channel_id,
            data,
            files,
            message_type=CHAT_INPUT_COMMAND_MESSAGE if interaction.command_name is not None else DEFAULT_MESSAGE,
            extra={"webhook_id": application_id, "application_id": application_id, "interaction_metadata": metadata},
        )
        interaction.message_ids.add(int(message["id"]))
        return message

    # ---------------------------------------------------------------- webhooks

    def _webhook_interaction(self, request: web.Request) -> InteractionState:
        """The interaction whose token a /webhooks/{application}/{token} request uses, if usable."""
        interaction = self._state.interactions_by_token.get(request.match_info["webhook_token"])
        wrong_application = int(request.match_info["webhook_id"]) != self._state.application_id
        if interaction is None or interaction.acknowledged_with is None or wrong_application:
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Webhook", 10015)
        if time.monotonic() - interaction.sent.dispatched_at > self._state.interaction_token_lifetime:
            raise DiscordError(HTTPStatus.UNAUTHORIZED, "Invalid Webhook Token", 50027)
        return interaction

    def _webhook_message_id(self, request: web.Request) -> int:
        interaction = self._webhook_interaction(request)
        raw_id = request.match_info["message_id"]
        message_id = interaction.original_message_id if raw_id == "@original" else int(raw_id)
        if message_id is None or message_id not in interaction.message_ids:
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Message", 10008)
        return message_id

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        interaction, body = self._webhook_interaction(request), body_of(request)
        message = await self._create_interaction_message(interaction, body.json or {}, body.files)
        return json_response(message) if query_flag(request, "wait") else no_content()

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        return json_response(self._state.messages.get(self._webhook_message_id(request)))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        message_id, body = self._webhook_message_id(request), body_of(request)
        return json_response(await self._message_events.edit(message_id, body.json or {}, body.files))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        await self._message_events.delete(self._webhook_message_id(request))
        return no_content()
