"""Webhook sink over real HTTP: signature, idempotent retries, order, what may be sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cases.conftest import WEBHOOK_SECRET, Desk, Receiver, sinks_from
from tests.numbers import CUSTOMER

README = Path(__file__).parents[2] / "README.md"


def webhook(receiver: Receiver, **keys: Any) -> dict[str, Any]:
    return {
        "type": "webhook",
        "name": "crm",
        "url": receiver.url,
        "secret": WEBHOOK_SECRET,
        **keys,
    }


@pytest.fixture
async def desk(store: Any, receiver: Receiver) -> AsyncIterator[Desk]:
    built = Desk(store, sinks_from(webhook(receiver)))
    yield built
    await built.close()


def test_readme_documents_the_signature_and_key_the_receiver_checks() -> None:
    """The receiver fixture was written from these sentences; keep them true."""
    text = README.read_text(encoding="utf-8")
    assert "X-Empfang-Signature: sha256=" in text
    assert "HMAC-SHA256 of the **raw request body**" in text
    assert "Idempotency-Key" in text and "stays the same on every retry" in text


async def test_receiver_verifies_every_signature_and_a_tampered_body_fails(
    desk: Desk, receiver: Receiver
) -> None:
    await desk.customer_says("Guten Tag, meine Bestellung 4711 fehlt")
    await desk.settle()
    assert receiver.bad_signatures == 0
    assert [e["event"] for e in receiver.events] == ["opened", "message_in"]
    key, raw = receiver.attempts[1]
    assert json.loads(raw)["id"] == key
    # The same check refuses a body changed in transit.
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    tampered = raw.replace(b"4711", b"4712")
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            receiver.url,
            content=tampered,
            headers={"X-Empfang-Signature": signature, "Idempotency-Key": "x"},
        )
    assert answer.status_code == 401 and receiver.bad_signatures == 1


async def test_500_then_200_is_received_once_with_the_same_key_and_order_is_kept(
    desk: Desk, receiver: Receiver
) -> None:
    receiver.fail_after_storing = 1  # stores the first event, then answers 500
    await desk.customer_says("Erste Nachricht")
    await desk.settle()
    await desk.customer_says("Zweite Nachricht")
    await desk.settle()
    await desk.agent_says("Wir kümmern uns darum")
    await desk.settle()
    await desk.agent_says("!close")
    await desk.settle()

    first_key, first_body = receiver.attempts[0]
    retry_key, retry_body = receiver.attempts[1]
    assert retry_key == first_key and retry_body == first_body, "a retry repeats key and bytes"
    events = receiver.events
    assert [e["event"] for e in events] == [
        "opened",
        "message_in",
        "message_in",
        "message_out",
        "closed",
    ]
    texts = [m["text"] for e in events for m in e["messages"]]
    assert texts == ["Erste Nachricht", "Zweite Nachricht", "Wir kümmern uns darum"]
    assert len({e["id"] for e in events}) == 5
    assert events[1]["case_id"] == "C-1", "the case id the receiver answered is linked"
    ledger = await desk.ledger()
    assert [(row.event, row.attempts, row.outcome) for row in ledger] == [
        ("opened", 2, "delivered"),
        ("message_in", 1, "delivered"),
        ("message_in", 1, "delivered"),
        ("message_out", 1, "delivered"),
        ("closed", 1, "delivered"),
    ]


async def test_number_is_never_sent_without_include_phone(desk: Desk, receiver: Receiver) -> None:
    await desk.customer_says("Bitte ruft mich an: 0151 12345678 oder +49 151 1234 5678")
    await desk.settle()
    raw = b"".join(body for _, body in receiver.attempts).decode()
    assert not re.search(r"1\D?5\D?1\D?1\D?2\D?3\D?4\D?5\D?6\D?7\D?8", raw)
    event = receiver.events[1]
    assert event["conversation"]["requester"].startswith("K-")
    assert event["conversation"]["phone"] is None
    assert "••" in event["messages"][0]["text"]
    assert event["data_categories"] == ["pseudonym", "text"]


async def test_include_phone_sends_the_number_and_the_text_as_written(
    store: Any, receiver: Receiver
) -> None:
    desk = Desk(store, sinks_from(webhook(receiver, include_phone=True)))
    await desk.customer_says("Meine Nummer: 0151 12345678")
    await desk.settle()
    await desk.close()
    event = receiver.events[1]
    assert event["conversation"]["phone"] == f"+{CUSTOMER}"
    assert event["messages"][0]["text"] == "Meine Nummer: 0151 12345678"
    assert event["data_categories"] == ["phone", "text"]
    assert (await desk.ledger())[1].categories == "phone,text"


async def test_wrong_secret_is_dead_lettered_at_once_with_an_alert(
    store: Any, receiver: Receiver
) -> None:
    receiver.secret = b"the-receiver-expects-another-secret"
    desk = Desk(store, sinks_from(webhook(receiver)))
    await desk.customer_says("Hallo")
    await desk.settle()
    await desk.close()
    jobs = [job for job in await desk.jobs() if job.kind == "case.transfer"]
    assert [(job.state, job.attempts) for job in jobs] == [("dead", 1), ("dead", 1)]
    assert [row.outcome for row in await desk.ledger()] == ["dead_lettered", "dead_lettered"]
    alert = desk.alerts[0]
    pseudonym = (await desk.ledger())[0].pseudonym
    assert pseudonym in alert.text and "crm" in alert.text and "HTTP 401" in alert.text
    assert CUSTOMER not in alert.text
    assert alert.thread_id == await desk.thread_of()
    answer = await _case_command(desk, "")
    assert "2 transfer(s) failed for good" in answer


async def test_transcript_mode_sends_one_event_when_the_conversation_closes(
    store: Any, receiver: Receiver
) -> None:
    desk = Desk(store, sinks_from(webhook(receiver, transfer="transcript")))
    await desk.customer_says("Frage")
    await desk.settle()
    await desk.agent_says("Antwort")
    await desk.settle()
    assert receiver.events == []
    await desk.agent_says("!close")
    await desk.settle()
    await desk.close()
    (event,) = receiver.events
    assert event["event"] == "transcript"
    assert [(m["direction"], m["text"]) for m in event["messages"]] == [
        ("in", "Frage"),
        ("out", "Antwort"),
    ]
    assert event["conversation"]["closed_at"] is not None


async def _case_command(desk: Desk, argument: str) -> str:
    async with desk.store.transaction() as tx:
        return await desk.cases.command(tx, 1, argument, "Alice")
