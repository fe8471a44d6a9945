"""Privacy checklist item 18 (Art. 32): what Empfang logs while it relays a conversation both
ways holds no number and no message text, end to end, at DEBUG."""

from __future__ import annotations

import logging

import pytest

from tests.numbers import CUSTOMER, THIRD_PARTY
from tests.slack.stack import AGENT, SlackStack, leaks, wait_for

ANNA = "+" + CUSTOMER
CUSTOMER_LINES = [
    "Meine Kundennummer steht auf der Rechnung",
    f"Ruf meinen Mann an: +{THIRD_PARTY}",
]
AGENT_LINE = "Wir melden uns morgen bei Ihnen, Frau Kundin"


async def test_logs_of_a_relayed_conversation_hold_no_number_and_no_text(
    stack: SlackStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="empfang")  # libraries at INFO, as `empfang run`
    for line in CUSTOMER_LINES:
        stack.say(ANNA, line, name="Anna Kundin")
    thread = await stack.thread_of(ANNA)
    await stack.settled()
    await stack.fake.agent_reply(thread, AGENT, AGENT_LINE)
    await wait_for(lambda: [m["text"] for m in stack.inbox(ANNA)] == [AGENT_LINE])
    await stack.settled()

    logged = caplog.text
    assert any(r.name.startswith("empfang") for r in caplog.records), "the bot logged nothing"
    assert leaks(logged, [CUSTOMER, THIRD_PARTY]) == []
    for text in [*CUSTOMER_LINES, AGENT_LINE, "Anna Kundin"]:
        assert text not in logged
    for fragment in ("Kundennummer", "Rechnung", "melden uns morgen"):
        assert fragment not in logged
