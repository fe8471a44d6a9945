"""Slack HTTP mode: what anyone can send is refused with 401 and never logged beyond its size."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from tests.slack.stack import SlackStack

MARKER = "FORGED-CONTENT-7Q"


@pytest.mark.parametrize("mode", ["http"])
@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "²", "-1", "9" * 40])
async def test_a_timestamp_that_is_not_unix_seconds_is_401(
    stack: SlackStack, timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 4: ``abc`` was a 500 with a traceback, for anyone."""
    assert stack.bot is not None
    headers = {
        b"X-Slack-Request-Timestamp": timestamp.encode(),
        b"X-Slack-Signature": b"v0=" + b"0" * 64,
    }
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{stack.bot.url}/slack/events", content=b"{}", headers=headers)
        alive = await client.get(f"{stack.bot.url}/healthz")
    assert answer.status_code == 401
    assert alive.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("mode", ["http"])
async def test_an_unverified_body_is_logged_by_its_size_only(
    stack: SlackStack, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 9: a forged request's whole body was logged at INFO (900 KB for one)."""
    assert stack.bot is not None
    caplog.set_level(logging.DEBUG)
    body = ('{"type":"event_callback","text":"' + MARKER * 5000 + '"}').encode()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{stack.bot.url}/slack/events", content=body, headers=headers)
    assert answer.status_code == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert MARKER not in logged
    assert f"no valid signature ({len(body)} bytes)" in logged
