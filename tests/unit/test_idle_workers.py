"""Idle workers are idle: they poll the queue at their idle interval, not in a busy loop,
and still wake at once for a new job, from either intake path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.jobs import WorkerPool
from bot.store import Store
from bot.store.jobs import Job
from tests.numbers import CUSTOMER

WORKERS = 4
IDLE_POLL = 0.25


class CountingClock(SystemClock):
    """The real clock, counting reads: a worker reads it once per poll of the queue."""

    def __init__(self) -> None:
        self.reads = 0

    def now(self) -> float:
        self.reads += 1
        return super().now()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "idle.sqlite3", clock=CountingClock())
    yield opened
    await opened.close()


async def test_idle_workers_poll_at_their_interval_not_in_a_loop(store: Store) -> None:
    clock = store.clock
    assert isinstance(clock, CountingClock)
    pool = WorkerPool(store, {}, workers=WORKERS, idle_poll_seconds=IDLE_POLL)
    pool.start()
    try:
        await asyncio.sleep(0.1)  # let every worker reach its first idle wait
        before = clock.reads
        await asyncio.sleep(1.0)
        polls = clock.reads - before
    finally:
        await pool.stop()
    expected = WORKERS / IDLE_POLL  # 16 over one idle second
    assert expected / 2 <= polls <= expected * 2, f"{polls} polls in one idle second"


async def test_a_new_job_wakes_a_sleeping_worker(store: Store) -> None:
    ran = asyncio.Event()

    async def work(job: Job) -> None:
        ran.set()

    pool = WorkerPool(store, {"work": work}, workers=1, idle_poll_seconds=600)
    pool.start()
    try:
        await asyncio.sleep(0.1)
        async with store.transaction() as tx:
            await tx.jobs.enqueue("work", "{}", now=tx.clock.now())
        await asyncio.wait_for(ran.wait(), 10)  # not the 600 s idle poll
    finally:
        await pool.stop()


async def test_the_bulk_intake_wakes_a_sleeping_worker(store: Store) -> None:
    ran = asyncio.Event()

    async def relay(job: Job) -> None:
        ran.set()

    pool = WorkerPool(store, {"relay.inbound": relay}, workers=1, idle_poll_seconds=600)
    pool.start()
    try:
        await asyncio.sleep(0.1)
        message = InboundMessage(
            provider_id=ProviderMessageId("wamid.idle1"),
            sender=Sender(wa_id=WaId(CUSTOMER)),
            timestamp=1_800_000_000,
            kind=MessageKind.TEXT,
            text="Hallo",
        )
        intake = Intake(store, pseudonym_key=b"idle-test-pseudonym-key-0123")
        await intake.accept(WebhookBatch(messages=(message,)))
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        await pool.stop()


async def test_a_new_job_wakes_one_sleeping_worker_not_all(store: Store) -> None:
    """With many idle workers, one job must not send every one of them to the queue: each
    empty lease is a transaction (three hand-offs to the database thread), and at 200
    msgs/s a wake-all made the workers' empty polls a large part of the bot's CPU."""
    ran = asyncio.Event()
    leases: list[str] = []

    async def work(job: Job) -> None:
        ran.set()

    pool = WorkerPool(store, {"work": work}, workers=8, idle_poll_seconds=600)
    pool.start()
    try:
        await asyncio.sleep(0.1)  # every worker asleep
        store.trace(lambda sql: leases.append(sql) if sql.startswith("UPDATE jobs") else None)
        async with store.transaction() as tx:
            await tx.jobs.enqueue("work", "{}", now=tx.clock.now())
        await asyncio.wait_for(ran.wait(), 10)
        await asyncio.sleep(0.2)  # any other woken worker has polled by now
    finally:
        store.trace(None)
        await pool.stop()
    # The woken worker's lease, the one it passes the wake on to (a job was found, so
    # there may be more); the stop wakes the rest without leasing.
    assert len(leases) <= 3, leases
