"""The webhook endpoint over real HTTP on loopback, storing into a real SQLite file and a real
PostgreSQL database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.whatsapp.signature import sign
from bot.app import Empfang
from bot.config import Settings
from bot.domain import Sender
from bot.ids import ChatMessageId, ProviderMessageId, WaId
from tests.conftest import SECRETS
from tests.numbers import CUSTOMER
from tests.support.store import peek, table_names
from tests.whatsapp_fixtures import MESSAGES, STATUSES, body, envelope

MESSAGES_SENDER = Sender(wa_id=WaId("4915112345678"))

SECRET = SECRETS["app_secret"].encode()
OUT_ID = ProviderMessageId("wamid.out1")


@pytest.fixture
async def bot(make_settings: Callable[..., Settings]) -> AsyncIterator[Empfang]:
    """The bot on a SQLite file (other modules' tests read it with :func:`rows`)."""
    app = Empfang(make_settings(server={"max_body_bytes": 4096}), intake_only=True)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def either_bot(
    make_settings: Callable[..., Settings], store_target: Path | str
) -> AsyncIterator[Empfang]:
    """The bot on each backend: this module's tests run on SQLite and PostgreSQL."""
    store = {"path": str(store_target)} if isinstance(store_target, Path) else {"url": store_target}
    app = Empfang(make_settings(server={"max_body_bytes": 4096}, store=store), intake_only=True)
    await app.start()
    yield app
    await app.stop()


async def post(app: Empfang, raw: bytes, signature: str | None = "sign") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(SECRET, raw)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with httpx.AsyncClient() as client:
        return await client.post(f"{app.url}/webhooks/whatsapp", content=raw, headers=headers)


def rows(app: Empfang, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(app.settings.store.path) as conn:
        return conn.execute(sql).fetchall()


async def stored_rows(app: Empfang, sql: str) -> list[tuple[Any, ...]]:
    """Like :func:`rows`, on either backend."""
    return await peek(app.settings.store.database, sql)


async def test_handshake_right_and_wrong_token(either_bot: Empfang) -> None:
    async with httpx.AsyncClient() as client:
        ok = await client.get(
            f"{either_bot.url}/webhooks/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.challenge": "1158201444",
                "hub.verify_token": SECRETS["verify_token"],
            },
        )
        wrong = await client.get(
            f"{either_bot.url}/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"},
        )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert wrong.status_code == 403


@pytest.mark.parametrize(
    ("signature", "status", "reason"),
    [
        (None, 401, "missing"),
        ("sha256=" + "0" * 64, 403, "does not match"),
        ("sha1=abc", 403, "not a sha256"),
    ],
)
async def test_bad_signatures_store_nothing(
    either_bot: Empfang, signature: str | None, status: int, reason: str
) -> None:
    response = await post(either_bot, body(envelope(messages=[MESSAGES["text"]])), signature)
    assert response.status_code == status and reason in response.text
    assert await stored_rows(either_bot, "SELECT count(*) FROM messages") == [(0,)]
    assert await stored_rows(either_bot, "SELECT count(*) FROM jobs") == [(0,)]


async def test_signature_over_other_bytes_is_refused(either_bot: Empfang) -> None:
    """Re-serialised JSON is not the signed body: the check is over the raw bytes."""
    doc = envelope(messages=[MESSAGES["text"]])
    signed = body(doc)
    spaced = signed.replace(b",", b", ")
    response = await post(either_bot, spaced, sign(SECRET, signed))
    assert response.status_code == 403


async def test_valid_delivery_is_stored_with_its_job_and_replay_creates_nothing(
    either_bot: Empfang,
) -> None:
    raw = body(envelope(messages=[MESSAGES["text"], MESSAGES["image"]]))
    assert (await post(either_bot, raw)).status_code == 200
    assert await stored_rows(either_bot, "SELECT count(*) FROM messages") == [(2,)]
    assert (
        await stored_rows(either_bot, "SELECT kind FROM jobs ORDER BY id")
        == [("relay.inbound",)] * 2
    )
    for _ in range(3):
        assert (await post(either_bot, raw)).status_code == 200
    assert await stored_rows(either_bot, "SELECT count(*) FROM messages") == [(2,)]
    assert await stored_rows(either_bot, "SELECT count(*) FROM jobs") == [(2,)]
    assert await stored_rows(either_bot, "SELECT count(*) FROM contacts") == [(1,)]


async def test_number_is_stored_once_in_contacts_only(either_bot: Empfang) -> None:
    raw = body(envelope(messages=[dict(MESSAGES["text"], **{"from": CUSTOMER})]))
    assert (await post(either_bot, raw)).status_code == 200
    database = either_bot.settings.store.database
    dump = [
        repr(row)
        for t in await table_names(database)
        for row in await peek(database, f"SELECT * FROM {t}")
    ]
    assert "\n".join(dump).count(CUSTOMER) == 1
    assert await stored_rows(either_bot, "SELECT wa_id FROM contacts") == [(CUSTOMER,)]


async def agent_reply(bot: Empfang) -> int:
    """An agent's reply stored for the test customer, not yet sent."""
    async with bot.store.transaction() as tx:  # type: ignore[union-attr]
        contact = await tx.contacts.upsert(
            MESSAGES_SENDER, pseudonym="K-TEST", region="DE", now=tx.clock.now()
        )
        conversation, _ = await tx.conversations.ensure_open(contact, tx.clock.now())
        message_id = await tx.messages.insert_outbound(
            contact_id=contact,
            conversation_id=conversation.id,
            chat_id=ChatMessageId("$agent-reply"),
            body="Hallo",
            author="@agent:localhost",
            now=tx.clock.now(),
        )
    assert message_id is not None
    return message_id


async def test_statuses_out_of_order_end_at_the_highest(either_bot: Empfang) -> None:
    message_id = await agent_reply(either_bot)
    async with either_bot.store.transaction() as tx:  # type: ignore[union-attr]
        await tx.messages.mark_sent(message_id, OUT_ID, tx.clock.now())
    for name in ("read", "sent", "delivered", "sent"):
        assert (
            await post(either_bot, body(envelope(statuses=[STATUSES[name]])))
        ).status_code == 200
    assert await stored_rows(
        either_bot, f"SELECT status FROM messages WHERE id = {message_id}"
    ) == [("read",)]
    assert await stored_rows(either_bot, "SELECT count(*) FROM status_events") == [(3,)]


async def test_failed_then_delivered_counts_as_delivered(either_bot: Empfang) -> None:
    message_id = await agent_reply(either_bot)
    # The receipt arrives before the send is recorded: it is applied when it is.
    assert (
        await post(either_bot, body(envelope(statuses=[STATUSES["failed"]])))
    ).status_code == 200
    async with either_bot.store.transaction() as tx:  # type: ignore[union-attr]
        await tx.messages.mark_sent(message_id, OUT_ID, tx.clock.now())
        await tx.messages.apply_status_events(OUT_ID)
    assert await stored_rows(
        either_bot, f"SELECT status, error_code FROM messages WHERE id = {message_id}"
    ) == [("failed", 131047)]
    assert (
        await post(either_bot, body(envelope(statuses=[STATUSES["delivered"]])))
    ).status_code == 200
    assert await stored_rows(
        either_bot, f"SELECT status FROM messages WHERE id = {message_id}"
    ) == [("delivered",)]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{oops", "not valid JSON"),
        (b'{"object":"page","entry":[]}', "whatsapp_business_account"),
        (b'{"object":"whatsapp_business_account","entry":[{"changes":"x"}]}', "changes"),
    ],
)
async def test_malformed_bodies_get_400_and_the_bot_keeps_serving(
    either_bot: Empfang, raw: bytes, reason: str
) -> None:
    response = await post(either_bot, raw)
    assert response.status_code == 400 and reason in response.text
    assert await stored_rows(either_bot, "SELECT count(*) FROM messages") == [(0,)]
    good = await post(either_bot, body(envelope(messages=[MESSAGES["text"]])))
    assert good.status_code == 200


async def test_oversized_body_gets_413_and_the_bot_keeps_serving(either_bot: Empfang) -> None:
    doc = envelope(messages=[dict(MESSAGES["text"], text={"body": "x" * 5000})])
    response = await post(either_bot, body(doc))
    assert response.status_code == 413
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{either_bot.url}/healthz")).status_code == 200
        assert (await client.get(f"{either_bot.url}/readyz")).text == "ready"


async def test_unknown_field_and_type_are_kept_as_unsupported(either_bot: Empfang) -> None:
    doc = envelope(messages=[MESSAGES["brand_new_type"]])
    doc["entry"][0]["changes"].append({"field": "flows", "value": {"x": 1}})
    assert (await post(either_bot, body(doc))).status_code == 200
    assert await stored_rows(either_bot, "SELECT kind FROM messages") == [("unsupported",)]
    assert await stored_rows(either_bot, "SELECT field FROM unsupported_events") == [("flows",)]


async def test_metrics_count_outcomes_without_identities(either_bot: Empfang) -> None:
    await post(either_bot, body(envelope(messages=[MESSAGES["text"]])))
    await post(either_bot, b"{}", None)
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{either_bot.url}/metrics")).text
    assert 'empfang_webhooks_total{outcome="accepted"} 1.0' in text
    assert 'empfang_webhooks_total{outcome="refused_401"} 1.0' in text
    assert 'empfang_jobs{state="pending"} 1.0' in text
    assert CUSTOMER not in text
