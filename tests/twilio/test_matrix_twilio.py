"""A Cloud number and a Twilio number on a real Synapse (the demo's assembly): the Twilio
customer's thread opens in the room, the agent's reply leaves through Twilio from the Twilio
number, and its read receipt (a status callback) shows as 👁 on the reply."""

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
SALES = "whatsapp:+14155238886"


async def test_a_twilio_number_beside_a_cloud_number_on_synapse(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    numbers = [
        NumberEntry(phone_number_id=WORKSHOP, name="Werkstatt"),
        NumberEntry(provider="twilio", from_number=SALES, name="Verkauf"),
    ]
    async with numbered_stack(synapse, tmp_path, numbers) as (stack, view, bot):
        stack.sandbox.send_message({"from": ANNA, "to": SALES, "type": "text", "text": "Kombi?"})

        async def root() -> str | None:
            found = await roots(view, bot.user_id)
            return str(found[0]["event_id"]) if found else None

        thread = await wait_for(root, within=30)
        assert await wait_for_thread_bodies(view, thread, 1) == ["Kombi?"]
        reply = await view.reply_in_thread(thread, "29.900 Euro")

        async def read_mark() -> bool:
            relations = [
                e.get("content", {}).get("m.relates_to", {})
                for e in await view.events()
                if e.get("type") == "m.reaction"  # a replaced mark is redacted: no content
            ]
            return {"event_id": reply, "key": "👁", "rel_type": "m.annotation"} in relations

        await wait_for(read_mark, within=30)
        sent = [(f["From"], f["Body"]) for f in stack.sandbox.twilio.sent]
        assert sent == [(SALES, "29.900 Euro")]
        assert stack.sandbox.inbox(ANNA, WORKSHOP)["messages"] == []
        events: list[dict[str, Any]] = await view.events()
        assert leaks(events, CUSTOMER) == []
