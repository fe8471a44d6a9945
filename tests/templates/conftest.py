"""The whole bot on the fake Slack and the sandbox, with a clock the test moves (the
24-hour window must pass without waiting a day)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.slack import pacing
from bot.app import Empfang
from bot.clock import ManualClock
from bot.domain import SERVICE_WINDOW_SECONDS
from bot.sandbox.core import DEFAULT_WABA_ID
from tests import numbers
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import FAST_INTERVAL
from tests.slack.stack import Mode, SlackStack, wait_for

CUSTOMER = "+" + numbers.CUSTOMER
"""The suite's customer; the session's log scan looks for its digits too."""


class TemplateStack(SlackStack):
    """:class:`SlackStack` whose bot runs on :attr:`clock` (its window, its timers)."""

    def __init__(self, mode: Mode, store: Path, fake: FakeSlack, **sections: Any) -> None:
        whatsapp = {"waba_id": DEFAULT_WABA_ID, **sections.pop("whatsapp", {})}
        super().__init__(mode, store, fake, whatsapp=whatsapp, **sections)
        self.clock = ManualClock(time.time())

    async def start_bot(self) -> Empfang:
        assert self.settings is not None
        self.bot = Empfang(self.settings, clock=self.clock)
        await self.bot.start()
        if self.mode == "http":
            self.fake.use_http(self.bot.url)
        return self.bot

    def pending_jobs(self) -> int:
        """Jobs due on the bot's clock (which the test moves), not the wall clock."""
        due = self.clock.now() + 1
        query = f"SELECT count(*) FROM jobs WHERE state = 'pending' AND run_after < {due}"
        return int(self.rows(query)[0][0])

    def notices(self, thread_ts: str) -> list[str]:
        return self.fake.bot_texts(thread_ts)


def notice(stack: TemplateStack, thread: str, marker: str) -> str:
    """The bot's post in ``thread`` containing ``marker`` (on-call notices come too)."""
    found = [text for text in stack.notices(thread) if marker in text]
    assert found, f"no post with {marker!r} in {stack.notices(thread)}"
    return found[-1]


async def thread_after_window(stack: TemplateStack) -> str:
    """A conversation whose customer wrote more than 24 hours ago."""
    stack.say(CUSTOMER, "Hallo, wo bleibt mein Paket?", name="Erika")
    thread = await stack.thread_of(CUSTOMER)
    await wait_for(lambda: any("Paket" in line for line in stack.lines(thread)))
    await stack.settled()
    stack.clock.advance(SERVICE_WINDOW_SECONDS + 60)
    return thread


StartStack = Callable[..., Awaitable[TemplateStack]]


@pytest_asyncio.fixture
async def start_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartStack]:
    monkeypatch.setattr(pacing, "POST_INTERVAL_SECONDS", FAST_INTERVAL)
    stacks: list[TemplateStack] = []

    async def start(mode: Mode = "socket", **sections: Any) -> TemplateStack:
        fake = FakeSlack(mode=mode, rate=1 / FAST_INTERVAL, ack_timeout=1.0)
        path = tmp_path / f"empfang-{len(stacks)}.sqlite3"
        stack = TemplateStack(mode, path, fake, **sections)
        stacks.append(stack)
        await stack.start()
        return stack

    yield start
    for stack in stacks:
        await stack.stop()


@pytest_asyncio.fixture
async def stack(start_stack: StartStack) -> TemplateStack:
    return await start_stack()
