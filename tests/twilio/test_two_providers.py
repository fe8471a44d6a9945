"""A Cloud API number and a Twilio number in one Empfang (``[[numbers]] provider``), the
sandbox hosting both: each customer's message reaches its thread through its provider's
webhook, each reply leaves through the provider of the number written to, from that
number, and each endpoint takes only its own numbers.

Before the provider router one process had one provider: a Twilio entry in ``[[numbers]]``
was refused, and a Twilio number's replies would have gone out through the Graph API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from adapters.slack.blocks import STATUS_EMOJI
from adapters.twilio.provider import EMPTY_TWIML
from bot.domain import DeliveryStatus
from bot.sandbox.payloads import BusinessNumber, contact_profile, messages_webhook
from bot.texts import ENGLISH
from tests.fakes.slack import FakeSlack
from tests.numbers import CUSTOMER, CUSTOMER_2
from tests.slack.conftest import FAST_INTERVAL, fast_slack
from tests.slack.stack import AGENT, leaks, wait_for
from tests.twilio.stack import TwoProviderStack

__all__ = ["fast_slack"]

ANNA = "+" + CUSTOMER
BERT = "+" + CUSTOMER_2
WORKSHOP = "106540352242922"
"""On Meta's Cloud API (the sandbox's Graph side): the Slack stack's first number."""
SALES = "whatsapp:+14155238886"
"""On Twilio (the sandbox's Twilio account)."""
NUMBERS = [
    {"phone_number_id": WORKSHOP, "name": "Werkstatt"},
    {"provider": "twilio", "from_number": SALES, "name": "Verkauf"},
]
TABLES = ("messages", "contacts", "status_events", "unsupported_events")


@pytest_asyncio.fixture
async def stack(tmp_path: Path, fast_slack: None) -> AsyncIterator[TwoProviderStack]:
    fake = FakeSlack(mode="socket", rate=1 / FAST_INTERVAL, ack_timeout=1.0)
    running = await TwoProviderStack(tmp_path / "empfang.sqlite3", fake, numbers=NUMBERS).start()
    yield running
    await running.stop()


def threads(stack: TwoProviderStack, number: str) -> dict[str, str]:
    """A customer's threads, by the business number written to."""
    found = stack.rows(
        "SELECT c.number_id, c.thread_id FROM conversations c"
        " JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = ? AND c.thread_id IS NOT NULL",
        number.lstrip("+"),
    )
    return dict(found)


def to_sales(stack: TwoProviderStack, number: str, text: str) -> None:
    """A customer writes to the Twilio number through the sandbox's driver."""
    assert stack.sandbox is not None
    stack.sandbox.send_message({"from": number, "to": SALES, "type": "text", "text": text})


def cloud_texts(stack: TwoProviderStack, number: str) -> list[str]:
    assert stack.sandbox is not None
    messages: list[dict[str, Any]] = stack.sandbox.inbox(number, WORKSHOP)["messages"]
    return [str(m["text"]) for m in messages]


def stored(stack: TwoProviderStack) -> dict[str, int]:
    return {table: stack.rows(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


async def both_threads(stack: TwoProviderStack, number: str) -> dict[str, str]:
    found: dict[str, str] = await wait_for(lambda: len(threads(stack, number)) == 2, 15) and (
        threads(stack, number)
    )
    return found


async def test_each_number_is_answered_through_its_own_provider(
    stack: TwoProviderStack,
) -> None:
    assert stack.sandbox is not None
    stack.sandbox.say(ANNA, "Bremsen?", to=WORKSHOP)
    to_sales(stack, ANNA, "Kombi?")
    found = await both_threads(stack, ANNA)
    workshop, sales = found[WORKSHOP], found[SALES]
    await stack.lines_arrive(workshop, ["Bremsen?"])
    await stack.lines_arrive(sales, ["Kombi?"])

    to_workshop = await stack.fake.agent_reply(workshop, AGENT, "Morgen um acht")
    to_sales_reply = await stack.fake.agent_reply(sales, AGENT, "29.900 Euro")
    read = STATUS_EMOJI[DeliveryStatus.READ]
    await wait_for(lambda: stack.fake.reactions(to_sales_reply) == [read], 15)
    await wait_for(lambda: stack.fake.reactions(to_workshop) == [read], 15)
    await stack.settled()

    assert cloud_texts(stack, ANNA) == ["Morgen um acht"]  # through the Graph API
    assert [(f["From"], f["To"], f["Body"]) for f in stack.twilio.sent] == [
        (SALES, f"whatsapp:{ANNA}", "29.900 Euro")  # through Twilio, from the Twilio number
    ]
    assert stack.twilio.chat_view(ANNA, SALES)["messages"][0]["status"] == "read"
    assert all(callback.status == 200 for callback in stack.twilio.callbacks)
    assert stack.lines(workshop) == ["Bremsen?"] and stack.lines(sales) == ["Kombi?"]
    assert leaks(stack.fake.wire_text(), [CUSTOMER]) == []


async def test_a_twilio_failure_is_explained_while_the_cloud_number_still_answers(
    stack: TwoProviderStack,
) -> None:
    assert stack.sandbox is not None
    stack.sandbox.say(BERT, "Termin?", to=WORKSHOP)
    to_sales(stack, BERT, "Preis?")
    found = await both_threads(stack, BERT)
    await stack.settled()
    stack.twilio.window_passes(BERT, SALES)

    failing = await stack.fake.agent_reply(found[SALES], AGENT, "Entschuldigung, spät")
    fine = await stack.fake.agent_reply(found[WORKSHOP], AGENT, "Montag")
    failed = STATUS_EMOJI[DeliveryStatus.FAILED]
    await wait_for(lambda: stack.fake.reactions(failing) == [failed], 15)
    await stack.lines_arrive(found[SALES], [ENGLISH.failure_window_closed.split("\n")[0]])
    await wait_for(lambda: cloud_texts(stack, BERT) == ["Montag"], 15)
    assert failed not in stack.fake.reactions(fine)
    assert stack.rows(
        "SELECT body, status, error_code FROM messages WHERE direction = 'out' ORDER BY id"
    ) == [("Entschuldigung, spät", "failed", 63016), ("Montag", "read", None)]
    assert leaks(stack.fake.wire_text(), [CUSTOMER_2]) == []


async def test_the_twilio_endpoint_refuses_missing_and_forged_signatures(
    stack: TwoProviderStack,
) -> None:
    missing = await stack.twilio.customer_says(ANNA, "ohne", to=SALES, signature=None)
    forged = await stack.twilio.customer_says(ANNA, "falsch", to=SALES, signature="AAAA" * 7)
    assert (missing.status, forged.status) == (401, 403)
    assert stored(stack) == dict.fromkeys(TABLES, 0)


async def test_each_endpoint_takes_only_its_own_numbers(stack: TwoProviderStack) -> None:
    """A Twilio webhook to the Cloud number's phone number and a Cloud webhook naming the
    Twilio sender are acknowledged, counted as not ours, and stored nowhere."""
    assert stack.sandbox is not None and stack.bot is not None
    cloud_number = "whatsapp:+" + stack.sandbox.business.display_phone_number
    answer = await stack.twilio.customer_says(ANNA, "Falsche Tür", to=cloud_number)
    assert (answer.status, answer.body) == (200, EMPTY_TWIML)
    as_cloud = BusinessNumber(
        waba_id=stack.sandbox.business.waba_id,
        phone_number_id=SALES,
        display_phone_number="14155238886",
    )
    message = {"from": CUSTOMER, "id": "wamid.NOT-OURS", "timestamp": "1749416383"}
    stack.sandbox.post_webhook(
        messages_webhook(
            as_cloud,
            [contact_profile(CUSTOMER, "Anna")],
            [{**message, "type": "text", "text": {"body": "Auch falsch"}}],
        )
    )
    assert await stack.sandbox.idle(10)
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"{stack.bot.url}/metrics")).text
    assert 'empfang_messages_total{outcome="not_ours"} 2.0' in metrics
    assert stored(stack) == dict.fromkeys(TABLES, 0)
