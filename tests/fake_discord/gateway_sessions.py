"""The fake's gateway: accepting bot websockets, their sessions, and sending events to them.

gateway.py speaks one websocket's protocol; this module runs the gateway endpoint around it: HELLO on
connect, heartbeats acknowledged, IDENTIFY answered with READY and a GUILD_CREATE per guild, RESUME of
any session identified before, the bot's presences (IDENTIFY's and op 3's) recorded, and DISPATCH of events
to the identified connections whose intents ask for them (at once, or in the background for the synchronous
set-up calls).
"""

from __future__ import annotations

import asyncio
import json
import secrets

from aiohttp import WSMsgType, web

from tests.fake_discord.gateway import AUTHENTICATION_FAILED, HEARTBEAT_INTERVAL_MS, GatewayConnection, Op
from tests.fake_discord.payloads import (
    Payload,
    current_user_payload,
    guild_create_payload,
    ready_payload,
    timestamp_now,
)
from tests.fake_discord.state import FakeState


class GatewaySessions:
    """Every bot connection to the fake gateway, and every session ever identified (for RESUME)."""

    def __init__(self, state: FakeState) -> None:
        self._state = state
        self._connections: set[GatewayConnection] = set()
        self._session_intents: dict[str, int] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Close every connection and cancel the sends still in the background."""
        for connection in list(self._connections):
            await connection.close(code=1001, message="fake Discord stopping")
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # ---------------------------------------------------------------- sending

    def connections_for(self, intent: int | None = None) -> list[GatewayConnection]:
        """Identified bot connections, optionally only those whose intents include `intent`."""
        return [
            connection
            for connection in self._connections
            if connection.identified and (intent is None or connection.wants(intent))
        ]

    async def broadcast(self, event: str, data: Payload, *, intent: int | None = None) -> None:
        for connection in self.connections_for(intent):
            await connection.dispatch(event, data)

    def dispatch_soon(self, event: str, data: Payload, *, intent: int | None = None) -> None:
        """For synchronous set-up calls: send in the background, to connected bots only."""
        if not self.connections_for(intent):
            return
        task = asyncio.get_running_loop().create_task(self.broadcast(event, data, intent=intent))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def dispatch_to_bot(self, event: str, data: Payload) -> float:
        """Send a DISPATCH to the (first) connected bot; returns time.monotonic() just before sending."""
        connections = self.connections_for()
        if not connections:
            raise AssertionError(f"no bot is connected to the fake gateway to receive {event}")
        return await connections[0].dispatch(event, data)

    async def request_reconnect(self) -> None:
        for connection in self.connections_for():
            await connection.send_op(Op.RECONNECT, None)

    # -------------------------------------------------------------- receiving

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        """The gateway endpoint: one websocket, for as long as the bot keeps it open."""
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        connection = GatewayConnection(websocket)
        self._connections.add(connection)
        try:
            hello = {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake-gateway"]}
            await connection.send_op(Op.HELLO, hello)
            async for frame in websocket:
                if frame.type is WSMsgType.TEXT:
                    await self._on_frame(connection, json.loads(frame.data))
        finally:
            self._connections.discard(connection)
        return websocket

    async def _on_frame(self, connection: GatewayConnection, frame: Payload) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == Op.HEARTBEAT:
            await connection.send_op(Op.HEARTBEAT_ACK, None)
        elif op == Op.IDENTIFY:
            await self._identify(connection, data or {})
        elif op == Op.RESUME:
            await self._resume(connection, data or {})
        elif op == Op.PRESENCE_UPDATE:
            await self._state.record_presence(data or {})  # Discord answers none
        # Member requests need no answer: GUILD_CREATE already lists every member.

    async def _identify(self, connection: GatewayConnection, data: Payload) -> None:
        state = self._state
        if data.get("token") != state.token:
            await connection.close(AUTHENTICATION_FAILED, "Authentication failed.")
            return
        connection.session_id = secrets.token_hex(16)
        connection.intents = int(data.get("intents", 0))
        if data.get("presence") is not None:  # the presence a new session starts with
            await state.record_presence(data["presence"])
        self._session_intents[connection.session_id] = connection.intents
        ready = ready_payload(
            session_id=connection.session_id,
            bot_user=current_user_payload(state.bot_user_id, state.bot_name),
            guild_ids=list(state.guilds),
            resume_gateway_url=state.gateway_url,
            shard=data.get("shard", [0, 1]),
            application_id=state.application_id,
        )
        await connection.dispatch("READY", ready)
        for guild in list(state.guilds.values()):
            available = guild_create_payload(guild, joined_at=timestamp_now(), listed_in_ready=True)
            await connection.dispatch("GUILD_CREATE", available)
        state.ready.set()

    async def _resume(self, connection: GatewayConnection, data: Payload) -> None:
        if data.get("token") != self._state.token:
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
