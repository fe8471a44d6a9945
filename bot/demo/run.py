"""``empfang demo``: Empfang end to end on this machine, nothing to configure.

Starts a throwaway Synapse, the WhatsApp sandbox and the bot on SQLite in a temporary folder,
plays a short conversation and prints side by side what the customer saw on WhatsApp and
what the agent saw in Matrix. ``--interactive`` keeps it running for any Matrix client.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

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
COLUMN = 46


async def run_demo(*, interactive: bool = False, workdir: Path | None = None) -> int:
    keep = workdir is not None
    folder = workdir or Path(tempfile.mkdtemp(prefix="empfang-demo-"))
    private_directory(folder)  # the demo's store and Matrix store live here
    print(f"Empfang demo: files in {folder}")
    try:
        async with LocalSynapse(folder / "synapse") as homeserver:
            print(f"  Synapse running at {homeserver.base_url}")
            room = await create_support_room(homeserver, tag="demo")
            settings = stack_settings(folder, room, bot_port=free_port())
            async with Stack(settings) as stack:
                print(f"  WhatsApp sandbox at {stack.sandbox.base_url}, bot at {stack.bot_url}")
                if interactive:
                    return await _interactive(stack, room)
                return await _scripted(stack, room)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


async def _scripted(stack: Stack, room: SupportRoom) -> int:
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
    return 0


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
