"""``Retry-After`` means the same in every adapter: seconds or an HTTP date (RFC 9110).

The WhatsApp adapter used to read seconds only, so a date (as proxies send it) made the
job fall back to its own backoff instead of waiting as asked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.cases.http import error_from_response as case_error
from adapters.slack.errors import from_exception as slack_error
from adapters.whatsapp.errors import error_from_response as whatsapp_error
from bot.retry_after import seconds

NOW = datetime(2026, 12, 1, 8, 0, 0, tzinfo=UTC)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (http_date(NOW + timedelta(seconds=90)), 90.0),
        (http_date(NOW - timedelta(minutes=5)), 0.0),
        ("Tue, 01 Dec 2026 08:00:30 +0000", 30.0),
    ],
)
def test_seconds_and_http_dates(value: str, expected: float) -> None:
    assert seconds(value, now=NOW) == expected


@pytest.mark.parametrize(
    "value", [None, "", "soon", "-5", "-0.5", "1e3", "nan", "inf", "0x10", "١٢", "Tue, 99 Foo"]
)
def test_garbage_and_negative_values_count_as_absent(value: str | None) -> None:
    assert seconds(value, now=NOW) is None


def in_a_minute() -> str:
    """A date the adapters compare with the real clock: a minute ahead, give or take."""
    return http_date(datetime.now(UTC) + timedelta(seconds=60))


def test_whatsapp_reads_an_http_date() -> None:
    body = {"error": {"code": 130429, "message": "Rate limit hit"}}
    response = httpx.Response(429, json=body, headers={"Retry-After": in_a_minute()})
    wait = whatsapp_error(response).retry_after
    assert wait is not None and 55 <= wait <= 60


def test_case_systems_read_an_http_date() -> None:
    response = httpx.Response(429, headers={"Retry-After": in_a_minute()})
    wait = case_error(response, "create ticket", None).retry_after
    assert wait is not None and 55 <= wait <= 60


def test_slack_reads_an_http_date() -> None:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": "ratelimited"},
        headers={"retry-after": [in_a_minute()]},
        status_code=429,
    )
    refused = SlackApiError("ratelimited", response)  # type: ignore[no-untyped-call]
    error = slack_error("chat.postMessage", refused)
    assert error.retry_after is not None and 55 <= error.retry_after <= 60
