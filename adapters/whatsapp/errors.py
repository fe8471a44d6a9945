"""Graph API error bodies → ``bot.errors``; the worker's retry decision depends on this."""

from __future__ import annotations

from typing import Any

import httpx

from bot import retry_after
from bot.errors import (
    ProviderError,
    RateLimited,
    TokenInvalid,
    Undeliverable,
    WindowClosed,
)

_RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
_TOKEN_CODES = {0, 190}
_RETRYABLE_CODES = {1, 2, 131000, 131016, 131057}
# Pair rate limit: Meta recommends 4^X seconds; start with a pause worth waiting for.
_PAIR_LIMIT_SECONDS = 16.0


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
    if code in _TOKEN_CODES or response.status_code == 401:
        return TokenInvalid(message, code=code)
    if code in _RATE_LIMIT_CODES or response.status_code == 429:
        wait = retry_after.seconds(response.headers.get("Retry-After"))
        if wait is None and code == 131056:
            wait = _PAIR_LIMIT_SECONDS
        return RateLimited(message, code=code, retry_after=wait)
    if code == 131047:
        return WindowClosed(message, code=code)
    if code == 131026:
        return Undeliverable(message, code=code)
    retryable = response.status_code >= 500 or code in _RETRYABLE_CODES
    return ProviderError(message, code=code, retryable=retryable)
