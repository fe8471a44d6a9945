"""Zammad sink against the local fake of Zammad's REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.store import Store
from tests.cases.conftest import Desk, sinks_from
from tests.fakes.zammad import STATES, FakeZammad
from tests.numbers import CUSTOMER


def zammad_table(fake: FakeZammad, **keys: Any) -> dict[str, Any]:
    return {"type": "zammad", "name": "helpdesk", "url": fake.url, "token": fake.token, **keys}


@pytest.fixture
async def desk(store: Store, zammad: FakeZammad) -> AsyncIterator[Desk]:
    built = Desk(store, sinks_from(zammad_table(zammad)))
    yield built
    await built.close()


async def conversation(desk: Desk) -> None:
    await desk.customer_says("Mein Paket ist beschädigt, Tel. 0151 12345678")
    await desk.settle()
    await desk.agent_says("Das tut uns leid, wir schicken Ersatz")
    await desk.settle()
    await desk.agent_says("!close")
    await desk.settle()


async def command(desk: Desk, argument: str = "") -> str:
    async with desk.store.transaction() as tx:
        return await desk.cases.command(tx, 1, argument, "Alice")


async def test_ticket_created_noted_and_closed(desk: Desk, zammad: FakeZammad) -> None:
    await conversation(desk)
    assert [(r.method, r.path) for r in zammad.requests] == [
        ("POST", "/api/v1/tickets"),
        ("POST", "/api/v1/ticket_articles"),
        ("POST", "/api/v1/ticket_articles"),
        ("POST", "/api/v1/ticket_articles"),
        ("PUT", "/api/v1/tickets/1"),
    ]
    assert {r.authorization for r in zammad.requests} == {f"Token token={zammad.token}"}
    create = zammad.requests[0].body
    pseudonym = (await desk.ledger())[0].pseudonym
    assert create["group"] == "Users"
    assert create["title"] == f"WhatsApp {pseudonym} (conversation 1)"
    assert create["customer"] == {
        "email": f"{pseudonym.lower()}@whatsapp.invalid",
        "firstname": "WhatsApp",
        "lastname": pseudonym,
    }
    notes = zammad.notes(1)
    assert [(n["subject"], n["type"], n["internal"]) for n in notes] == [
        ("Conversation opened", "note", True),
        ("Message from the customer", "note", True),
        ("Reply sent to the customer", "note", True),
        ("Conversation closed", "note", True),
    ]
    assert "Das tut uns leid" in notes[2]["body"]
    assert all(CUSTOMER[2:] not in repr(r.body) for r in zammad.requests)
    assert zammad.tickets[1]["state_id"] == STATES["closed"]
    assert await desk.sql("SELECT case_id, case_label, closed FROM case_links") == [
        ("1", "31001", 1)
    ]
    assert {row.case_id for row in await desk.ledger()} == {"1"}
    answer = await command(desk)
    assert "case 31001" in answer and f"{zammad.url}/#ticket/zoom/1" in answer
    assert "(closed)" in answer


async def test_failed_note_is_retried_then_the_ticket_closed(
    desk: Desk, zammad: FakeZammad
) -> None:
    await desk.customer_says("Hallo")
    await desk.settle()
    await desk.agent_says("!close")
    zammad.fail_next(503, times=2)
    await desk.settle()
    closing = [n for n in zammad.notes(1) if n["subject"] == "Conversation closed"]
    assert len(closing) == 1 and len(zammad.tickets) == 1
    assert zammad.tickets[1]["state_id"] == STATES["closed"]
    assert (await desk.ledger())[-1].attempts == 3


async def test_failed_close_is_retried_without_repeating_the_note(
    desk: Desk, zammad: FakeZammad
) -> None:
    await desk.customer_says("Hallo")
    await desk.settle()
    await desk.agent_says("!close")
    zammad.fail_next(502, method="PUT")
    await desk.settle()
    assert [(r.method, r.path) for r in zammad.requests[-3:]] == [
        ("POST", "/api/v1/ticket_articles"),
        ("PUT", "/api/v1/tickets/1"),
        ("PUT", "/api/v1/tickets/1"),
    ]
    closing = [n for n in zammad.notes(1) if n["subject"] == "Conversation closed"]
    assert len(closing) == 1
    assert zammad.tickets[1]["state_id"] == STATES["closed"]
    assert (await desk.ledger())[-1].attempts == 2


async def test_wrong_token_is_refused_and_alerted(store: Store, zammad: FakeZammad) -> None:
    desk = Desk(store, sinks_from(zammad_table(zammad, token="not-the-token")))
    await desk.customer_says("Hallo")
    await desk.settle()
    await desk.close()
    assert zammad.tickets == {}
    assert [row.outcome for row in await desk.ledger()] == ["dead_lettered", "dead_lettered"]
    assert "HTTP 401 (Can't find User for Token)" in desk.alerts[0].text


async def test_validation_error_quotes_error_human(store: Store, zammad: FakeZammad) -> None:
    desk = Desk(store, sinks_from(zammad_table(zammad, group="Nonexistent")))
    await desk.customer_says("Hallo")
    await desk.settle()
    await desk.close()
    assert "HTTP 422 (No lookup value found for 'group': 'Nonexistent')" in desk.alerts[0].text


async def test_case_links_an_existing_ticket(desk: Desk, zammad: FakeZammad) -> None:
    await desk.customer_says("Hallo")
    await desk.settle()
    existing = zammad.add_ticket("Reklamation von gestern")
    assert "not a case id" in await command(desk, "gültig?")
    assert "Zammad ticket id is the number" in await command(desk, "abc")
    answer = await command(desk, f"#{existing}")
    assert f"Linked case {existing} in helpdesk — {zammad.url}/#ticket/zoom/{existing}" in answer
    assert "(was 31001)" in answer
    await desk.agent_says("Ich habe Ihre Reklamation gefunden")
    await desk.settle()
    assert [n["subject"] for n in zammad.notes(existing)] == ["Reply sent to the customer"]
    assert f"case {existing}" in await command(desk)


async def test_fake_answers_like_zammad(zammad: FakeZammad) -> None:
    """The fake's own contract, so the sink's tests mean something."""
    ticket = {"title": "t", "group": "Users", "customer": {"email": "a@b.example"}}
    async with httpx.AsyncClient(base_url=zammad.url) as client:
        anonymous = await client.post("/api/v1/tickets", json=ticket)
        wrong = await client.post(
            "/api/v1/tickets", json=ticket, headers={"Authorization": "Token token=nope"}
        )
        auth = {"Authorization": f"Token token={zammad.token}"}
        created = await client.post("/api/v1/tickets", json=ticket, headers=auth)
        missing = await client.put("/api/v1/tickets/99", json={"state": "closed"}, headers=auth)
        bad_state = await client.put("/api/v1/tickets/1", json={"state": "gone"}, headers=auth)
    assert anonymous.status_code == 403
    assert anonymous.json() == {
        "error": "Authentication required",
        "error_human": "Authentication required",
    }
    assert wrong.status_code == 401 and wrong.headers["X-Failure"] == "Can't find User for Token"
    assert created.status_code == 201 and created.json()["number"] == "31001"
    assert missing.status_code == 404
    assert missing.json()["error_human"] == "Couldn't find Ticket with 'id'=99"
    assert bad_state.status_code == 422
