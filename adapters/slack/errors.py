"""slack_sdk / aiohttp failures → ``bot.errors.PlatformError``; the job worker decides from it.

slack_sdk raises ``SlackApiError`` both for HTTP 429 (``Retry-After`` in the headers) and
for HTTP 200 ``{"ok": false, "error": …}``; transport problems escape as aiohttp or asyncio
exceptions. Every shape is translated here so no library exception leaves a port method.
Messages name the method and Slack's error code only, never the content that was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import OUTAGE_STATUSES, PlatformError
from bot.retry_after import seconds

# Error codes another attempt cannot fix: an admin must act (token, scopes, membership) or
# the request itself is wrong. Anything not listed is retried with backoff.
PERMANENT_CODES = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "restricted_action_thread_locked",
        "cannot_reply_to_message",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "msg_too_long",
        "msg_blocks_too_long",
        "too_many_attachments",
        "markdown_text_conflict",
        "cant_update_message",
        "cant_delete_message",
        "compliance_exports_prevent_deletion",
        "edit_window_closed",
        "message_not_found",
        "invalid_name",
        "too_many_reactions",
        "thread_not_found",
        "user_not_found",
        "invalid_arguments",
    }
)
RATE_LIMIT_CODES = frozenset({"ratelimited", "rate_limited"})
DEFAULT_RETRY_AFTER = 1.0
"""Seconds to wait after a rate-limit answer that names no ``Retry-After``."""

TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    TimeoutError,
    ConnectionError,
)


SLACK_ERRORS: tuple[type[Exception], ...] = (SlackClientError, *TRANSPORT_ERRORS)
"""What a Web API call may raise: slack_sdk's errors and transport failures."""


def error_code(exc: SlackApiError) -> str:
    """Slack's ``error`` field, or ``http_<status>`` when the body carried none."""
    response: Any = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return f"http_{getattr(response, 'status_code', '?')}"


def retry_after(exc: SlackApiError) -> float | None:
    """``Retry-After`` of a 429 answer (slack_sdk keeps header names as sent and may hold
    a value as a one-element list)."""
    headers = getattr(exc.response, "headers", None) or {}
    value = None
    for name, raw in dict(headers).items():
        if str(name).lower() == "retry-after":
            value = raw[0] if isinstance(raw, list) and raw else raw
    return seconds(str(value)) if value is not None else None


def is_rate_limit(exc: SlackApiError) -> bool:
    return getattr(exc.response, "status_code", None) == 429 or error_code(exc) in RATE_LIMIT_CODES


def from_api_error(method: str, exc: SlackApiError) -> PlatformError:
    code = error_code(exc)
    status = getattr(exc.response, "status_code", None)
    message = f"Slack {method} failed: {code}"
    if is_rate_limit(exc):
        wait = retry_after(exc)
        return PlatformError(
            message,
            retryable=True,
            retry_after=wait if wait is not None else DEFAULT_RETRY_AFTER,
            code="ratelimited",
        )
    if isinstance(status, int) and status >= 500:
        return PlatformError(message, retryable=True, code=code, outage=status in OUTAGE_STATUSES)
    return PlatformError(message, retryable=code not in PERMANENT_CODES, code=code)


def from_exception(method: str, exc: Exception) -> PlatformError:
    """Translate anything a Web API call raised; transport failures are retryable."""
    if isinstance(exc, SlackApiError):
        return from_api_error(method, exc)
    name = type(exc).__name__
    if isinstance(exc, TRANSPORT_ERRORS):
        return PlatformError(
            f"Slack {method} failed: Slack unreachable ({name})", code=name, outage=True
        )
    if isinstance(exc, SlackClientError):
        return PlatformError(f"Slack {method} failed: {name}", code=name)
    return PlatformError(f"Slack {method} failed: unexpected {name}", code=name)


@contextlib.contextmanager
def translated(method: str) -> Iterator[None]:
    """Around a Web API call: whatever slack_sdk or the transport raises leaves as the
    ``PlatformError`` of :func:`from_exception`."""
    try:
        yield
    except SLACK_ERRORS as exc:
        raise from_exception(method, exc) from exc


def outcome_unknown(exc: Exception) -> bool:
    """True when a failed call may still have taken effect (timeout, dropped connection,
    5xx): a retried post must then look for the earlier one before posting again. An
    ``ok: false`` answer or a 429 means Slack did nothing."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", None)
        return isinstance(status, int) and status >= 500
    return True
