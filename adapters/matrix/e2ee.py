"""End-to-end encryption (``matrix.encryption = true``): the calls that need the crypto go
through matrix-nio, the rest stay on the plain client (``adapters.matrix.api``).

Only this module imports nio, and only ``adapters.matrix.session`` imports this module, when
encryption is configured: an unencrypted bot never loads nio (issue 16, idle memory).

nio keeps the device's Olm account and Megolm sessions in its store under
``matrix.store_path`` and must see every sync answer (to-device key shares, device lists),
so syncs, sends (encrypted for the room's members), uploads (encrypted before they leave)
and history pages (decrypted) are nio's. Their answers are handed on as the homeserver's
JSON (nio keeps each event's ``source``; a decrypted event's source is its cleartext), so
the sync loop and everything after it handle one shape whether encryption is on or not. An
event nio could not decrypt stays ``m.room.encrypted``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from aiohttp import ClientResponse
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    Response,
    RoomMessagesResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)
from nio.exceptions import (
    EncryptionError,
    GroupEncryptionError,
    LocalProtocolError,
    LocalTransportError,
    OlmTrustError,
    RemoteTransportError,
    SendRetryError,
)

from adapters.matrix import errors
from adapters.matrix.api import REQUEST_TIMEOUT, Event, MatrixApi
from bot.config import MatrixSection
from bot.errors import PlatformError
from bot.ports import ChatFile
from bot.private_files import tighten_tree

R = TypeVar("R")

EXCEPTIONS: errors.Kinds = (
    (
        (*errors.TRANSPORT_ERRORS, LocalTransportError, RemoteTransportError),
        errors.UNREACHABLE,
        True,
    ),
    (
        (SendRetryError, EncryptionError, GroupEncryptionError, OlmTrustError),
        "encryption not ready",
        True,
    ),
    ((LocalProtocolError,), "client misused or misconfigured", False),
)
"""nio's exceptions beside aiohttp's: E2EE hiccups (a key share that did not finish) pass;
a ``LocalProtocolError`` (unknown room, not logged in) stays whatever is repeated."""


def from_exception(action: str, exc: Exception) -> PlatformError:
    return errors.from_exception(action, exc, EXCEPTIONS)


def from_response(action: str, response: Any) -> PlatformError:
    """Translate nio's ``ErrorResponse`` (nio names the errcode ``status_code``)."""
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None)
    code = getattr(response, "status_code", None)
    return errors.from_error(
        action,
        status=status if isinstance(status, int) else None,
        code=code if isinstance(code, str) else None,
        reason=str(getattr(response, "message", "") or ""),
        retry_after_ms=getattr(response, "retry_after_ms", None),
    )


async def request(action: str, call: Awaitable[Any], expected: type[R]) -> R:
    """Await a nio call that answers ``expected`` on success: the one place where its
    exceptions and its error responses become ``PlatformError``."""
    try:
        response = await call
    except PlatformError:
        raise
    except Exception as exc:
        raise from_exception(action, exc) from exc
    if not isinstance(response, expected):
        raise from_response(action, response)
    return response


class RelayClient(AsyncClient):  # type: ignore[misc]  # nio ships no type hints
    """nio's client, reading a successful send's ``event_id`` without nio's schema check.

    nio checks each answer against a JSON schema (building a new jsonschema validator per
    call) only to read one string from it. A 200 whose ``event_id`` is a string is answered
    here; anything else goes through nio as before, so error answers map as they did.
    """

    async def create_matrix_response(
        self,
        response_class: type,
        transport_response: ClientResponse,
        data: tuple[Any, ...] | None = None,
        save_to: Any = None,
    ) -> Response:
        if response_class is RoomSendResponse and transport_response.status == 200 and data:
            body = await self.parse_body(transport_response)
            event_id = body.get("event_id")
            if isinstance(event_id, str) and event_id:
                return RoomSendResponse(event_id, data[0])
        return await super().create_matrix_response(
            response_class, transport_response, data, save_to
        )


def client_config(section: MatrixSection) -> AsyncClientConfig:
    """nio settings that make failures surface to the job worker instead of hiding in nio.

    nio's defaults retry 429s and connection errors forever inside the call (a send would hang
    for as long as the homeserver is down); here a 429 comes back at once with its
    ``retry_after_ms`` and connection errors get one quick retry, then raise.
    """
    pickle_key = section.pickle_key.get_secret_value()
    if not pickle_key:
        raise PlatformError(
            "matrix.pickle_key is required when matrix.encryption = true", retryable=False
        )
    return AsyncClientConfig(
        store_sync_tokens=True,
        encryption_enabled=True,
        pickle_key=pickle_key,
        max_limit_exceeded=0,
        max_timeouts=1,
        request_timeout=REQUEST_TIMEOUT,
    )


def _sources(events: Any) -> list[Event]:
    return [event.source for event in events if isinstance(getattr(event, "source", None), dict)]


def sync_answer(response: SyncResponse) -> Event:
    """nio's parsed sync answer back in the homeserver's shape, as far as the loop reads it."""
    join: dict[str, Event] = {}
    for room_id, info in response.rooms.join.items():
        timeline = info.timeline
        join[room_id] = {
            "timeline": {
                "events": _sources(timeline.events),
                "limited": bool(timeline.limited),
                "prev_batch": timeline.prev_batch,
            },
            "state": {"events": _sources(info.state)},
        }
    leave: dict[str, Event] = {room_id: {} for room_id in response.rooms.leave}
    return {"next_batch": response.next_batch, "rooms": {"join": join, "leave": leave}}


class EncryptedApi(MatrixApi):
    """The plain client, with sync, send, upload and history through nio's crypto."""

    def __init__(self, section: MatrixSection, *, device_id: str, access_token: str) -> None:
        super().__init__(
            section.homeserver, section.user_id, device_id=device_id, access_token=access_token
        )
        self._section = section
        self.nio = RelayClient(
            section.homeserver,
            section.user_id,
            device_id=device_id,
            store_path=str(section.store_path),
            config=client_config(section),
        )

    async def start(self) -> None:
        """Open the crypto store for the logged-in device and upload its keys if new."""
        try:
            self.nio.restore_login(self.user_id, self.device_id, self.access_token)
        except Exception as exc:  # vodozemac/peewee: wrong pickle key, unreadable store
            raise PlatformError(
                f"Matrix crypto store under matrix.store_path cannot be opened "
                f"({type(exc).__name__}); check matrix.pickle_key",
                retryable=False,
            ) from exc
        # nio creates its store with the umask's mode; the keys in it are for the bot alone.
        tighten_tree(self._section.store_path)
        if not self.nio.should_upload_keys:
            return
        try:
            response = await self.nio.keys_upload()
        except Exception as exc:
            raise from_exception("keys upload", exc) from exc
        if isinstance(response, ErrorResponse):
            failure = from_response("keys upload", response)
            if not failure.retryable:
                raise PlatformError(
                    f"{failure} — the device {self.device_id} already has other keys on the "
                    "server (was the store under matrix.store_path lost?); set a new "
                    "matrix.device_id or delete the device",
                    retryable=False,
                ) from None
            raise failure

    async def close(self) -> None:
        await self.nio.close()
        await super().close()

    def room_encrypted(self, room_id: str) -> bool:
        room = self.nio.rooms.get(room_id)
        return bool(room.encrypted) if room is not None else True

    async def sync(
        self, *, since: str | None, timeout_ms: int, sync_filter: Event, full_state: bool
    ) -> Event:
        """nio's sync (it keeps the crypto state from every answer). ``full_state`` on a
        process's first sync rebuilds nio's room state (members, encryption), which nio
        does not persist."""
        call = self.nio.sync(
            timeout=timeout_ms,
            sync_filter=sync_filter,
            since=since,
            full_state=True if full_state else None,
        )
        return sync_answer(await request("sync", call, SyncResponse))

    async def send(
        self, action: str, room_id: str, event_type: str, content: Event, txn: str
    ) -> str:
        """Encrypted in an encrypted room (for every member's device, verified or not)."""
        call = self.nio.room_send(
            room_id, event_type, content, tx_id=txn, ignore_unverified_devices=True
        )
        return str((await request(action, call, RoomSendResponse)).event_id)

    async def upload(self, file: ChatFile, room_id: str) -> tuple[str, Event | None]:
        """AES-256-CTR before it leaves, in an encrypted room (nio reads the file in chunks):
        the event then carries the keys, not a plain ``url``."""
        with file.path.open("rb") as data:
            call = self.nio.upload(
                data,
                content_type=file.mime_type,
                filename=file.name,
                encrypt=self.room_encrypted(room_id),
                filesize=file.size,
            )
            response, keys = await request("upload file", _pair(call), tuple)
        if not isinstance(response, UploadResponse):
            raise from_response("upload file", response)
        return str(response.content_uri), keys or None

    async def messages(
        self,
        room_id: str,
        *,
        start: str | None,
        end: str | None = None,
        limit: int = 100,
        event_filter: Event | None = None,
    ) -> tuple[list[Event], str | None]:
        """A history page, decrypted where the device holds the session's key."""
        call = self.nio.room_messages(
            room_id, start=start, end=end, limit=limit, message_filter=event_filter
        )
        page = await request("read room", call, RoomMessagesResponse)
        return _sources(page.chunk), page.end or None

    async def housekeeping(self) -> None:
        """What ``sync_forever`` does between syncs: key shares, uploads, queries, claims.
        Failures raise; the loop logs them and tries again after the next sync."""
        client = self.nio
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())


async def _pair(call: Awaitable[Any]) -> tuple[Any, ...]:
    """nio's upload answers ``(response, keys)``; a tuple either way."""
    answer = await call
    return tuple(answer) if isinstance(answer, tuple) else (answer, None)
