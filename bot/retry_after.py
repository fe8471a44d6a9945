"""``Retry-After`` (RFC 9110, section 10.2.3) as seconds to wait: the one parser every adapter uses.

The header is either a number of seconds or an HTTP date; servers send both (Slack and Meta
seconds, proxies and case systems often a date). Anything else, negative numbers included,
counts as absent, so the caller falls back to its own backoff instead of trusting nonsense.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from ``now`` (default: the current time) until a retry is allowed; 0 for a
    date in the past; None when the header is missing or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
