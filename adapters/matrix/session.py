"""Log in once, then reuse the device: building a ready nio ``AsyncClient`` from config.

Order of preference: the configured access token, then the token saved by an earlier
password login, then one password login (whose token and device id are saved). The device id
stays the same across restarts because the E2EE store and Synapse's transaction-id dedupe are
both bound to it.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import ClientResponse
from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    Response,
    RoomSendResponse,
    WhoamiResponse,
)

from adapters.matrix import errors
from adapters.matrix.state import StateFile
from bot.config import MatrixSection
from bot.errors import PlatformError
from bot.private_files import tighten_tree

log = logging.getLogger("empfang.matrix")

REQUEST_TIMEOUT = 30.0
"""Seconds a single request may take (the long-poll sync gets its own, longer budget)."""

DEVICE_NAME = "Empfang"


class RelayClient(AsyncClient):  # type: ignore[misc]  # nio ships no type hints
    """nio's client, reading a successful send's ``event_id`` without nio's schema check.

    Every relayed line is a ``room_send``, and nio checks each answer against a JSON schema
    (building a new jsonschema validator per call) only to read one string from it. A 200
    whose ``event_id`` is a string is answered here; anything else (an error status, a body
    without an event id) goes through nio as before, so error responses and their mapping
    in ``errors`` do not change.
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
    ``retry_after_ms`` and connection errors get one quick retry (a stale keep-alive connection
    after a homeserver restart), then raise.
    """
    pickle_key = section.pickle_key.get_secret_value()
    if section.encryption and not pickle_key:
        raise PlatformError(
            "matrix.pickle_key is required when matrix.encryption = true", retryable=False
        )
    return AsyncClientConfig(
        store_sync_tokens=True,
        encryption_enabled=section.encryption,
        pickle_key=pickle_key or "empfang-unencrypted-store",
        max_limit_exceeded=0,
        max_timeouts=1,
        request_timeout=REQUEST_TIMEOUT,
    )


async def _whoami(client: AsyncClient, token: str) -> WhoamiResponse | None:
    """Validate a token; None when the homeserver says it is no longer valid."""
    client.access_token = token
    response = await client.whoami()
    client.access_token = ""
    if isinstance(response, WhoamiResponse):
        return response
    if errors.errcode(response) in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
        return None
    raise errors.from_response("whoami", response)


def _restore(client: AsyncClient, user_id: str, device_id: str, token: str) -> None:
    try:
        client.restore_login(user_id, device_id, token)
    except Exception as exc:  # vodozemac/peewee: wrong pickle key, unreadable store
        raise PlatformError(
            f"Matrix crypto store under matrix.store_path cannot be opened "
            f"({type(exc).__name__}); check matrix.pickle_key",
            retryable=False,
        ) from exc


async def _password_login(client: AsyncClient, section: MatrixSection, device_id: str) -> None:
    password = section.password.get_secret_value()
    if not password:
        raise PlatformError(
            "Matrix access token rejected and no matrix.password to log in again", retryable=False
        )
    client.device_id = device_id
    await errors.request("login", client.login(password, device_name=DEVICE_NAME), LoginResponse)


async def open_client(section: MatrixSection, state_file: StateFile) -> AsyncClient:
    """A logged-in client with its store loaded and (for E2EE) its keys uploaded.

    Raises ``PlatformError``: retryable when the homeserver is unreachable, not retryable when
    the credentials or the store are wrong (an admin has to act).
    """
    state_file.ensure_directory()
    state = state_file.load()
    if (state.homeserver, state.user_id) != (section.homeserver, section.user_id):
        # Another account or server: its token, device and sync position mean nothing here.
        state = state_file.update(
            homeserver=section.homeserver,
            user_id=section.user_id,
            device_id="",
            access_token="",
            next_batch="",
        )
    client = RelayClient(
        section.homeserver,
        section.user_id,
        device_id=state.device_id or section.device_id,
        store_path=str(section.store_path),
        config=client_config(section),
    )
    try:
        await _log_in(client, section, state_file)
        await _upload_keys(client)
    except BaseException:
        await client.close()
        raise
    # nio creates its E2EE store with the umask's mode; the keys in it are for the bot alone.
    tighten_tree(section.store_path)
    return client


async def _log_in(client: AsyncClient, section: MatrixSection, state_file: StateFile) -> None:
    state = state_file.state
    configured = section.access_token.get_secret_value()
    for token, saved in ((configured, False), (state.access_token, True)):
        if not token:
            continue
        try:
            who = await _whoami(client, token)
        except PlatformError:
            raise
        except Exception as exc:
            raise errors.from_exception("whoami", exc) from exc
        if who is None:
            log.warning("matrix: %s access token rejected", "saved" if saved else "configured")
            continue
        if who.user_id != section.user_id:
            raise PlatformError(
                f"matrix.access_token belongs to {who.user_id}, not matrix.user_id "
                f"{section.user_id}",
                retryable=False,
            )
        device_id = who.device_id or state.device_id or section.device_id
        _restore(client, section.user_id, device_id, token)
        log.info("matrix: logged in as %s (device %s)", section.user_id, device_id)
        return
    await _password_login(client, section, state.device_id or section.device_id)
    state_file.update(access_token=client.access_token, device_id=client.device_id)
    log.info("matrix: password login as %s (device %s)", section.user_id, client.device_id)


async def _upload_keys(client: AsyncClient) -> None:
    if not client.should_upload_keys:
        return
    try:
        response = await client.keys_upload()
    except Exception as exc:
        raise errors.from_exception("keys upload", exc) from exc
    if errors.is_error(response):
        failure = errors.from_response("keys upload", response)
        if not failure.retryable:
            raise PlatformError(
                f"{failure} — the device {client.device_id} already has other keys on the "
                "server (was the store under matrix.store_path lost?); set a new "
                "matrix.device_id or delete the device",
                retryable=False,
            ) from None
        raise failure
