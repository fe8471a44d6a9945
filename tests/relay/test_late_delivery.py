"""Webhooks redelivered after an outage arrive late: the thread still reads in the order the
customer wrote, and a line that could not be put in its place says when it was sent.

Driven through the production wiring (``tests.cases.conftest.Desk``: intake, relay, workers)
on a real SQLite file and a manual clock.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.store import Store
from tests.cases.conftest import Desk
from tests.numbers import CUSTOMER

_ids = itertools.count(1)
START = 1_764_580_000.0  # a fixed moment, so the marker's clock time is known


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock(START))
    yield Desk(store)
    await store.close()


async def written(desk: Desk, text: str, *, at: float) -> None:
    """A customer message written at ``at`` (the webhook's timestamp), arriving now."""
    message = InboundMessage(
        provider_id=ProviderMessageId(f"wamid.late{next(_ids)}"),
        sender=Sender(wa_id=WaId(CUSTOMER), profile_name="Erika Mustermann"),
        timestamp=int(at),
        kind=MessageKind.TEXT,
        text=text,
    )
    await desk.intake.accept(WebhookBatch(messages=(message,)))


def customer_lines(desk: Desk) -> list[str]:
    (posts,) = desk.chat.posts.values()
    return posts


async def test_queued_lines_are_posted_in_the_order_the_customer_wrote_them(desk: Desk) -> None:
    await written(desk, "zweitens", at=START - 60)
    await written(desk, "drittens", at=START - 30)
    await written(desk, "erstens", at=START - 90)  # redelivered late, still queued

    await desk.settle()

    assert customer_lines(desk) == ["erstens", "zweitens", "drittens"]


async def test_a_line_arriving_after_later_ones_were_posted_says_when_it_was_sent(
    desk: Desk,
) -> None:
    await written(desk, "zweitens", at=START - 60)
    await written(desk, "drittens", at=START - 30)
    await desk.settle()
    await written(desk, "erstens", at=START - 90)  # Meta redelivers after the outage
    await desk.settle()

    sent = datetime.fromtimestamp(START - 90, ZoneInfo("Europe/Berlin"))
    lines = customer_lines(desk)
    assert lines[:2] == ["zweitens", "drittens"]
    assert lines[2].startswith("erstens") and f"{sent:%H:%M}" in lines[2]
    assert "sent" in lines[2]


async def test_a_line_in_its_place_carries_no_marker(desk: Desk) -> None:
    await written(desk, "erstens", at=START - 90)
    await desk.settle()
    await written(desk, "zweitens", at=START - 60)
    await desk.settle()

    assert customer_lines(desk) == ["erstens", "zweitens"]
