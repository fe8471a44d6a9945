"""``empfang demo``: Empfang end to end on this machine, nothing to configure.

Starts a throwaway Synapse, the WhatsApp sandbox and the bot on SQLite in a temporary folder,
plays a short conversation and prints side by side what the customer saw on WhatsApp and
what the agent saw in Matrix. Two business numbers are configured, each routed to a room of
its own (``[[numbers]]``): the workshop's threads go to "Customer support", the sales
line's to "Sales", and the customer's message to sales shows up there alone. The workshop
is on Meta's Cloud API, the sales line on Twilio (both played by the sandbox), so the demo
also shows one process answering each number through its own provider.
``--interactive`` keeps it running for any Matrix client.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
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
from bot.private_files import private_directory

DEMO_CUSTOMER = "+49 151 12345678"
CUSTOMER_TEXT = (
    "Hallo! Meine Bestellung 4711-2023 vom 12.03.2024 ist nicht angekommen. "
    "Bitte rufen Sie meinen Mann an: 0176 98765432."
)
AGENT_TEXT = "Guten Tag! Wir haben Ihre Bestellung gefunden, sie kommt morgen an."
SALES_TEXT = "Und was kostet der Kombi in Grau?"
SALES_ANSWER = "29.900 Euro, Probefahrt jederzeit."
WORKSHOP = "106540352242922"
"""The first number: the sandbox's ``[whatsapp] phone_number_id``."""
SALES = "whatsapp:+15555550199"
"""The sales line: a Twilio sender (the sandbox's Twilio side)."""
COLUMN = 46


@dataclass(frozen=True)
class DemoRooms:
    """The support room (the workshop number's, with the bot and an agent) and the sales
    number's room (the same two in it)."""

    support: SupportRoom
    sales: str


async def demo_rooms(homeserver: LocalSynapse, *, tag: str = "demo") -> DemoRooms:
    """The accounts are ``empfang<tag>`` and ``agent<tag>`` (``tag`` "": a random one)."""
    support = await create_support_room(homeserver, tag=tag)
    sales = await homeserver.create_room(support.agent, name="Sales", invite=[support.bot.user_id])
    await homeserver.join_room(support.bot, sales)
    return DemoRooms(support, sales)


def demo_settings(folder: Path, rooms: DemoRooms) -> Settings:
    """The stack's settings with two numbers, each routed to its room."""
    settings = stack_settings(folder, rooms.support, bot_port=free_port())
    settings.numbers = [
        NumberEntry(phone_number_id=WORKSHOP, name="Werkstatt", room=rooms.support.room_id),
        NumberEntry(provider="twilio", from_number=SALES, name="Verkauf", room=rooms.sales),
    ]
    return settings


async def run_demo(*, interactive: bool = False, workdir: Path | None = None) -> int:
    keep = workdir is not None
    folder = workdir or Path(tempfile.mkdtemp(prefix="empfang-demo-"))
    private_directory(folder)  # the demo's store and Matrix store live here
    print(f"Empfang demo: files in {folder}")
    try:
        async with LocalSynapse(folder / "synapse") as homeserver:
            print(f"  Synapse running at {homeserver.base_url}")
            rooms = await demo_rooms(homeserver)
            async with Stack(demo_settings(folder, rooms)) as stack:
                print(f"  WhatsApp sandbox at {stack.sandbox.base_url}, bot at {stack.bot_url}")
                if interactive:
                    return await _interactive(stack, rooms.support)
                return await scripted(stack, rooms)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


async def scripted(stack: Stack, rooms: DemoRooms) -> int:
    """The conversation the demo plays and prints; 0 when everything showed up."""
    room = rooms.support
    view = RoomView(room.homeserver, room.agent, room.room_id)
    print("\n1. The customer writes on WhatsApp (with a second phone number in the text).")
    stack.sandbox.say(DEMO_CUSTOMER, CUSTOMER_TEXT, name="Erika Mustermann")

    async def thread_with_message() -> list[dict[str, Any]] | None:
        messages = await view.messages()
        threaded = [m for m in messages if _thread_of(m)]
        return messages if threaded else None

    messages = await wait_for(thread_with_message, within=30)
    root_id = _thread_of(next(m for m in messages if _thread_of(m)))
    print("2. Empfang opened a thread in the support room; the agent answers in it.")
    await view.reply_in_thread(root_id, AGENT_TEXT)

    async def read_by_customer() -> dict[str, Any] | None:
        inbox = stack.sandbox.inbox(DEMO_CUSTOMER)
        done = [m for m in inbox["messages"] if m["status"] == "read"]
        return inbox if done else None

    await wait_for(read_by_customer, within=30)

    async def reaction_shows_read() -> bool:
        return any(_reaction(e) == "👁" for e in await view.events())

    await wait_for(reaction_shows_read, within=30)
    print("3. WhatsApp delivered it and the customer read it; the ticks show in Matrix.\n")
    _print_side_by_side(stack, await view.events())
    await _second_number(stack, rooms)
    return 0


async def _second_number(stack: Stack, rooms: DemoRooms) -> None:
    """The same customer writes to the sales number: a thread in the Sales room, answered
    from the sales number, and nothing of it in the support room."""
    room = rooms.support
    sales = RoomView(room.homeserver, room.agent, rooms.sales)
    print(
        "\n4. The customer also writes to the sales number (on Twilio), routed to the Sales room."
    )
    stack.sandbox.say(DEMO_CUSTOMER, SALES_TEXT, name="Erika Mustermann", to=SALES)

    async def sales_thread() -> str | None:
        threaded = [_thread_of(m) for m in await sales.messages() if _thread_of(m)]
        return threaded[0] if threaded else None

    root_id = await wait_for(sales_thread, within=30)
    await sales.reply_in_thread(root_id, SALES_ANSWER)

    async def answered() -> list[str] | None:
        chat = stack.sandbox.inbox(DEMO_CUSTOMER, SALES)["messages"]
        return [str(m["text"]) for m in chat] or None

    shown = await wait_for(answered, within=30)
    support = RoomView(room.homeserver, room.agent, room.room_id)
    threads = {
        "Customer support (Werkstatt)": len(await _roots(support, stack)),
        "Sales (Verkauf)": len(await _roots(sales, stack)),
    }
    for name, count in threads.items():
        print(f"   room {name}: {count} thread")
    print(f"   the customer's chat with the sales number shows: {' / '.join(shown)}")


async def _roots(view: RoomView, stack: Stack) -> list[dict[str, Any]]:
    """The bot's thread roots in the room."""
    bot = stack.settings.matrix.user_id
    return [
        m
        for m in await view.messages()
        if m.get("sender") == bot and not m.get("content", {}).get("m.relates_to")
    ]


async def _interactive(stack: Stack, room: SupportRoom) -> int:
    hs = room.homeserver
    print(
        textwrap.dedent(
            f"""
            Everything is running. Log in with any Matrix client (e.g. Element):
              homeserver: {hs.base_url}
              user:       {room.agent.user_id}
              password:   {room.agent.password}
              room:       {room.room_id} ("Customer support", you are already in it)
            Type a line and press Enter to send it as the customer {DEMO_CUSTOMER};
            replies from the thread appear here. Ctrl-D or Ctrl-C stops everything.
            """
        )
    )
    shown: set[str] = set()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return 0
        if line.strip():
            stack.sandbox.say(DEMO_CUSTOMER, line.strip(), name="Demo Customer")
        await asyncio.sleep(1.0)
        for message in stack.sandbox.inbox(DEMO_CUSTOMER)["messages"]:
            if message["id"] not in shown:
                shown.add(message["id"])
                print(f"  business → customer: {message['text']}")


def _thread_of(event: dict[str, Any]) -> str:
    relation = event.get("content", {}).get("m.relates_to", {})
    return str(relation.get("event_id", "")) if relation.get("rel_type") == "m.thread" else ""


def _reaction(event: dict[str, Any]) -> str | None:
    if event.get("type") != "m.reaction":
        return None
    key = event.get("content", {}).get("m.relates_to", {}).get("key")
    return str(key) if key else None


def _print_side_by_side(stack: Stack, events: list[dict[str, Any]]) -> None:
    inbox = stack.sandbox.inbox(DEMO_CUSTOMER)
    left = [f"Customer {DEMO_CUSTOMER} wrote:", *_wrap(CUSTOMER_TEXT), ""]
    for message in inbox["messages"]:
        left += ["Business replied:", *_wrap(str(message["text"])), f"  ticks: {message['status']}"]
    right = []
    redacted = {e.get("redacts") for e in events if e.get("type") == "m.room.redaction"}
    for event in events:
        if event.get("type") == "m.room.message":
            body = str(event.get("content", {}).get("body", ""))
            who = "Empfang" if event.get("sender") == stack.settings.matrix.user_id else "agent"
            right += [f"{who}:", *_wrap(body), ""]
        elif (key := _reaction(event)) and event.get("event_id") not in redacted:
            right.append(f"  reaction on the agent's reply: {key}")
    header = f"{'WhatsApp (what the customer saw)':<{COLUMN}} | Matrix (what the agent saw)"
    print(header)
    print("-" * len(header))
    for index in range(max(len(left), len(right))):
        a = left[index] if index < len(left) else ""
        b = right[index] if index < len(right) else ""
        print(f"{a:<{COLUMN}} | {b}")
    print("\nThe number appears masked in Matrix, including the one inside the text.")


def _wrap(text: str) -> list[str]:
    """Each line of ``text`` wrapped to the column, keeping the post's own line breaks."""
    wrapped: list[str] = []
    for line in text.splitlines() or [""]:
        wrapped += textwrap.wrap(line, COLUMN - 2, initial_indent="  ", subsequent_indent="  ")
    return wrapped or [""]
