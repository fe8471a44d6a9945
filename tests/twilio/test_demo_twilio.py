"""``empfang demo``'s sales line is a Twilio number: its answer leaves through the sandbox's
Twilio side from that number, the workshop's through the Graph API."""

from __future__ import annotations

from pathlib import Path

from bot.demo.run import (
    AGENT_TEXT,
    DEMO_CUSTOMER,
    SALES,
    SALES_ANSWER,
    WORKSHOP,
    demo_rooms,
    demo_settings,
    scripted,
)
from bot.demo.stack import Stack
from bot.demo.synapse import LocalSynapse


async def test_the_demo_answers_its_sales_line_through_twilio(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    rooms = await demo_rooms(synapse, tag="")  # the homeserver is shared with other tests
    async with Stack(demo_settings(tmp_path, rooms)) as stack:
        assert await scripted(stack, rooms) == 0
        sent = [(form["From"], form["Body"]) for form in stack.sandbox.twilio.sent]
        cloud = stack.sandbox.inbox(DEMO_CUSTOMER, WORKSHOP)["messages"]
    assert sent == [(SALES, SALES_ANSWER)]
    assert [message["text"] for message in cloud] == [AGENT_TEXT]
