"""The messages the bot created, kept the way Discord keeps them."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from http import HTTPStatus

from tests.fake_discord.models import FakeGuild, UploadedFile
from tests.fake_discord.payloads import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    Payload,
    SnowflakeGenerator,
    applied_mentions,
    attachment_payload,
    echoed_embeds,
    empty_message_payload,
    numbered_components,
    timestamp_now,
)
from tests.fake_discord.rest import DiscordError

NONCE_WINDOW_SECONDS = 5 * 60  # "the past few minutes", per Discord's docs on enforce_nonce
ATTACHMENT_URL_LIFETIME_SECONDS = 24 * 3600


class MessageStore:
    """Creates, edits and deletes messages with Discord's rules: no empty messages, allowed_mentions
    applied, attachments kept or uploaded by id, uploads over the guild's limit refused, and
    nonces remembered for enforce_nonce. Attachment bytes are kept for the fake CDN."""

    def __init__(self, snowflakes: SnowflakeGenerator, *, author: Payload, cdn_base_url: Callable[[], str]) -> None:
        self._snowflakes = snowflakes
        self._author = author
        self._cdn_base_url = cdn_base_url
        self._messages: dict[int, Payload] = {}
        self._attachment_data: dict[int, bytes] = {}
        self._nonces: dict[str, tuple[int, float]] = {}  # only the bot creates messages: the nonce is the key

    def get(self, message_id: int) -> Payload:
        message = self.find(message_id)
        if message is None:
            raise DiscordError(HTTPStatus.NOT_FOUND, "Unknown Message", 10008)
        return message

    def find(self, message_id: int) -> Payload | None:
        return self._messages.get(message_id)

    def in_channel(self, channel_id: int) -> list[Payload]:
        return [message for message in self._messages.values() if message["channel_id"] == str(channel_id)]

    def adopt(self, message: Payload) -> None:
        """Keep a message the fake did not create (e.g. one a test built), unless already known."""
        self._messages.setdefault(int(message["id"]), message)

    def attachment_data(self, attachment_id: int) -> bytes | None:
        return self._attachment_data.get(attachment_id)

    def recent_with_nonce(self, nonce: str) -> Payload | None:
        earlier = self._nonces.get(nonce)
        if earlier is None or time.monotonic() - earlier[1] >= NONCE_WINDOW_SECONDS:
            return None
        return self._messages.get(earlier[0])

    def create(
        self,
        *,
        guild: FakeGuild,
        channel_id: int,
        body: Payload,
        files: list[UploadedFile],
        message_type: int,
        extra: Payload,
    ) -> Payload:
        flags = int(body.get("flags") or 0)
        if not (flags & LOADING_FLAG or _has_visible_content(body, files)):
            raise DiscordError(HTTPStatus.BAD_REQUEST, "Cannot send an empty message", 50006)
        message = empty_message_payload(
            message_id=self._snowflakes.next(),
            channel_id=channel_id,
            guild_id=guild.id,
            author=self._author,
            message_type=message_type,
        )
        message.update(extra)
        message["flags"] = flags
        message["tts"] = bool(body.get("tts", False))
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
            self._nonces[str(body["nonce"])] = (int(message["id"]), time.monotonic())
        self._apply_body(message, body, files, guild)
        self._messages[int(message["id"])] = message
        return message

    def edit(self, message_id: int, *, guild: FakeGuild, body: Payload, files: list[UploadedFile]) -> Payload:
        message = self.get(message_id)
        # An edit finishes a deferred ("thinking") response; whether it is ephemeral cannot change.
        requested_flags = int(body.get("flags") or 0) if "flags" in body else message["flags"]
        message["flags"] = (message["flags"] & EPHEMERAL_FLAG) | (requested_flags & ~(LOADING_FLAG | EPHEMERAL_FLAG))
        message["edited_timestamp"] = timestamp_now()
        self._apply_body(message, body, files, guild)
        return message

    def delete(self, message_id: int) -> Payload:
        message = self.get(message_id)
        del self._messages[message_id]
        return message

    def _apply_body(self, message: Payload, body: Payload, files: list[UploadedFile], guild: FakeGuild) -> None:
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = echoed_embeds(body["embeds"] or [])
        if "components" in body:
            message["components"] = numbered_components(body["components"] or [])
        if "attachments" in body or files:
            message["attachments"] = self._attachments_after(message, body.get("attachments"), files, guild)
        if "content" in body or "allowed_mentions" in body:
            message.update(applied_mentions(message["content"], body.get("allowed_mentions"), guild))

    def _attachments_after(
        self, message: Payload, requested: list[Payload] | None, files: list[UploadedFile], guild: FakeGuild
    ) -> list[Payload]:
        """Listed attachments are kept (an existing id) or uploaded (id n names files[n]); uploads the
        list leaves out are attached too; with no list at all, existing attachments stay."""
        if any(len(upload.data) > guild.upload_limit_bytes for upload in files):
            raise DiscordError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request entity too large", 40005)
        uploads = {upload.field: upload for upload in files}
        existing = {attachment["id"]: attachment for attachment in message["attachments"]}
        result = list(existing.values()) if requested is None else []
        for entry in requested or []:
            entry_id = str(entry["id"])
            upload = uploads.pop(f"files[{entry_id}]", None)
            if entry_id in existing:
                result.append(existing[entry_id])
            elif upload is not None:
                result.append(self._store_attachment(upload, message, entry.get("filename"), entry.get("description")))
            else:
                problem = f"Invalid Form Body (attachments: no upload {entry_id})"
                raise DiscordError(HTTPStatus.BAD_REQUEST, problem, 50035)
        result.extend(self._store_attachment(upload, message, None, None) for upload in uploads.values())
        return result

    def _store_attachment(
        self, upload: UploadedFile, message: Payload, filename: str | None, description: str | None
    ) -> Payload:
        attachment_id = self._snowflakes.next()
        name = filename or upload.filename
        self._attachment_data[attachment_id] = upload.data
        # Like Discord's CDN: a signed URL with its expiry (ex) and issue time (is) in hex.
        issued = int(time.time())
        url = (
            f"{self._cdn_base_url()}/attachments/{message['channel_id']}/{attachment_id}/{name}"
            f"?ex={issued + ATTACHMENT_URL_LIFETIME_SECONDS:x}&is={issued:x}&hm={secrets.token_hex(32)}&"
        )
        return attachment_payload(
            attachment_id=attachment_id, filename=name, size=len(upload.data), url=url, description=description
        )


def _has_visible_content(body: Payload, files: list[UploadedFile]) -> bool:
    visible_fields = ("content", "embeds", "components", "sticker_ids", "poll", "attachments")
    return bool(files) or any(body.get(name) for name in visible_fields)
