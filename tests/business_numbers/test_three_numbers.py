"""Three business numbers in one Empfang, at the same time: the workshop's and sales'
threads in two rooms on a real Synapse, the service line's in a Slack channel (the fake).

Each customer's thread is in the room of the number they wrote to, every reply leaves from
that number, a customer who writes to two numbers has two threads in two places with no
cross-talk, and no room or channel shows a customer's number.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.config import Settings, check_settings
from bot.config.numbers import NumberEntry
from bot.demo.stack import (
    RoomView,
    Stack,
    SupportRoom,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse
from bot.dpo.erase import erase_subject
from bot.dpo.export import Subject
from tests.e2e.matrix_world import leaks, roots, thread_bodies, wait_for_thread_bodies
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack
from tests.numbers import CUSTOMER, CUSTOMER_2
from tests.slack import stack as slack_stack
from tests.slack.stack import AGENT

ANNA = "+" + CUSTOMER
BERT = "+" + CUSTOMER_2
WORKSHOP = "106540352242922"
SALES = "106540352249999"
SERVICE = "106540352240000"


@dataclass(frozen=True)
class World:
    stack: Stack
    slack: FakeSlack
    workshop: RoomView
    sales: RoomView
    bot_user: str
    rooms: dict[str, str]
    """Number → its Matrix room id."""

    def inbox(self, customer: str, business: str) -> list[str]:
        messages: list[dict[str, Any]] = self.stack.sandbox.inbox(customer, business)["messages"]
        return [str(m["text"]) for m in messages]

    def chat_rooms(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(customer digits, number) → (platform, room) the store recorded for its thread."""
        with sqlite3.connect(self.stack.settings.store.path) as db:
            rows = db.execute(
                "SELECT k.wa_id, c.number_id, c.chat_platform, c.chat_room FROM conversations c"
                " JOIN contacts k ON k.id = c.contact_id"
            ).fetchall()
        return {(wa, number): (platform, room) for wa, number, platform, room in rows}


async def second_room(synapse: LocalSynapse, support: SupportRoom) -> str:
    """Another room of the same agent, the bot invited and joined."""
    room_id = await synapse.create_room(support.agent, name="Sales", invite=[support.bot.user_id])
    await synapse.join_room(support.bot, room_id)
    return room_id


def three_numbers(settings: Settings, workshop: str, sales: str) -> None:
    settings.numbers = [
        NumberEntry(phone_number_id=WORKSHOP, name="Werkstatt", room=workshop),
        NumberEntry(phone_number_id=SALES, name="Verkauf", room=sales),
        NumberEntry(phone_number_id=SERVICE, name="Service", platform="slack", room=CHANNEL),
    ]


@pytest_asyncio.fixture
async def world(synapse: LocalSynapse, tmp_path: Path, fast_slack: None) -> AsyncIterator[World]:
    support = await create_support_room(synapse)
    sales = await second_room(synapse, support)
    slack = FakeSlack(mode="socket", rate=20.0, ack_timeout=1.0)
    await slack.start()
    slack.add_user(AGENT, "anna", real_name="Anna Agent", display_name="Anna")
    settings = stack_settings(
        tmp_path,
        support,
        bot_port=free_port(),
        slack={
            "bot_token": BOT_TOKEN,
            "app_token": APP_TOKEN,
            "api_base": slack.api_base,
            "allowed_users": [AGENT],
        },
    )
    three_numbers(settings, support.room_id, sales)
    stack = Stack(settings)
    await stack.start()
    try:
        yield World(
            stack,
            slack,
            RoomView(synapse, support.agent, support.room_id),
            RoomView(synapse, support.agent, sales),
            support.bot.user_id,
            {WORKSHOP: support.room_id, SALES: sales},
        )
    finally:
        await stack.stop()
        await slack.stop()


async def matrix_root(world: World, view: RoomView) -> str:
    """The one thread root in the room, once it is there."""

    async def probe() -> list[dict[str, Any]] | None:
        return await roots(view, world.bot_user) or None

    found = await wait_for(probe, within=30)
    assert len(found) == 1, [e["content"]["body"] for e in found]
    return str(found[0]["event_id"])


async def slack_root(world: World) -> str:
    async def probe() -> list[dict[str, Any]] | None:
        return world.slack.roots(CHANNEL) or None

    found = await wait_for(probe, within=30)
    assert len(found) == 1
    return str(found[0]["ts"])


LINES = {
    WORKSHOP: "Die Bremsen quietschen",
    SALES: "Was kostet der Kombi?",
    SERVICE: "Meine Rechnung fehlt",
}
"""What the customer writes to each number."""


@dataclass(frozen=True)
class Threads:
    workshop: str
    sales: str
    service: str


async def customers_write(world: World, writers: dict[str, str]) -> Threads:
    """Each number's customer (``writers``: number → customer) writes its line; the three
    threads once each shows its line, each thread checked to be its room's only one."""
    for number, customer in writers.items():
        world.stack.sandbox.say(customer, LINES[number], to=number)
    threads = Threads(
        await matrix_root(world, world.workshop),
        await matrix_root(world, world.sales),
        await slack_root(world),
    )
    workshop = await wait_for_thread_bodies(world.workshop, threads.workshop, 1)
    assert workshop == [LINES[WORKSHOP]]
    assert await wait_for_thread_bodies(world.sales, threads.sales, 1) == [LINES[SALES]]

    async def service_line() -> list[str] | None:
        return world.slack.bot_texts(threads.service, CHANNEL) or None

    assert await wait_for(service_line, within=30) == [LINES[SERVICE]]
    return threads


async def test_three_numbers_two_matrix_rooms_and_a_slack_channel_at_once(world: World) -> None:
    assert check_settings(world.stack.settings) == []
    threads = await customers_write(world, {WORKSHOP: ANNA, SALES: BERT, SERVICE: ANNA})
    workshop, sales, service = threads.workshop, threads.sales, threads.service
    assert world.chat_rooms() == {
        (CUSTOMER, WORKSHOP): ("matrix", world.rooms[WORKSHOP]),
        (CUSTOMER_2, SALES): ("matrix", world.rooms[SALES]),
        (CUSTOMER, SERVICE): ("slack", CHANNEL),
    }

    await world.workshop.reply_in_thread(workshop, "Kommen Sie morgen vorbei")
    await world.sales.reply_in_thread(sales, "29.900 Euro")
    await world.slack.agent_reply(service, AGENT, "Ist unterwegs", channel_id=CHANNEL)

    async def inboxes() -> dict[tuple[str, str], list[str]] | None:
        shown = {
            (ANNA, WORKSHOP): world.inbox(ANNA, WORKSHOP),
            (BERT, SALES): world.inbox(BERT, SALES),
            (ANNA, SERVICE): world.inbox(ANNA, SERVICE),
        }
        return shown if all(shown.values()) else None

    assert await wait_for(inboxes, within=30) == {
        (ANNA, WORKSHOP): ["Kommen Sie morgen vorbei"],
        (BERT, SALES): ["29.900 Euro"],
        (ANNA, SERVICE): ["Ist unterwegs"],
    }
    assert world.inbox(ANNA, SALES) == [] and world.inbox(BERT, WORKSHOP) == []

    for view in (world.workshop, world.sales):
        events = await view.events()
        assert leaks(events, CUSTOMER) == [] and leaks(events, CUSTOMER_2) == []
    assert slack_stack.leaks(world.slack.wire_text(), [CUSTOMER, CUSTOMER_2]) == []


async def test_erasing_a_customer_removes_their_threads_in_each_room_and_channel(
    world: World,
) -> None:
    """Anna wrote to sales (a room other than the global one) and the service line (the
    Slack channel), Bert to the workshop (the global room): erasing Anna removes her two
    threads where each lives, and Bert's thread keeps everything."""
    threads = await customers_write(world, {WORKSHOP: BERT, SALES: ANNA, SERVICE: ANNA})
    workshop, sales = threads.workshop, threads.sales

    bot = world.stack.bot
    assert bot is not None and bot.store is not None
    async with bot.store.transaction() as tx:
        await erase_subject(tx, Subject(wa_id=CUSTOMER), "cli:dpo", "Antrag", {})

    async def sales_redacted() -> bool:
        events = await world.sales.events()
        root = next(e for e in events if e["event_id"] == sales)
        return not root["content"]

    async def service_gone() -> bool:
        texts = [str(m.get("text", "")) for m in world.slack.channel_messages(CHANNEL)]
        return not any("Rechnung" in text for text in texts)

    assert await wait_for(sales_redacted, within=30)
    assert await wait_for(service_gone, within=30)
    assert await thread_bodies(world.workshop, workshop) == ["Die Bremsen quietschen"]
