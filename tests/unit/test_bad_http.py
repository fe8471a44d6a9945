"""The kinds a parser refusal is answered and logged by, and the once-a-minute log line.

The answers over real sockets are in ``tests/integration/test_webhook_bad_http.py``.
"""

from __future__ import annotations

import pytest
from aiohttp.http_exceptions import BadHttpMessage, BadStatusLine, LineTooLong

from bot.bad_http import MALFORMED, RefusalLog, fault_kind


def test_a_reason_the_rules_do_not_name_is_a_malformed_request() -> None:
    assert fault_kind(BadHttpMessage("Expected dot:\n\n  b'GET / HTTP/1x'\n  ^")) == MALFORMED


def test_request_bytes_only_choose_among_the_fixed_kinds() -> None:
    """aiohttp's own messages quote the line; whatever it says, the kind is from the list."""
    assert fault_kind(LineTooLong(b"X-Chunk: " + b"4" * 9000, 8190)) == "line too long"
    assert fault_kind(BadStatusLine("GET /header?chunk HTTP/9")) == "invalid request line"


def test_each_kind_is_logged_once_an_interval_with_its_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    log = RefusalLog(clock=lambda: now[0])
    for second in (0.0, 1.0, 59.0, 60.0, 61.0, 119.0):
        now[0] = second
        log.refused(400, "invalid chunked body")
    log.refused(400, "invalid header")
    assert [r.getMessage() for r in caplog.records] == [
        "bad HTTP request refused with 400: invalid chunked body"
        " (1 of this kind so far; logged once a minute per kind)",
        "bad HTTP request refused with 400: invalid chunked body"
        " (4 of this kind so far; logged once a minute per kind)",
        "bad HTTP request refused with 400: invalid header"
        " (1 of this kind so far; logged once a minute per kind)",
    ]
    assert log.counts == {"400 invalid chunked body": 6, "400 invalid header": 1}
