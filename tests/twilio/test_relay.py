"""Twilio as the provider, end to end: the Twilio fake ↔ the bot (production composition)
↔ the fake Slack. Customers write through the fake's signed webhooks; agents reply in Slack."""

from __future__ import annotations

from adapters.slack.blocks import STATUS_EMOJI
from adapters.twilio.provider import EMPTY_TWIML
from bot.domain import DeliveryStatus
from bot.texts import ENGLISH
from tests.masking import leaked_digits
from tests.numbers import CUSTOMER, CUSTOMER_2
from tests.slack.stack import AGENT, TS, wait_for
from tests.twilio.stack import TwilioStack

ANNA = "+" + CUSTOMER
BERT = "+" + CUSTOMER_2
TABLES = ("messages", "contacts", "status_events", "unsupported_events")


def stored(stack: TwilioStack) -> dict[str, int]:
    """What a delivery may leave: rows, and relay jobs (the retention purge is always due)."""
    found = {table: stack.rows(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}
    found["relay jobs"] = stack.rows("SELECT count(*) FROM jobs WHERE kind LIKE 'relay.%'")[0][0]
    return found


def no_leaks(stack: TwilioStack) -> None:
    wire = TS.sub("<ts>", stack.fake.wire_text())
    assert [leaked_digits(wire, n) for n in (CUSTOMER, CUSTOMER_2)] == [None, None]


async def _thread(stack: TwilioStack, number: str, text: str) -> str:
    answer = await stack.twilio.customer_says(number, text, name="Erika")
    assert (answer.status, answer.body) == (200, EMPTY_TWIML)
    thread = await stack.thread_of(number)
    await stack.lines_arrive(thread, [text])
    return thread


async def test_message_reaches_a_thread_and_the_reply_reaches_the_customer(
    stack: TwilioStack,
) -> None:
    thread = await _thread(stack, ANNA, "Hallo, ist mein Paket da?")
    reply = await stack.fake.agent_reply(thread, AGENT, "Ja, heute")
    await wait_for(lambda: stack.twilio.inbox(ANNA) == ["Ja, heute"])
    (form,) = stack.twilio.sent
    assert form["From"] == stack.twilio.sender
    assert form["StatusCallback"] == stack.twilio.webhook_url
    read = STATUS_EMOJI[DeliveryStatus.READ]
    await wait_for(lambda: stack.fake.reactions(reply) == [read], 15)
    assert all(c.status == 200 for c in stack.twilio.callbacks)
    no_leaks(stack)


async def test_closed_window_is_explained_in_the_thread(stack: TwilioStack) -> None:
    thread = await _thread(stack, BERT, "Guten Tag")
    stack.twilio.window_passes(BERT)
    reply = await stack.fake.agent_reply(thread, AGENT, "Entschuldigung, spät")
    failed = STATUS_EMOJI[DeliveryStatus.FAILED]
    await wait_for(lambda: stack.fake.reactions(reply) == [failed], 15)
    await stack.lines_arrive(thread, [ENGLISH.failure_twilio_window_closed.split("\n")[0]])
    assert stack.rows("SELECT status, error_code FROM messages WHERE direction = 'out'") == [
        ("failed", 63016)
    ]
    no_leaks(stack)


async def test_rate_limit_waits_and_the_reply_still_goes(stack: TwilioStack) -> None:
    thread = await _thread(stack, ANNA, "Hallo")
    stack.twilio.fail_next(429, 20429, "Too Many Requests", retry_after="1")
    await stack.fake.agent_reply(thread, AGENT, "Gleich")
    await wait_for(lambda: stack.twilio.inbox(ANNA) == ["Gleich"], 15)
    assert stack.twilio.refused == [(429, 20429)]


async def test_missing_and_forged_signatures_store_nothing(stack: TwilioStack) -> None:
    missing = await stack.twilio.customer_says(ANNA, "ohne", signature=None)
    forged = await stack.twilio.customer_says(ANNA, "falsch", signature="AAAA" * 7)
    assert (missing.status, forged.status) == (401, 403)
    assert stored(stack) == dict.fromkeys([*TABLES, "relay jobs"], 0)


async def test_a_message_to_another_sender_is_acknowledged_and_dropped(
    stack: TwilioStack,
) -> None:
    answer = await stack.twilio.customer_says(ANNA, "Falsche Nummer", to="whatsapp:+14155550000")
    assert answer.status == 200
    assert stored(stack) == dict.fromkeys([*TABLES, "relay jobs"], 0)


async def test_customer_media_is_fetched_with_basic_auth_into_the_thread(
    stack: TwilioStack,
) -> None:
    thread = await _thread(stack, ANNA, "Hallo")
    pdf = b"%PDF-1.4\n" + b"x" * 200 + b"\n%%EOF\n"
    answer = await stack.twilio.customer_says(ANNA, "Rechnung", media=(pdf, "application/pdf"))
    assert answer.status == 200
    shared = await wait_for(lambda: stack.fake.files.in_thread(thread), 15)
    assert shared[0].content == pdf
    assert stack.twilio.media_fetches == 1
    no_leaks(stack)
