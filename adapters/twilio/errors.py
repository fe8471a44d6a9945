"""Twilio REST errors → ``bot.errors``; the job worker's retry decision depends on this.

Twilio answers ``{"code": 63016, "message": "…", "more_info": "…", "status": 400}``. The code
decides, as on the Cloud path; the HTTP status only where the code is not a known one.
The same codes arrive later in status callbacks (``ErrorCode``), where ``bot.explain`` words
them for the agent.
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.whatsapp.errors import classified
from bot.errors import (
    ProviderError,
    RateLimited,
    TokenInvalid,
    Undeliverable,
    WindowClosed,
)
from bot.logfilter import mask_log_text

WINDOW_CLOSED = 63016
"""Free-form message outside the 24-hour window: only templates (``ContentSid``) may go."""
BY_CODE: dict[int, type[ProviderError]] = {
    20003: TokenInvalid,  # authentication failed (wrong Account SID or Auth Token)
    20005: TokenInvalid,  # account not active
    20429: RateLimited,  # too many requests
    63018: RateLimited,  # rate limit exceeded for the channel
    WINDOW_CLOSED: WindowClosed,
    63003: Undeliverable,  # channel could not find the To address
    63024: Undeliverable,  # invalid message recipient
    21211: Undeliverable,  # invalid 'To' phone number
    21614: Undeliverable,  # 'To' is not a valid mobile number
}


def error_from_response(response: httpx.Response) -> ProviderError:
    """Map a non-2xx answer of Twilio's REST API. Its message is informative only."""
    body = _json(response)
    raw_code = body.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    # Twilio quotes the recipient in some messages (21211): masked like a log line.
    title = mask_log_text(str(body.get("message") or f"HTTP {response.status_code}")[:200])
    message = f"Twilio API error {code if code is not None else response.status_code}: {title}"
    return classified(response, code, message, BY_CODE)


def _json(response: httpx.Response) -> dict[str, Any]:
    """The error body, or nothing (a proxy's HTML page, an empty 503)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
