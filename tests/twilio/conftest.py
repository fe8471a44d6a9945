"""A running bot with Twilio as provider and Slack as chat, per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.fakes.slack import FakeSlack
from tests.fakes.twilio import FakeTwilio
from tests.slack.conftest import FAST_INTERVAL, fast_slack
from tests.twilio.stack import TwilioStack

__all__ = ["fast_slack"]


@pytest_asyncio.fixture
async def stack(tmp_path: Path, fast_slack: None) -> AsyncIterator[TwilioStack]:
    fake = FakeSlack(mode="socket", rate=1 / FAST_INTERVAL, ack_timeout=1.0)
    running = await TwilioStack(tmp_path / "empfang.sqlite3", fake, FakeTwilio()).start()
    yield running
    await running.stop()
