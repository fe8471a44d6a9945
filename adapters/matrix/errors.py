"""nio failures → ``bot.errors.PlatformError``; the job worker decides retries from this alone.

nio reports homeserver errors as ``ErrorResponse`` objects instead of raising, and lets
transport errors (aiohttp, timeouts) and its own ``LocalProtocolError`` family escape. Both
shapes are translated here so no library exception leaves a port method.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from nio import ErrorResponse
from nio.exceptions import (
    EncryptionError,
    GroupEncryptionError,
    LocalProtocolError,
    LocalTransportError,
    OlmTrustError,
    RemoteTransportError,
    SendRetryError,
)

from bot.errors import PlatformError

# Errors a later attempt cannot fix: the bot lacks the right, the room or the login is gone.
_PERMANENT_CODES = frozenset(
    {
        "M_FORBIDDEN",
        "M_NOT_FOUND",
        "M_UNKNOWN_TOKEN",
        "M_MISSING_TOKEN",
        "M_USER_DEACTIVATED",
        "M_BAD_JSON",
        "M_NOT_JSON",
        "M_TOO_LARGE",
        "M_DUPLICATE_ANNOTATION",
        "M_INVALID_PARAM",
        "M_UNKNOWN",
        "M_UNRECOGNIZED",
    }
)


def http_status(response: Any) -> int | None:
    """The HTTP status behind a nio response, if nio kept the transport response."""
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None)
    return status if isinstance(status, int) else None


def errcode(response: Any) -> str | None:
    """The Matrix ``errcode`` (nio calls it ``status_code``)."""
    code = getattr(response, "status_code", None)
    return code if isinstance(code, str) else None


def is_error(response: Any) -> bool:
    return isinstance(response, ErrorResponse)


def from_response(action: str, response: Any) -> PlatformError:
    """Translate an ``ErrorResponse``; ``action`` names what was tried, never any content."""
    code = errcode(response)
    status = http_status(response)
    text = str(getattr(response, "message", "") or "")[:200]
    message = f"Matrix {action} failed: {code or 'no errcode'} (HTTP {status or '?'}) {text}"
    if code == "M_LIMIT_EXCEEDED" or status == 429:
        retry_ms = getattr(response, "retry_after_ms", None)
        wait = retry_ms / 1000 if isinstance(retry_ms, int | float) and retry_ms > 0 else None
        return PlatformError(message.strip(), retryable=True, retry_after=wait, code=code)
    if status is not None and status >= 500:
        return PlatformError(message.strip(), retryable=True, code=code or status)
    if code in _PERMANENT_CODES or (status is not None and 400 <= status < 500):
        return PlatformError(message.strip(), retryable=False, code=code or status)
    # No status and no known code: nio could not parse the body (proxy error page, truncated
    # response). Another attempt may well succeed.
    return PlatformError(message.strip(), retryable=True, code=code)


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    TimeoutError,
    ConnectionError,
    LocalTransportError,
    RemoteTransportError,
)


def from_exception(action: str, exc: Exception) -> PlatformError:
    """Translate anything nio, aiohttp or vodozemac raised.

    Transport problems and E2EE hiccups (a key share that did not finish) are retryable; a
    ``LocalProtocolError`` means the client is misused or misconfigured (unknown room, not
    logged in) and repeating the call changes nothing.
    """
    name = type(exc).__name__
    if isinstance(exc, TRANSPORT_ERRORS):
        return PlatformError(f"Matrix {action} failed: homeserver unreachable ({name})")
    if isinstance(exc, SendRetryError | EncryptionError | GroupEncryptionError | OlmTrustError):
        return PlatformError(f"Matrix {action} failed: encryption not ready ({name})")
    if isinstance(exc, LocalProtocolError):
        return PlatformError(f"Matrix {action} failed: {name}: {exc}", retryable=False)
    return PlatformError(f"Matrix {action} failed: unexpected {name}")
