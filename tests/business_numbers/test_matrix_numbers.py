"""Two business numbers on a real Synapse: one customer, two threads, each root naming its
number, each reply reaching the customer's chat with the number it answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config.numbers import NumberEntry
from bot.demo.stack import wait_for
from bot.demo.synapse import LocalSynapse
from tests.business_numbers.numbered_stack import numbered_stack
from tests.e2e.matrix_world import leaks, roots, wait_for_thread_bodies
from tests.numbers import CUSTOMER

ANNA = "+" + CUSTOMER
WORKSHOP = "106540352242922"
SALES = "106540352249999"


async def test_one_customer_two_numbers_two_threads_on_synapse(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    numbers = [
        NumberEntry(phone_number_id=WORKSHOP, name="Werkstatt"),
        NumberEntry(phone_number_id=SALES, name="Verkauf"),
    ]
    async with numbered_stack(synapse, tmp_path, numbers) as (stack, view, bot):
        stack.sandbox.say(ANNA, "Die Bremsen quietschen", to=WORKSHOP)
        stack.sandbox.say(ANNA, "Was kostet der Kombi?", to=SALES)

        async def two_roots() -> dict[str, str] | None:
            found = {
                str(e["content"]["body"]): str(e["event_id"])
                for e in await roots(view, bot.user_id)
            }
            return found if len(found) == 2 else None

        by_body = await wait_for(two_roots, within=30)
        by_name = {
            name: event
            for body, event in by_body.items()
            for name in ("Werkstatt", "Verkauf")
            if f"Written to: {name}" in body
        }
        assert set(by_name) == {"Werkstatt", "Verkauf"}
        workshop, sales = by_name["Werkstatt"], by_name["Verkauf"]
        assert await wait_for_thread_bodies(view, workshop, 1) == ["Die Bremsen quietschen"]
        assert await wait_for_thread_bodies(view, sales, 1) == ["Was kostet der Kombi?"]

        await view.reply_in_thread(sales, "29.900 Euro")
        await view.reply_in_thread(workshop, "Kommen Sie morgen vorbei")

        async def inboxes() -> dict[str, list[str]] | None:
            shown = {
                number: [str(m["text"]) for m in stack.sandbox.inbox(ANNA, number)["messages"]]
                for number in (WORKSHOP, SALES)
            }
            return shown if all(shown.values()) else None

        assert await wait_for(inboxes, within=30) == {
            WORKSHOP: ["Kommen Sie morgen vorbei"],
            SALES: ["29.900 Euro"],
        }
        events: list[dict[str, Any]] = await view.events()
        assert leaks(events, CUSTOMER) == []
