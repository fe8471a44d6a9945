"""HTTP calls of the webhook and Zammad sinks, and their mapping into ``CaseSinkError``.

The worker decides retry vs. dead-letter from the error alone, so the rule lives here once:
connection errors, timeouts, 408 and 5xx are retried; 429 is retried after ``Retry-After``;
every other 4xx (authentication, validation, unknown ticket) needs a human and is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from bot import retry_after
from bot.errors import OUTAGE_STATUSES, CaseSinkError

Detail = Callable[[httpx.Response], str | None]


def error_from_response(response: httpx.Response, what: str, detail: str | None) -> CaseSinkError:
    status = response.status_code
    message = f"{what}: HTTP {status}" + (f" ({detail})" if detail else "")
    if status == 429:
        return CaseSinkError(
            message,
            retryable=True,
            retry_after=retry_after.seconds(response.headers.get("Retry-After")),
            code=status,
        )
    retryable = status >= 500 or status == 408
    return CaseSinkError(
        message, retryable=retryable, code=status, outage=status in OUTAGE_STATUSES
    )


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    what: str,
    detail: Detail | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Make the call; any failure leaves as ``CaseSinkError``. ``what`` names the call in
    errors and must not carry personal data."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise CaseSinkError(f"{what}: timed out", retryable=True, outage=True) from exc
    except httpx.TransportError as exc:
        raise CaseSinkError(f"{what}: {type(exc).__name__}", retryable=True, outage=True) from exc
    except httpx.HTTPError as exc:
        raise CaseSinkError(f"{what}: {type(exc).__name__}", retryable=True) from exc
    if response.status_code >= 400:
        raise error_from_response(response, what, detail(response) if detail else None)
    return response
