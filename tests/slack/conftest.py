"""Fixtures: a running bot on the fake Slack, once per mode (Socket Mode and HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.slack import pacing
from tests.fakes.slack import FakeSlack
from tests.slack.stack import Mode, SlackStack

FAST_INTERVAL = 0.05
"""Tests run Slack's clock 20× faster: 20 posts/s per channel, the bot paced to match."""

StartStack = Callable[..., Awaitable[SlackStack]]


@pytest.fixture(params=["socket", "http"])
def mode(request: pytest.FixtureRequest) -> Mode:
    value: Mode = request.param
    return value


@pytest.fixture
def fast_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "POST_INTERVAL_SECONDS", FAST_INTERVAL)


@pytest_asyncio.fixture
async def start_stack(tmp_path: Path) -> AsyncIterator[StartStack]:
    """Start a stack: ``await start_stack(mode, fake=FakeSlack(...), jobs={...})``."""
    stacks: list[SlackStack] = []

    async def start(mode: Mode, *, fake: FakeSlack | None = None, **sections: Any) -> SlackStack:
        fake = fake or FakeSlack(mode=mode, rate=1 / FAST_INTERVAL, ack_timeout=1.0)
        stack = SlackStack(mode, tmp_path / f"empfang-{len(stacks)}.sqlite3", fake, **sections)
        stacks.append(stack)
        return await stack.start()

    yield start
    for stack in stacks:
        await stack.stop()


@pytest_asyncio.fixture
async def stack(mode: Mode, fast_slack: None, start_stack: StartStack) -> SlackStack:
    return await start_stack(mode)
