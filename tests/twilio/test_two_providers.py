"""A Cloud API number and a Twilio number in one Empfang (``[[numbers]] provider``), the
sandbox hosting both: each customer's message reaches its thread through its provider's
webhook, each reply leaves through the provider of the number written to, from that
number, and each endpoint takes only its own numbers.

Before the provider router one process had one provider: a Twilio entry in ``[[numbers]]``
was refused, and a Twilio number's replies would have gone out through the Graph API.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from adapters.slack.blocks import STATUS_EMOJI
from adapters.twilio.provider import EMPTY_TWIML, NOT_SUPPORTED
from bot.domain import SERVICE_WINDOW_SECONDS, DeliveryStatus
from bot.sandbox.core import DEFAULT_WABA_ID
from bot.sandbox.payloads import BusinessNumber, contact_profile, messages_webhook
from bot.texts import ENGLISH
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_reactions import agent_reacts
from tests.masking import leaked_digits
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


StartTwoProviders = Callable[..., Awaitable[TwoProviderStack]]


@pytest_asyncio.fixture
async def start(tmp_path: Path, fast_slack: None) -> AsyncIterator[StartTwoProviders]:
    """Start the stack with ``NUMBERS`` and extra sections: ``await start(whatsapp={…})``."""
    stacks: list[TwoProviderStack] = []

    async def started(**sections: Any) -> TwoProviderStack:
        fake = FakeSlack(mode="socket", rate=1 / FAST_INTERVAL, ack_timeout=1.0)
        store = tmp_path / "empfang.sqlite3"
        stacks.append(TwoProviderStack(store, fake, numbers=NUMBERS, **sections))
        return await stacks[-1].start()

    yield started
    for stack in stacks:
        await stack.stop()


@pytest_asyncio.fixture
async def stack(start: StartTwoProviders) -> TwoProviderStack:
    return await start()


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


def customer_post(stack: TwoProviderStack, thread: str) -> str | None:
    """The ts of the bot's post showing the customer's message (not the root)."""
    posts = [m["ts"] for m in stack.fake.thread(thread) if m["ts"] != thread]
    return posts[0] if posts else None


def refusals(stack: TwoProviderStack, thread: str) -> list[str]:
    """The thread's posts saying Twilio cannot do something."""
    return [t for t in stack.fake.bot_texts(thread) if NOT_SUPPORTED in t]


def stored(stack: TwoProviderStack) -> dict[str, int]:
    return {table: stack.rows(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


async def writes_to_both(
    stack: TwoProviderStack, number: str, to_workshop: str, to_sales_text: str
) -> dict[str, str]:
    """``number`` writes to the Cloud number and to the Twilio number; its two threads."""
    assert stack.sandbox is not None
    stack.sandbox.say(number, to_workshop, to=WORKSHOP)
    to_sales(stack, number, to_sales_text)
    return await both_threads(stack, number)


async def both_threads(stack: TwoProviderStack, number: str) -> dict[str, str]:
    found: dict[str, str] = await wait_for(lambda: len(threads(stack, number)) == 2, 15) and (
        threads(stack, number)
    )
    return found


async def test_each_number_is_answered_through_its_own_provider(
    stack: TwoProviderStack,
) -> None:
    found = await writes_to_both(stack, ANNA, "Bremsen?", "Kombi?")
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
    found = await writes_to_both(stack, BERT, "Termin?", "Preis?")
    await stack.settled()
    stack.twilio.window_passes(BERT, SALES)

    failing = await stack.fake.agent_reply(found[SALES], AGENT, "Entschuldigung, spät")
    fine = await stack.fake.agent_reply(found[WORKSHOP], AGENT, "Montag")
    failed = STATUS_EMOJI[DeliveryStatus.FAILED]
    await wait_for(lambda: stack.fake.reactions(failing) == [failed], 15)
    await stack.lines_arrive(found[SALES], [ENGLISH.failure_twilio_window_closed.split("\n")[0]])
    await wait_for(lambda: cloud_texts(stack, BERT) == ["Montag"], 15)
    read = STATUS_EMOJI[DeliveryStatus.READ]
    await wait_for(lambda: stack.fake.reactions(fine) == [read], 15)
    assert stack.rows(
        "SELECT body, status, error_code FROM messages WHERE direction = 'out' ORDER BY id"
    ) == [("Entschuldigung, spät", "failed", 63016), ("Montag", "read", None)]
    assert leaks(stack.fake.wire_text(), [CUSTOMER_2]) == []


async def test_a_closed_window_on_the_twilio_number_suggests_no_template(
    start: StartTwoProviders,
) -> None:
    """The bot knows the window closed: a plain reply is not sent, and the thread does not
    suggest a template (none can leave from a Twilio number) but waiting, while the Cloud
    number's thread suggests one as before."""
    stack = await start(whatsapp={"waba_id": DEFAULT_WABA_ID})
    found = await writes_to_both(stack, BERT, "Termin?", "Preis?")
    await stack.settled()
    stack.clock.advance(SERVICE_WINDOW_SECONDS + 60)
    await stack.fake.agent_reply(found[SALES], AGENT, "Zu spät?")
    await stack.fake.agent_reply(found[WORKSHOP], AGENT, "Zu spät?")
    wait = ENGLISH.window_suggest_wait
    await wait_for(lambda: any(wait in t for t in stack.fake.bot_texts(found[SALES])), 15)
    listed = ENGLISH.window_suggest_list.split(";")[0]  # Slack escapes the <name> after it
    await wait_for(lambda: any(listed in t for t in stack.fake.bot_texts(found[WORKSHOP])), 15)
    assert not any(wait in t for t in stack.fake.bot_texts(found[WORKSHOP]))
    assert stack.twilio.sent == []


async def test_the_twilio_endpoint_refuses_missing_and_forged_signatures(
    stack: TwoProviderStack,
) -> None:
    missing = await stack.twilio.customer_says(ANNA, "ohne", to=SALES, signature=None)
    forged = await stack.twilio.customer_says(ANNA, "falsch", to=SALES, signature="AAAA" * 7)
    assert (missing.status, forged.status) == (401, 403)
    assert stored(stack) == dict.fromkeys(TABLES, 0)


async def test_each_endpoint_takes_only_its_own_numbers(
    stack: TwoProviderStack, caplog: pytest.LogCaptureFixture
) -> None:
    """A Twilio webhook to the Cloud number's phone number and a Cloud webhook naming the
    Twilio sender are acknowledged, counted as not ours, stored nowhere, and logged by the
    number's last digits only, without content."""
    caplog.set_level(logging.INFO)
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
    dropped = [r.getMessage() for r in caplog.records if "not configured here" in r.getMessage()]
    assert len(dropped) == 2
    assert "…0100" in dropped[0] and "…8886" in dropped[1]
    for text in ("Falsche Tür", "Auch falsch", "15555550100", "14155238886"):
        assert text not in caplog.text
    assert leaked_digits(caplog.text, CUSTOMER) is None


async def test_what_twilio_cannot_do_is_refused_in_its_threads_only(
    start: StartTwoProviders,
) -> None:
    """A reaction and a template: the Cloud number sends both, the Twilio number's thread
    says why neither was sent, and nothing reaches Twilio. The template is refused before
    anything is queued (no preview in the thread, no failed send), as for a paused one."""
    stack = await start(whatsapp={"waba_id": DEFAULT_WABA_ID})
    assert stack.sandbox is not None
    found = await writes_to_both(stack, ANNA, "Bremsen?", "Kombi?")
    await wait_for(lambda: stack.rows("SELECT count(*) FROM message_templates")[0][0], 15)
    for thread in found.values():
        line = await wait_for(partial(customer_post, stack, thread), 15)
        await agent_reacts(stack.fake, line, AGENT, "thumbsup")
        await stack.fake.agent_reply(thread, AGENT, "!template hello_world en_US")
    await wait_for(lambda: len(refusals(stack, found[SALES])) == 1, 15)
    await stack.lines_arrive(found[SALES], [ENGLISH.template_not_from_this_number], 15)
    await stack.settled()

    reacted = [
        m for m in stack.sandbox.inbox(ANNA, WORKSHOP)["messages"] if m["type"] == "reaction"
    ]
    assert [m["content"]["emoji"] for m in reacted] == ["👍"]
    assert [s["template"]["name"] for s in stack.sandbox.templates.sends] == ["hello_world"]
    assert stack.twilio.sent == []
    assert refusals(stack, found[WORKSHOP]) == []
    assert stack.rows("SELECT count(*) FROM messages WHERE kind = 'template'") == [(1,)]


async def test_customers_files_are_fetched_from_the_provider_that_brought_them(
    start: StartTwoProviders,
) -> None:
    stack = await start()
    assert stack.sandbox is not None
    pdf = b"%PDF-1.4\n" + b"x" * 200 + b"\n%%EOF\n"
    put = stack.sandbox.put_on_phone(pdf, "application/pdf", "rechnung.pdf")
    for business in (WORKSHOP, SALES):
        stack.sandbox.send_message(
            {"from": ANNA, "to": business, "type": "document", "media_id": put["media_id"]}
        )
    found = await both_threads(stack, ANNA)
    for thread in found.values():
        shared = await wait_for(partial(stack.fake.files.in_thread, thread), 15)
        assert shared[0].content == pdf
    assert stack.twilio.media_fetches == 1  # the other through the Graph API's media URL
