"""The typed job catalogue: both intake paths write the same job, every kind has a
handler in the production wiring, and a payload that does not fit is dead-lettered."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.cases import build_sinks
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.job_catalog import (
    CHAT_NOTICE,
    KIND_NAMES,
    RELAY_INBOUND,
    NoticeJob,
    claim_unnumbered_lanes,
    contact_order_key,
    media_order_key,
)
from bot.jobs import WorkerPool
from bot.store import Store
from bot.store.jobs import Job
from bot.store.migrations import MIGRATIONS, _split
from bot.texts import ENGLISH
from bot.wiring import job_handlers, wire_relay
from tests.cases.doubles import RecordingChat, RecordingWhatsApp
from tests.numbers import CUSTOMER

KEY = b"catalog-test-pseudonym-key-01"


@pytest.fixture
async def store(store_target: Path | str) -> AsyncIterator[Store]:
    opened = await Store.open(store_target, clock=ManualClock())
    yield opened
    await opened.close()


async def job_rows(store: Store) -> list[tuple[Any, ...]]:
    async with store.transaction() as tx:
        rows = await tx.conn.fetchall(
            "SELECT kind, payload, order_key, run_after, created_at FROM jobs ORDER BY id"
        )
    return [tuple(row) for row in rows]


async def accept_one(path: Path | str, sender: Sender, number: str = "") -> list[tuple[Any, ...]]:
    store = await Store.open(path, clock=ManualClock())
    try:
        message = InboundMessage(
            provider_id=ProviderMessageId("wamid.catalog1"),
            sender=sender,
            timestamp=1_800_000_000,
            kind=MessageKind.TEXT,
            text="Hallo",
            number_id=number,
        )
        await Intake(store, pseudonym_key=KEY).accept(WebhookBatch(messages=(message,)))
        return await job_rows(store)
    finally:
        await store.close()


@pytest.mark.parametrize("number", ["", "106540352249999", "whatsapp:+4930901820"])
async def test_bulk_and_per_row_intake_write_the_same_job(
    store_target: Path | str, another_store_target: Path | str, number: str
) -> None:
    """A sender known by number takes the bulk SQL path; one with a BSUID the per-row path
    (``bot.intake``). Same first message on a fresh store: the same job row, byte for byte,
    ordered per customer and business number (a Twilio number, too: quoted in JSON, never
    spelled out in the key)."""
    bulk = await accept_one(store_target, Sender(wa_id=WaId(CUSTOMER)), number)
    per_row = await accept_one(
        another_store_target, Sender(wa_id=WaId(CUSTOMER), user_id="DE.1234567890abcdef"), number
    )
    assert bulk == per_row
    ((kind, payload, order_key, *_),) = bulk
    assert kind == RELAY_INBOUND.name
    parsed = RELAY_INBOUND.payload.model_validate_json(payload)
    assert (parsed.message_id, parsed.contact_id, parsed.number_id) == (1, 1, number)
    assert order_key == RELAY_INBOUND.order_key(parsed) == contact_order_key(1, number)
    assert (order_key == "contact:1") == (not number)
    assert "4930901820" not in order_key


async def test_jobs_waiting_without_a_number_join_the_first_numbers_queue(
    store: Store,
) -> None:
    """Jobs queued before keys named a number (``contact:N``, ``media:N``) are moved into
    the first configured number's queue at start, so new jobs of its conversations wait
    behind them; other keys, and jobs not waiting, stay as they are."""
    first = "106540352242922"
    old = ["contact:7", "media:7", "sla:3", contact_order_key(7, "106540352249999")]
    async with store.transaction() as tx:
        for key in old:
            await tx.jobs.enqueue("relay.inbound", "{}", now=0.0, order_key=key)
        assert await claim_unnumbered_lanes(tx, first) == 2
        assert await claim_unnumbered_lanes(tx, first) == 0
        keys = [row[0] for row in await tx.conn.fetchall("SELECT order_key FROM jobs ORDER BY id")]
    assert keys == [contact_order_key(7, first), media_order_key(7, first), *old[2:]]


async def test_a_payload_that_does_not_fit_is_dead_lettered_by_name(store: Store) -> None:
    posted: list[NoticeJob] = []

    async def post(job: Job, payload: NoticeJob) -> None:
        posted.append(payload)

    bad = [
        '{"conversation_id": "4915112345678", "contact_id": 1, "text": "x"}',
        '{"conversation_id": 1, "text": "Anruf unter 4915112345678"}',
        "not json at all",
    ]
    async with store.transaction() as tx:
        for payload in bad:
            await tx.jobs.enqueue(CHAT_NOTICE.name, payload, now=tx.clock.now())
        good = NoticeJob(conversation_id=1, contact_id=1, text="ok")
        await tx.jobs.enqueue(CHAT_NOTICE.name, good.model_dump_json(), now=tx.clock.now())
    pool = WorkerPool(store, dict([CHAT_NOTICE.bind(post)]))
    assert await pool.run_until_idle() == 4, "the worker went on after each bad job"
    assert posted == [good]
    async with store.transaction() as tx:
        dead = await tx.jobs.dead()
        assert await tx.jobs.counts() == {"dead": 3}
    reasons = [reason for _, reason in dead]
    assert [job.attempts for job, _ in dead] == [1, 1, 1], "dead at once, never retried"
    assert reasons[0].startswith("InvalidJobPayload: chat.notice payload does not validate:")
    assert "conversation_id" in reasons[0] and "contact_id" in reasons[1]
    assert "json" in reasons[2].lower()
    assert not [reason for reason in reasons if CUSTOMER in reason], "no payload value"


async def test_every_kind_has_its_handler_in_the_production_wiring(store: Store) -> None:
    settings = Settings.model_validate(
        {"cases": [{"type": "jsonl", "name": "archive", "path": str(store.path) + ".jsonl"}]}
    )
    wired = wire_relay(
        store,
        settings,
        chat=RecordingChat(),
        whatsapp=RecordingWhatsApp(),
        texts=ENGLISH,
        sinks=build_sinks(settings.cases, ENGLISH),
    )
    try:
        handlers = job_handlers(wired.relay, wired.oncall, wired.cases, wired.purge, wired.removal)
    finally:
        await wired.stop()
    assert set(handlers) == KIND_NAMES


async def test_jobs_waiting_at_the_upgrade_get_their_contact(tmp_path: Path) -> None:
    """Migration 5: a job enqueued by the previous version (payload without ``contact_id``)
    still validates, with the contact taken from its order key."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as conn:
        for script in MIGRATIONS[:4]:
            for statement in _split(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 4")
        conn.execute(
            "INSERT INTO jobs (kind, payload, order_key, run_after, created_at)"
            " VALUES ('chat.notice', '{\"conversation_id\":3,\"text\":\"t\"}', 'contact:7', 0, 0)"
        )

    store = await Store.open(path)
    try:
        async with store.transaction() as tx:
            job = await tx.jobs.get(1)
    finally:
        await store.close()
    assert job is not None
    assert CHAT_NOTICE.parse(job) == NoticeJob(conversation_id=3, contact_id=7, text="t")
