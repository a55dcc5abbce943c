"""The gateway side of one websocket: opcodes, sequence numbers, and ordered sends."""

from __future__ import annotations

import asyncio
import enum
import json
import time
from typing import Any

from aiohttp import web

HEARTBEAT_INTERVAL_MS = 41_250
AUTHENTICATION_FAILED = 4004
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_MESSAGES_INTENT = 1 << 9


class Op(enum.IntEnum):
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class GatewayConnection:
    """One client websocket. Sends are serialised so sequence numbers arrive in order."""

    def __init__(self, websocket: web.WebSocketResponse) -> None:
        self.websocket = websocket
        self.session_id: str | None = None  # set by IDENTIFY or RESUME
        self.intents = 0
        self.sequence = 0
        self._send_lock = asyncio.Lock()

    @property
    def identified(self) -> bool:
        return self.session_id is not None and not self.websocket.closed

    def wants(self, intent: int) -> bool:
        return bool(self.intents & intent)

    async def send_op(self, op: Op, data: Any) -> None:
        async with self._send_lock:
            await self.websocket.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    async def dispatch(self, event: str, data: Any) -> float:
        """Send one DISPATCH; returns time.monotonic() taken just before the frame went out."""
        async with self._send_lock:
            self.sequence += 1
            frame = json.dumps({"op": Op.DISPATCH, "d": data, "s": self.sequence, "t": event})
            sent_at = time.monotonic()
            await self.websocket.send_str(frame)
            return sent_at

    async def close(self, code: int, message: str) -> None:
        async with self._send_lock:
            await self.websocket.close(code=code, message=message.encode())
