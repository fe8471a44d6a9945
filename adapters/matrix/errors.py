"""Homeserver failures → ``bot.errors.PlatformError``; the job worker decides retries from
this alone.

Two shapes arrive: an error answer (HTTP status and the Matrix ``errcode``, with
``retry_after_ms`` for rate limits) and an exception on the way there (connection refused,
timeout). Both are translated here so no library exception leaves a port method. The E2EE
client (``adapters.matrix.e2ee``) adds matrix-nio's own exception kinds to the same table.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.errors import OUTAGE_STATUSES, PlatformError

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


def from_error(
    action: str,
    *,
    status: int | None,
    code: str | None,
    reason: str = "",
    retry_after_ms: Any = None,
) -> PlatformError:
    """Translate an error answer; ``action`` names what was tried, never any content.
    ``reason`` is the homeserver's ``error`` text (cut short: it describes the request)."""
    message = (
        f"Matrix {action} failed: {code or 'no errcode'} (HTTP {status or '?'}) {reason[:200]}"
    )
    if code == "M_LIMIT_EXCEEDED" or status == 429:
        ok = isinstance(retry_after_ms, int | float) and retry_after_ms > 0
        wait = retry_after_ms / 1000 if ok else None
        return PlatformError(message.strip(), retryable=True, retry_after=wait, code=code)
    if status is not None and status >= 500:
        outage = status in OUTAGE_STATUSES
        return PlatformError(message.strip(), retryable=True, code=code or status, outage=outage)
    if code in _PERMANENT_CODES or (status is not None and 400 <= status < 500):
        return PlatformError(message.strip(), retryable=False, code=code or status)
    # No status and no known code: an answer that could not be read (proxy error page,
    # truncated body). Another attempt may well succeed.
    return PlatformError(message.strip(), retryable=True, code=code)


def from_answer(action: str, status: int, body: Any) -> PlatformError:
    """An HTTP error answer with its (parsed, perhaps absent) JSON body."""
    fields = body if isinstance(body, dict) else {}
    code = fields.get("errcode")
    reason = fields.get("error")
    return from_error(
        action,
        status=status,
        code=code if isinstance(code, str) else None,
        reason=reason if isinstance(reason, str) else "",
        retry_after_ms=fields.get("retry_after_ms"),
    )


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    TimeoutError,
    ConnectionError,
)

Kinds = tuple[tuple[tuple[type[BaseException], ...], str, bool], ...]

UNREACHABLE = "homeserver unreachable"
"""The meaning that marks an outage: the worker waits it out instead of counting failures."""

EXCEPTIONS: Kinds = ((TRANSPORT_ERRORS, UNREACHABLE, True),)
"""What aiohttp raises → (what it means, retryable). Anything else is unexpected and
retried."""


def from_exception(action: str, exc: Exception, kinds: Kinds = EXCEPTIONS) -> PlatformError:
    """Translate an exception by ``kinds``. Only a permanent failure quotes the exception's
    text (it describes the client's state, e.g. "No such room", and an admin needs it)."""
    name = type(exc).__name__
    for types, meaning, retryable in kinds:
        if isinstance(exc, types):
            reason = f"{name}: {exc}" if not retryable else name
            return PlatformError(
                f"Matrix {action} failed: {meaning} ({reason})",
                retryable=retryable,
                outage=meaning == UNREACHABLE,
            )
    return PlatformError(f"Matrix {action} failed: unexpected {name}")
