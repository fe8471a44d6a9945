"""Log in once, then reuse the device: a ready client (``adapters.matrix.api``) from config.

Order of preference: the configured access token, then the token saved by an earlier
password login, then one password login (whose token and device id are saved). The device id
stays the same across restarts because the E2EE store and Synapse's transaction-id dedupe are
both bound to it.

With ``matrix.encryption`` the logged-in device then opens its crypto store
(``adapters.matrix.e2ee``, the only place matrix-nio is imported, loaded here and only then).
"""

from __future__ import annotations

import logging

from adapters.matrix.api import MatrixApi
from adapters.matrix.state import StateFile
from bot.config import MatrixSection
from bot.errors import PlatformError

log = logging.getLogger("empfang.matrix")

DEVICE_NAME = "Empfang"


async def _whoami(api: MatrixApi, token: str) -> dict[str, object] | None:
    """Validate a token; None when the homeserver says it is no longer valid."""
    api.access_token = token
    try:
        return await api.whoami()
    except PlatformError as exc:
        if exc.code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
            return None
        raise
    finally:
        api.access_token = ""


async def _log_in(api: MatrixApi, section: MatrixSection, state_file: StateFile) -> None:
    """Leave ``api`` with a valid token and its device id."""
    state = state_file.state
    configured = section.access_token.get_secret_value()
    for token, saved in ((configured, False), (state.access_token, True)):
        if not token:
            continue
        who = await _whoami(api, token)
        if who is None:
            log.warning("matrix: %s access token rejected", "saved" if saved else "configured")
            continue
        if who.get("user_id") != section.user_id:
            raise PlatformError(
                f"matrix.access_token belongs to {who.get('user_id')}, not matrix.user_id "
                f"{section.user_id}",
                retryable=False,
            )
        device = who.get("device_id")
        api.device_id = (device if isinstance(device, str) else "") or state.device_id
        api.device_id = api.device_id or section.device_id
        api.access_token = token
        log.info("matrix: logged in as %s (device %s)", section.user_id, api.device_id)
        return
    password = section.password.get_secret_value()
    if not password:
        raise PlatformError(
            "Matrix access token rejected and no matrix.password to log in again", retryable=False
        )
    answer = await api.login(
        password, device_id=state.device_id or section.device_id, device_name=DEVICE_NAME
    )
    api.access_token = str(answer.get("access_token") or "")
    api.device_id = str(answer.get("device_id") or "")
    state_file.update(access_token=api.access_token, device_id=api.device_id)
    log.info("matrix: password login as %s (device %s)", section.user_id, api.device_id)


async def open_client(section: MatrixSection, state_file: StateFile) -> MatrixApi:
    """A logged-in client; with E2EE its store loaded and its keys uploaded.

    Raises ``PlatformError``: retryable when the homeserver is unreachable, not retryable when
    the credentials or the store are wrong (an admin has to act).
    """
    if section.encryption and not section.pickle_key.get_secret_value():
        raise PlatformError(
            "matrix.pickle_key is required when matrix.encryption = true", retryable=False
        )
    state_file.ensure_directory()
    state = state_file.load()
    if (state.homeserver, state.user_id) != (section.homeserver, section.user_id):
        # Another account or server: its token, device and sync position mean nothing here.
        state_file.update(
            homeserver=section.homeserver,
            user_id=section.user_id,
            device_id="",
            access_token="",
            next_batch="",
        )
    login = MatrixApi(section.homeserver, section.user_id)
    try:
        await _log_in(login, section, state_file)
    except BaseException:
        await login.close()
        raise
    if not section.encryption:
        return login
    await login.close()
    from adapters.matrix.e2ee import EncryptedApi  # nio only for E2EE (idle memory)

    client = EncryptedApi(section, device_id=login.device_id, access_token=login.access_token)
    try:
        await client.start()
    except BaseException:
        await client.close()
        raise
    return client
