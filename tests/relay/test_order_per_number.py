"""A customer who writes to two business numbers has two conversations, and each is a queue
of its own: each number's lines combine on a paced platform as a single number's do, a
room that is down holds up only its own number's lines, and each thread reads in the
order the customer wrote, also when a webhook is redelivered late.

Driven through the production wiring (``tests.cases.conftest.Desk``: intake, relay,
workers) on a real SQLite file and a manual clock; the PostgreSQL intake writes the same
keys (``tests/unit/test_group_commit.py``, ``tests/unit/test_job_catalog.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.errors import PlatformError
from bot.ids import ChatMessageId, ProviderMessageId, ThreadId, WaId
from bot.ports import Capabilities
from bot.store import Store
from tests.cases.conftest import Desk
from tests.cases.doubles import RecordingChat
from tests.numbers import CUSTOMER

WORKSHOP = "106540352242922"
SALES = "106540352249999"
START = 1_764_580_000.0
_ids = itertools.count(1)


class PacedChat(RecordingChat):
    """Paced like Slack: waiting lines of one conversation may share a post (up to 4)."""

    capabilities = Capabilities(reactions=True, paced=True, combine_waiting=4)


class RoomDownChat(RecordingChat):
    """A chat whose threads in ``down`` refuse posts, as a room in an outage would."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        if thread_id in self.down:
            raise PlatformError("room unavailable", retry_after=600)
        return await super().post(thread_id, text, key=key)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock(START))
    yield opened
    await opened.close()


async def written(desk: Desk, text: str, *, to: str, at: float | None = None) -> None:
    """The customer's ``text`` to business number ``to``, written at ``at`` (else now)."""
    message = InboundMessage(
        provider_id=ProviderMessageId(f"wamid.numbers{next(_ids)}"),
        sender=Sender(wa_id=WaId(CUSTOMER), profile_name="Erika Mustermann"),
        timestamp=int(desk.clock.now() if at is None else at),
        kind=MessageKind.TEXT,
        text=text,
        number_id=to,
    )
    await desk.intake.accept(WebhookBatch(messages=(message,)))


async def threads(desk: Desk) -> dict[str, str]:
    """Each business number's thread of the customer."""
    rows = await desk.sql("SELECT number_id, thread_id FROM conversations ORDER BY id")
    return {str(number): str(thread) for number, thread in rows if thread}


async def test_each_numbers_lines_combine_as_a_single_numbers_do(store: Store) -> None:
    """Alternating lines to two numbers: before, the queue was the customer's, so the line
    behind each job was the other number's and nothing combined (six posts)."""
    desk = Desk(store, chat=PacedChat())
    for n in range(1, 4):
        await written(desk, f"Werkstatt {n}", to=WORKSHOP)
        await written(desk, f"Verkauf {n}", to=SALES)
    await desk.settle()

    thread = await threads(desk)
    assert desk.chat.posts[thread[WORKSHOP]] == ["Werkstatt 1\nWerkstatt 2\nWerkstatt 3"]
    assert desk.chat.posts[thread[SALES]] == ["Verkauf 1\nVerkauf 2\nVerkauf 3"]


async def test_a_room_that_is_down_holds_up_only_its_own_numbers_lines(store: Store) -> None:
    chat = RoomDownChat()
    desk = Desk(store, chat=chat)
    await written(desk, "Werkstatt 1", to=WORKSHOP)
    await desk.settle()
    workshop = (await threads(desk))[WORKSHOP]
    chat.down.add(workshop)

    await written(desk, "Werkstatt 2", to=WORKSHOP)
    await written(desk, "Verkauf 1", to=SALES)
    await written(desk, "Verkauf 2", to=SALES)
    await desk.drain()  # the workshop's line waits for its retry

    sales = (await threads(desk))[SALES]
    assert chat.posts[sales] == ["Verkauf 1", "Verkauf 2"]
    assert chat.posts[workshop] == ["Werkstatt 1"]

    chat.down.clear()
    await desk.settle(step=60.0)
    assert chat.posts[workshop] == ["Werkstatt 1", "Werkstatt 2"]


async def test_each_thread_keeps_the_order_written_with_late_webhooks(store: Store) -> None:
    """Lines of both numbers queued together, two of them redelivered late: each thread
    reads as the customer wrote to that number."""
    desk = Desk(store)
    await written(desk, "Werkstatt 2", to=WORKSHOP, at=START - 60)
    await written(desk, "Verkauf 2", to=SALES, at=START - 50)
    await written(desk, "Werkstatt 3", to=WORKSHOP, at=START - 30)
    await written(desk, "Werkstatt 1", to=WORKSHOP, at=START - 90)  # redelivered late
    await written(desk, "Verkauf 1", to=SALES, at=START - 80)  # redelivered late
    await desk.settle()

    thread = await threads(desk)
    assert desk.chat.posts[thread[WORKSHOP]] == ["Werkstatt 1", "Werkstatt 2", "Werkstatt 3"]
    assert desk.chat.posts[thread[SALES]] == ["Verkauf 1", "Verkauf 2"]


async def test_jobs_about_a_conversation_share_its_queue(store: Store) -> None:
    """A notice the relay writes into the sales thread (an agent's ``!help``) waits in the
    sales conversation's queue, not the workshop's: every job of the conversation names
    its number."""
    chat = RoomDownChat()
    desk = Desk(store, chat=chat)
    await written(desk, "Werkstatt 1", to=WORKSHOP)
    await written(desk, "Verkauf 1", to=SALES)
    await desk.settle()
    thread = await threads(desk)
    chat.down.add(thread[WORKSHOP])
    await written(desk, "Werkstatt 2", to=WORKSHOP)
    await desk.agent_says("!help")  # in the customer's newest thread: sales
    await desk.drain()

    assert len(chat.posts[thread[SALES]]) == 2  # the line and the help notice
    assert chat.posts[thread[WORKSHOP]] == ["Werkstatt 1"]
