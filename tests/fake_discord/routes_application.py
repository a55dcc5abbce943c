"""REST routes for the bot's own account and application: who it is, where the gateway is, its commands.

GET /users/@me and /oauth2/applications/@me (discord.py's login), GET /gateway and /gateway/bot, and the
global and per-guild application commands, which keep a command's id across syncs that keep its name.
"""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web

from tests.fake_discord.payloads import application_payload, current_user_payload, synced_command_payload, user_payload
from tests.fake_discord.rest import DiscordError, Route, body_of, json_response
from tests.fake_discord.state import FakeState


class ApplicationRoutes:
    """Handlers for the bot's account, the gateway's address and application commands."""

    def __init__(self, state: FakeState) -> None:
        self._state = state

    def routes(self) -> list[Route]:
        return [
            ("GET", "/users/@me", self._get_current_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/applications/{application_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/commands", self._put_commands),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._put_commands),
        ]

    # -------------------------------------------------------------- session

    async def _get_current_user(self, request: web.Request) -> web.Response:
        return json_response(current_user_payload(self._state.bot_user_id, self._state.bot_name))

    async def _get_application(self, request: web.Request) -> web.Response:
        state = self._state
        bot_user = user_payload(state.bot_user_id, state.bot_name, bot=True)
        return json_response(application_payload(state.application_id, bot_user, guild_count=len(state.guilds)))

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self._state.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response({"url": self._state.gateway_url, "shards": 1, "session_start_limit": limit})

    # ------------------------------------------------------------- commands

    def _command_scope(self, request: web.Request) -> int | None:
        """None for global commands, else the guild's id."""
        guild_id = request.match_info.get("guild_id")
        if int(request.match_info["application_id"]) != self._state.application_id or (
            guild_id is not None and int(guild_id) not in self._state.guilds
        ):
            raise DiscordError(HTTPStatus.FORBIDDEN, "Missing Access", 50001)
        return None if guild_id is None else int(guild_id)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self._state.commands_by_scope.get(self._command_scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        state, scope = self._state, self._command_scope(request)
        # A command keeps its id across syncs that keep its name.
        previous_ids = {command["name"]: int(command["id"]) for command in state.commands_by_scope.get(scope, [])}
        commands = [
            synced_command_payload(
                definition,
                command_id=previous_ids.get(definition["name"]) or state.snowflakes.next(),
                application_id=state.application_id,
                guild_id=scope,
            )
            for definition in body_of(request).json or []
        ]
        state.commands_by_scope[scope] = commands
        state.synced_commands = commands
        state.commands_synced.set()
        return json_response(commands)
