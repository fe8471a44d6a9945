"""The template path on a real Synapse: a reply after the window is refused and explained,
the root shows the closed window, a template reaches the sandbox and its post in the
thread gets the delivery marks; nothing in the room shows the customer's number."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Empfang
from bot.clock import ManualClock
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
from bot.domain import SERVICE_WINDOW_SECONDS
from bot.sandbox.core import DEFAULT_WABA_ID
from tests.e2e.matrix_world import leaks, reactions_on, roots, thread_bodies
from tests.numbers import CUSTOMER


class ClockedStack(Stack):
    """The demo stack with the bot on a clock the test moves."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.clock = ManualClock(time.time())

    async def start_bot(self) -> Empfang:
        self.bot = Empfang(self.settings, clock=self.clock)
        await self.bot.start()
        return self.bot


@pytest.fixture
async def world(
    synapse: LocalSynapse, tmp_path: Path
) -> AsyncIterator[tuple[ClockedStack, SupportRoom, RoomView]]:
    room = await create_support_room(synapse)
    settings = stack_settings(
        tmp_path, room, bot_port=free_port(), whatsapp={"waba_id": DEFAULT_WABA_ID}
    )
    stack = ClockedStack(settings)
    await stack.start()
    try:
        yield stack, room, RoomView(synapse, room.agent, room.room_id)
    finally:
        await stack.stop()


async def _body_with(view: RoomView, root: str, marker: str) -> str:
    async def probe() -> str | None:
        return next((b for b in await thread_bodies(view, root) if marker in b), None)

    return await wait_for(probe, within=30)


async def test_templates_and_the_window_on_matrix(
    world: tuple[ClockedStack, SupportRoom, RoomView],
) -> None:
    stack, room, view = world
    stack.sandbox.say("+" + CUSTOMER, "Hallo, wo bleibt mein Paket?")

    async def first_root() -> str | None:
        found = await roots(view, room.bot.user_id)
        return str(found[0]["event_id"]) if found else None

    root = await wait_for(first_root, within=30)
    await _body_with(view, root, "Paket")
    stack.clock.advance(SERVICE_WINDOW_SECONDS + 60)

    await view.reply_in_thread(root, "Es kommt morgen.")
    refusal = await _body_with(view, root, "Not sent")
    assert "24-hour window" in refusal and "!templates" in refusal

    async def closed_root() -> bool:
        events = await view.events()
        return any(
            "window closed" in str(e.get("content", {}).get("m.new_content", {}).get("body", ""))
            and e.get("content", {}).get("m.relates_to", {}).get("event_id") == root
            for e in events
        )

    assert await wait_for(closed_root, within=30)

    await view.reply_in_thread(root, "!template order_update de Erika")
    await _body_with(view, root, "takes 2 parameters, 1 were given")
    assert stack.sandbox.templates.sends == []

    await view.reply_in_thread(root, f"!template order_update de Erika +{CUSTOMER} | A-1")
    preview = await _body_with(view, root, "📨")
    assert "Hallo Erika" in preview and "Bestellung A-1" in preview
    [sent] = stack.sandbox.templates.sends
    assert sent["template"]["name"] == "order_update"
    assert [m["type"] for m in stack.sandbox.inbox(CUSTOMER)["messages"]] == ["template"]

    events = await view.events()
    shown = next(
        e["event_id"] for e in events if str(e.get("content", {}).get("body", "")).startswith("📨")
    )

    async def marked() -> list[str] | None:
        marks = reactions_on(await view.events(), shown)
        return marks if marks and marks[-1] in ("✓✓", "👁", "✓") else None

    assert await wait_for(marked, within=30)
    posted = [e for e in await view.events() if e.get("sender") == room.bot.user_id]
    assert leaks(posted, CUSTOMER) == [], "the bot posted the number (the agent typed it)"
