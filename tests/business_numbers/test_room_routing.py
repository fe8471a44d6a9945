"""The core routes each conversation's chat calls to its number's room (``bot.routing``):
the production wiring (``bot.wiring``) around a chat double that notes the room each call
addressed, as an adapter reads it (``bot.routing.chat_room``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import pytest_asyncio

from adapters.cases import build_sinks
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ChatMessageId, ProviderMessageId, ThreadId, WaId
from bot.intake import Intake
from bot.ports import AgentMessage, ThreadRoot
from bot.routing import ChatTarget, chat_room
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, chat_rooms, wire_relay
from tests.cases.doubles import RecordingChat, RecordingWhatsApp
from tests.numbers import CUSTOMER

KEY = "test-pseudonym-key-0123456789"
GLOBAL = "!global:example.org"
WORKSHOP, SALES = "106540352242922", "106540352249999"
WORKSHOP_ROOM, SALES_ROOM = "!werkstatt:example.org", "!verkauf:example.org"
SALES_ONCALL = "!verkauf-oncall:example.org"
CLOSED = "Der Verkauf ist samstags da."
_ids = count(1)


class RoomsChat(RecordingChat):
    """Notes the room of every thread opened, post and alert."""

    def __init__(self) -> None:
        super().__init__()
        self.thread_rooms: dict[str, str] = {}
        self.post_rooms: list[tuple[str, str]] = []
        self.alert_rooms: list[tuple[str, str | None]] = []

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        thread = await super().open_thread(root, key=key)
        self.thread_rooms[thread] = chat_room(GLOBAL)
        return thread

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        self.post_rooms.append((chat_room(GLOBAL), thread_id))
        return await super().post(thread_id, text, key=key)

    async def alert(self, text: str, *, thread_id: ThreadId | None, key: str) -> ChatMessageId:
        self.alert_rooms.append((chat_room(GLOBAL), thread_id))
        return await super().alert(text, thread_id=thread_id, key=key)


def settings_with(
    workshop_room: str = WORKSHOP_ROOM,
    sales_hours: dict[str, Any] | None = None,
    archives: Path | None = None,
) -> Settings:
    """``archives``: a folder for two JSONL case sinks, the sales line using only its own."""
    sales: dict[str, Any] = {
        "phone_number_id": SALES,
        "room": SALES_ROOM,
        "alerts_room": SALES_ONCALL,
    }
    if sales_hours is not None:
        sales["business_hours"] = sales_hours
    cases = []
    if archives is not None:
        cases = [
            {"type": "jsonl", "name": name, "path": str(archives / f"{name}.jsonl")}
            for name in ("werkstatt", "verkauf")
        ]
        sales["cases"] = ["verkauf"]
    data: dict[str, Any] = {
        "whatsapp": {"phone_number_id": WORKSHOP},
        "matrix": {"room_id": GLOBAL},
        "privacy": {"pseudonym_key": KEY},
        "alerts": {"unanswered_after": "10m"},
        "numbers": [{"phone_number_id": WORKSHOP, "room": workshop_room}, sales],
        "cases": cases,
    }
    return Settings.model_validate(data)


@dataclass
class Desk:
    store: Store
    clock: ManualClock
    chat: RoomsChat
    whatsapp: RecordingWhatsApp
    wired: RelayStack

    async def says(self, text: str, to: str) -> None:
        message = InboundMessage(
            provider_id=ProviderMessageId(f"wamid.rooms{next(_ids)}"),
            sender=Sender(wa_id=WaId(CUSTOMER)),
            timestamp=int(self.clock.now()),
            kind=MessageKind.TEXT,
            text=text,
            number_id=to,
        )
        await Intake(self.store, pseudonym_key=KEY.encode()).accept(
            WebhookBatch(messages=(message,))
        )
        await self.wired.workers.run_until_idle()

    async def agent_writes(self, thread: str, text: str, room: str) -> None:
        await self.wired.relay.on_agent_event(
            AgentMessage(
                chat_id=ChatMessageId(f"$agent-{next(_ids)}"),
                thread_id=ThreadId(thread),
                author_id="@anna:example.org",
                author_name="Anna",
                text=text,
                room_id=room,
            )
        )
        await self.wired.workers.run_until_idle()

    def thread_in(self, room: str) -> str:
        (thread,) = [t for t, r in self.chat.thread_rooms.items() if r == room]
        return thread

    async def rewire(self, settings: Settings) -> None:
        """Another start of Empfang on the same store, with ``settings``."""
        await self.wired.stop(0)
        self.wired = wire(self.store, settings, self.chat, self.whatsapp)


def wire(store: Store, settings: Settings, chat: RoomsChat, whatsapp: RecordingWhatsApp) -> Any:
    sinks = build_sinks(settings.cases, ENGLISH)
    return wire_relay(store, settings, chat=chat, whatsapp=whatsapp, texts=ENGLISH, sinks=sinks)


@pytest_asyncio.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    clock = ManualClock()  # a Friday morning
    store = await Store.open(tmp_path / "rooms.sqlite3", clock=clock)
    chat, whatsapp = RoomsChat(), RecordingWhatsApp()
    made = Desk(store, clock, chat, whatsapp, wire(store, settings_with(), chat, whatsapp))
    try:
        yield made
    finally:
        await made.wired.stop(0)
        await store.close()


async def test_each_numbers_thread_and_posts_are_in_its_room(desk: Desk) -> None:
    await desk.says("Bremsen?", to=WORKSHOP)
    await desk.says("Kombi?", to=SALES)
    workshop, sales = desk.thread_in(WORKSHOP_ROOM), desk.thread_in(SALES_ROOM)
    assert set(desk.chat.post_rooms) == {(WORKSHOP_ROOM, workshop), (SALES_ROOM, sales)}


async def test_an_agent_is_heard_only_in_the_room_of_the_thread(desk: Desk) -> None:
    await desk.says("Bremsen?", to=WORKSHOP)
    workshop = desk.thread_in(WORKSHOP_ROOM)
    await desk.agent_writes(workshop, "from a room no number uses", "!elsewhere:example.org")
    await desk.agent_writes(workshop, "from the sales room", SALES_ROOM)
    assert desk.whatsapp.sent == []
    await desk.agent_writes(workshop, "Kommen Sie vorbei", WORKSHOP_ROOM)
    assert desk.whatsapp.sent == [(CUSTOMER, "Kommen Sie vorbei")]


async def test_a_thread_stays_in_its_room_when_the_number_moves(desk: Desk) -> None:
    await desk.says("Bremsen?", to=WORKSHOP)
    workshop = desk.thread_in(WORKSHOP_ROOM)
    await desk.rewire(settings_with("!neu:example.org"))
    await desk.says("Noch da?", to=WORKSHOP)
    assert desk.chat.post_rooms[-1] == (WORKSHOP_ROOM, workshop)
    await desk.agent_writes(workshop, "Ja", WORKSHOP_ROOM)  # the old room still answers
    assert desk.whatsapp.sent == [(CUSTOMER, "Ja")]
    await desk.agent_writes(workshop, "!close", WORKSHOP_ROOM)
    await desk.says("Neue Frage", to=WORKSHOP)
    assert desk.thread_in("!neu:example.org") != workshop


async def test_sla_alerts_go_to_the_thread_and_the_numbers_alerts_room(desk: Desk) -> None:
    await desk.says("Kombi?", to=SALES)
    sales = desk.thread_in(SALES_ROOM)
    desk.clock.advance(11 * 60)
    await desk.wired.workers.run_until_idle()
    assert desk.chat.alert_rooms == [(SALES_ROOM, sales), (SALES_ONCALL, None)]


async def test_a_number_with_business_hours_of_its_own_answers_out_of_hours_alone(
    desk: Desk,
) -> None:
    """The workshop keeps the global hours (always open); the sales line, open on Saturdays,
    is closed this Friday and sends its own out-of-hours reply; its SLA timer counts its
    own open time."""
    saturdays = {"weekly": {"saturday": ["10:00-12:00"]}, "out_of_hours_reply": CLOSED}
    await desk.rewire(settings_with(sales_hours=saturdays))
    await desk.says("Bremsen?", to=WORKSHOP)
    assert desk.whatsapp.sent == []
    await desk.says("Kombi?", to=SALES)
    assert desk.whatsapp.sent == [(CUSTOMER, CLOSED)]
    desk.clock.advance(11 * 60)
    await desk.wired.workers.run_until_idle()
    workshop = desk.thread_in(WORKSHOP_ROOM)
    assert [thread for _, thread in desk.chat.alert_rooms] == [workshop]


async def test_a_number_naming_its_case_sinks_reaches_only_those(
    desk: Desk, tmp_path: Path
) -> None:
    """The workshop's conversations go to every sink, the sales line's to its own alone."""
    await desk.rewire(settings_with(archives=tmp_path))
    await desk.says("Bremsen?", to=WORKSHOP)
    await desk.says("Kombi?", to=SALES)
    werkstatt = (tmp_path / "werkstatt.jsonl").read_text("utf-8")
    verkauf = (tmp_path / "verkauf.jsonl").read_text("utf-8")
    assert "Bremsen?" in werkstatt and "Kombi?" not in werkstatt
    assert "Bremsen?" in verkauf and "Kombi?" in verkauf


def test_the_global_room_is_on_a_platform_some_number_uses() -> None:
    """``[chat] platform`` left at its default (matrix) while every number is on Slack:
    unscoped calls (operational alerts) go to Slack's channel, the one platform running."""
    settings = Settings.model_validate(
        {
            "slack": {"channel_id": "C0WORKSHOP1"},
            "privacy": {"pseudonym_key": KEY},
            "numbers": [{"phone_number_id": WORKSHOP, "platform": "slack"}],
        }
    )
    assert settings.chat.platform == "matrix"
    assert chat_rooms(settings).default == ChatTarget("slack", "C0WORKSHOP1")
