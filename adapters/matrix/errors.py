"""nio failures → ``bot.errors.PlatformError``; the job worker decides retries from this alone.

nio reports homeserver errors as ``ErrorResponse`` objects instead of raising, and lets
transport errors (aiohttp, timeouts) and its own ``LocalProtocolError`` family escape. Both
shapes are translated here so no library exception leaves a port method.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

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

from bot.errors import OUTAGE_STATUSES, PlatformError

R = TypeVar("R")

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
        outage = status in OUTAGE_STATUSES
        return PlatformError(message.strip(), retryable=True, code=code or status, outage=outage)
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


EXCEPTIONS: tuple[tuple[tuple[type[BaseException], ...], str, bool], ...] = (
    (TRANSPORT_ERRORS, "homeserver unreachable", True),
    (
        (SendRetryError, EncryptionError, GroupEncryptionError, OlmTrustError),
        "encryption not ready",
        True,
    ),
    ((LocalProtocolError,), "client misused or misconfigured", False),
)
"""What nio, aiohttp or vodozemac raise → (what it means, retryable). Transport problems and
E2EE hiccups (a key share that did not finish) pass; a ``LocalProtocolError`` (unknown room,
not logged in) stays whatever is repeated. Anything else is unexpected and retried."""


def from_exception(action: str, exc: Exception) -> PlatformError:
    """Translate an exception by ``EXCEPTIONS``. Only a permanent failure quotes nio's reason
    (it describes the client's state, e.g. "No such room", and an admin needs it)."""
    name = type(exc).__name__
    for kinds, meaning, retryable in EXCEPTIONS:
        if isinstance(exc, kinds):
            reason = f"{name}: {exc}" if not retryable else name
            return PlatformError(
                f"Matrix {action} failed: {meaning} ({reason})",
                retryable=retryable,
                outage=kinds is TRANSPORT_ERRORS,
            )
    return PlatformError(f"Matrix {action} failed: unexpected {name}")


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
