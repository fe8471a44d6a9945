"""Graph API error bodies → ``bot.errors``; the worker's retry decision depends on this."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from bot import retry_after
from bot.errors import (
    OUTAGE_STATUSES,
    ProviderError,
    RateLimited,
    TokenInvalid,
    Undeliverable,
    WindowClosed,
)

BY_CODE: dict[int, type[ProviderError]] = {
    0: TokenInvalid,
    190: TokenInvalid,
    4: RateLimited,
    80007: RateLimited,
    130429: RateLimited,
    131048: RateLimited,
    131056: RateLimited,
    131047: WindowClosed,
    131026: Undeliverable,
}
"""Graph error codes → the exception the job worker acts on. The code decides; the HTTP
status only where Meta sent no known code (``BY_STATUS``)."""
BY_STATUS: dict[int, type[ProviderError]] = {401: TokenInvalid, 429: RateLimited}
RETRYABLE_CODES = frozenset({1, 2, 131000, 131016, 131052, 131057})
"""Codes that are no class of their own but worth another attempt (temporary errors;
131052, Meta failing to fetch a customer's media, may clear up too)."""
_PAIR_LIMIT_SECONDS = 16.0
"""Pair rate limit (131056) without ``Retry-After``: Meta recommends 4^X seconds; start
with a pause worth waiting for."""


def error_from_response(response: httpx.Response) -> ProviderError:
    """Map a non-2xx Graph response. Titles are informative only; codes decide."""
    code: int | None = None
    title = f"HTTP {response.status_code}"
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = error.get("code") if isinstance(error.get("code"), int) else None
        title = str(error.get("message") or title)
    message = f"WhatsApp API error {code if code is not None else response.status_code}: {title}"
    return classified(
        response,
        code,
        message,
        BY_CODE,
        retryable_codes=RETRYABLE_CODES,
        waits={131056: _PAIR_LIMIT_SECONDS},
    )


def classified(
    response: httpx.Response,
    code: int | None,
    message: str,
    by_code: Mapping[int, type[ProviderError]],
    *,
    retryable_codes: frozenset[int] = frozenset(),
    waits: Mapping[int, float] | None = None,
) -> ProviderError:
    """The exception for a provider's error answer (Meta's, Twilio's): the code decides,
    the HTTP status only where the code is not in ``by_code``. ``waits``: how long a rate
    limit of that code waits when the answer names no ``Retry-After``."""
    kind = by_code.get(code) if code is not None else None
    kind = kind or BY_STATUS.get(response.status_code, ProviderError)
    if kind is RateLimited:
        wait = retry_after.seconds(response.headers.get("Retry-After"))
        if wait is None and code is not None and waits:
            wait = waits.get(code)
        return RateLimited(message, code=code, retry_after=wait)
    if kind is ProviderError:
        retryable = response.status_code >= 500 or code in retryable_codes
        outage = response.status_code in OUTAGE_STATUSES
        return ProviderError(message, code=code, retryable=retryable, outage=outage)
    return kind(message, code=code)


@contextmanager
def unreachable_as(what: str) -> Iterator[None]:
    """httpx failing to reach Meta (connection, timeout, protocol) → retryable
    ``ProviderError`` naming ``what`` and the failure's type, never the URL (it may carry
    a media id)."""
    try:
        yield
    except httpx.TransportError as exc:
        raise ProviderError(f"{what}: {type(exc).__name__}", retryable=True, outage=True) from exc
    except httpx.HTTPError as exc:
        raise ProviderError(f"{what}: {type(exc).__name__}", retryable=True) from exc
