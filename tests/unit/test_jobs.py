"""Durable jobs on a real SQLite file and a real PostgreSQL database: backoff, dead-letter,
Retry-After, leases, order."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.clock import ManualClock
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.errors import PlatformError, ProviderError, RateLimited, WindowClosed
from bot.ha.notify import JOBS_CHANNEL
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.jobs import RetryPolicy, WorkerPool
from bot.store import Store
from bot.store.jobs import Job
from tests.numbers import CUSTOMER
from tests.support.postgres import PostgresCluster


@pytest.fixture
async def store(store_target: Path | str) -> AsyncIterator[Store]:
    opened = await Store.open(store_target, clock=ManualClock())
    yield opened
    await opened.close()


def clock_of(store: Store) -> ManualClock:
    assert isinstance(store.clock, ManualClock)
    return store.clock


async def enqueue(store: Store, kind: str = "work", key: str | None = None, n: int = 0) -> int:
    async with store.transaction() as tx:
        return await tx.jobs.enqueue(kind, json.dumps({"n": n}), now=tx.clock.now(), order_key=key)


async def run_after(store: Store, job_id: int) -> float:
    async with store.transaction() as tx:
        found = await tx.conn.fetchval("SELECT run_after FROM jobs WHERE id = ?", (job_id,))
    assert found is not None
    return float(found)


async def test_retries_back_off_exponentially_then_dead_letter(store: Store) -> None:
    dead: list[tuple[int, str]] = []

    async def failing(job: Job) -> None:
        raise ProviderError("WhatsApp API unreachable", retryable=True, code=131000)

    async def on_dead(job: Job, reason: str) -> None:
        dead.append((job.id, reason))

    policy = RetryPolicy(max_attempts=4, base_seconds=10, max_seconds=1000)
    pool = WorkerPool(store, {"work": failing}, policy=policy, on_dead=on_dead)
    job_id = await enqueue(store)
    clock = clock_of(store)
    delays = []
    for attempt in range(1, 4):
        assert await pool.run_once()
        delay = await run_after(store, job_id) - clock.now()
        ceiling = 10 * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay <= ceiling
        delays.append(delay)
        assert not await pool.run_once(), "not due before its backoff passed"
        clock.advance(delay)
    assert delays[0] < delays[2]
    assert await pool.run_once()  # fourth attempt: gives up
    async with store.transaction() as tx:
        (found, reason), *_ = await tx.jobs.dead()
    assert found.id == job_id and found.attempts == 4
    assert "ProviderError" in reason and "131000" in reason
    assert dead == [(job_id, reason)]


async def test_an_outage_is_waited_out_without_using_up_attempts(store: Store) -> None:
    """A platform that cannot be reached is not the job's fault: a Synapse down for an hour
    must not dead-letter the posts queued meanwhile (they would never reach the room)."""

    async def unreachable(job: Job) -> None:
        raise PlatformError("Matrix send: homeserver unreachable", outage=True)

    policy = RetryPolicy(
        max_attempts=3, base_seconds=10, max_seconds=60, outage_patience_seconds=3600
    )
    pool = WorkerPool(store, {"work": unreachable}, policy=policy)
    job_id = await enqueue(store)
    clock = clock_of(store)
    started = clock.now()
    for _ in range(20):  # far more attempts than max_attempts, within the patience
        assert await pool.run_once()
        clock.advance(await run_after(store, job_id) - clock.now())
    assert clock.now() - started < 3600
    async with store.transaction() as tx:
        assert await tx.jobs.dead() == [], "dead-lettered during the outage"
    clock.advance(3600)
    assert await pool.run_once()  # past the patience: gives up
    async with store.transaction() as tx:
        (found, reason), *_ = await tx.jobs.dead()
    assert found.id == job_id and "unreachable" in reason


async def test_permanent_error_dead_letters_at_once(store: Store) -> None:
    async def closed(job: Job) -> None:
        raise WindowClosed("24-hour window closed", code=131047)

    pool = WorkerPool(store, {"work": closed})
    await enqueue(store)
    assert await pool.run_once()
    async with store.transaction() as tx:
        assert (await tx.jobs.counts()) == {"dead": 1}


async def test_rate_limit_honours_retry_after(store: Store) -> None:
    async def limited(job: Job) -> None:
        raise RateLimited("throughput", code=130429, retry_after=30)

    pool = WorkerPool(store, {"work": limited})
    job_id = await enqueue(store)
    assert await pool.run_once()
    assert await run_after(store, job_id) == clock_of(store).now() + 30


async def test_unknown_kind_is_dead_lettered(store: Store) -> None:
    pool = WorkerPool(store, {})
    await enqueue(store, kind="from.the.future")
    assert await pool.run_once()
    async with store.transaction() as tx:
        (_, reason), *_ = await tx.jobs.dead()
    assert "no handler" in reason


async def test_expired_lease_is_picked_up_again(store: Store) -> None:
    done: list[int] = []

    async def work(job: Job) -> None:
        done.append(job.id)

    job_id = await enqueue(store)
    clock = clock_of(store)
    async with store.transaction() as tx:  # a worker that leases and then dies
        leased = await tx.jobs.lease(now=clock.now(), until=clock.now() + 60, token="dead-worker")
    assert leased is not None and leased.id == job_id
    pool = WorkerPool(store, {"work": work}, lease_seconds=60)
    assert not await pool.run_once(), "still leased"
    clock.advance(61)
    assert await pool.run_once()
    assert done == [job_id]
    async with store.transaction() as tx:
        assert await tx.jobs.counts() == {}


async def test_a_blocked_conversation_does_not_block_others(store: Store) -> None:
    ran: list[int] = []
    down = True

    async def work(job: Job) -> None:
        n = json.loads(job.payload)["n"]
        if n == 1 and down:
            raise ProviderError("down", retryable=True)
        ran.append(n)

    pool = WorkerPool(store, {"work": work}, policy=RetryPolicy(base_seconds=100))
    await enqueue(store, key="contact:1", n=1)
    await enqueue(store, key="contact:1", n=2)
    await enqueue(store, key="contact:2", n=3)
    await pool.run_until_idle()
    assert ran == [3], "job 2 waits behind the failing job 1; contact 2 is unaffected"
    down = False
    clock_of(store).advance(200)
    await pool.run_until_idle()
    assert ran == [3, 1, 2]


async def test_order_per_conversation_with_several_workers(store_target: Path | str) -> None:
    """Real clock, 6 workers, flaky handler: each conversation's jobs still run in order."""
    store = await Store.open(store_target)
    seen: dict[str, list[int]] = {}
    failed_once: set[int] = set()

    async def work(job: Job) -> None:
        await asyncio.sleep(random.uniform(0, 0.003))
        if job.id % 7 == 0 and job.id not in failed_once:
            failed_once.add(job.id)
            raise ProviderError("flaky", retryable=True)
        seen.setdefault(str(job.order_key), []).append(int(json.loads(job.payload)["n"]))

    pool = WorkerPool(
        store,
        {"work": work},
        workers=6,
        policy=RetryPolicy(base_seconds=0.01, max_seconds=0.02),
        idle_poll_seconds=0.02,
    )
    for n in range(40):
        for key in ("contact:1", "contact:2", "contact:3", "contact:4"):
            await enqueue(store, key=key, n=n)
    pool.start()
    try:
        for _ in range(400):
            if sum(len(v) for v in seen.values()) == 160:
                break
            await asyncio.sleep(0.05)
    finally:
        await pool.stop()
        await store.close()
    assert failed_once, "the test must exercise retries"
    assert seen == {key: list(range(40)) for key in seen} and len(seen) == 4


async def test_two_processes_on_one_postgresql_run_each_job_once_in_order_per_customer(
    postgres: PostgresCluster,
) -> None:
    """Two stores on one database, as two replicas would hold, each with its own workers:
    every job runs exactly once (a row one is leasing is skipped by the other, not taken
    twice), and each customer's jobs run in their order across both."""
    url = postgres.new_database()
    replicas = [await Store.open(url), await Store.open(url)]
    runs: dict[int, int] = {}
    seen: dict[str, list[int]] = {}
    failed_once: set[int] = set()

    async def work(job: Job) -> None:
        runs[job.id] = runs.get(job.id, 0) + 1
        await asyncio.sleep(random.uniform(0, 0.003))
        if job.id % 11 == 0 and job.id not in failed_once:
            failed_once.add(job.id)
            raise ProviderError("flaky", retryable=True)
        seen.setdefault(str(job.order_key), []).append(int(json.loads(job.payload)["n"]))

    pools = [
        WorkerPool(
            store,
            {"work": work},
            workers=3,
            policy=RetryPolicy(base_seconds=0.01, max_seconds=0.02),
            idle_poll_seconds=0.01,
        )
        for store in replicas
    ]
    customers = [f"contact:{n}" for n in range(1, 6)]
    for n in range(30):
        for key in customers:
            await enqueue(replicas[n % 2], key=key, n=n)
    for pool in pools:
        pool.start()
    try:
        for _ in range(600):
            if sum(len(v) for v in seen.values()) == 150:
                break
            await asyncio.sleep(0.05)
    finally:
        for pool in pools:
            await pool.stop()
        for store in replicas:
            await store.close()
    assert failed_once, "the test must exercise retries"
    assert seen == {key: list(range(30)) for key in customers}
    assert all(runs[job] == (2 if job in failed_once else 1) for job in runs), "a job ran twice"


async def test_a_customers_job_committed_by_another_process_waits_for_the_earlier_one(
    postgres: PostgresCluster,
) -> None:
    """Process A has enqueued a customer's job and not committed yet; process B enqueues the
    customer's next job. B waits for A's commit: otherwise its job (with the larger id)
    would be visible, and leased, while A's, the earlier, is still on its way."""
    url = postgres.new_database()
    first, second = await Store.open(url), await Store.open(url)
    try:
        async with first.transaction() as tx:
            await tx.jobs.enqueue("work", json.dumps({"n": 1}), now=0.0, order_key="contact:7")
            later = asyncio.create_task(enqueue(second, key="contact:7", n=2))
            await asyncio.sleep(0.3)
            assert not later.done(), "the second job was committed before the first"
        await later
        order = []
        for _ in range(2):
            async with second.transaction() as tx:
                job = await tx.jobs.lease(now=4e9, until=4e9 + 60, token="w")
                assert job is not None
                order.append(json.loads(job.payload)["n"])
                assert await tx.jobs.complete(job)
    finally:
        await first.close()
        await second.close()
    assert order == [1, 2]


async def test_a_commit_that_adds_jobs_wakes_other_processes_on_postgresql(
    postgres: PostgresCluster,
) -> None:
    """Other replicas LISTEN (``bot.ha.notify``): a transaction or an intake group that added
    jobs notifies them once at its commit; one that added none, or rolled back, does not."""
    url = postgres.new_database()
    store = await Store.open(url)
    listener = await asyncpg.connect(url)
    heard: list[str] = []
    await listener.add_listener(JOBS_CHANNEL, lambda *args: heard.append(args[2]))
    try:
        await enqueue(store, key="contact:1")
        async with store.transaction() as tx:
            await tx.jobs.counts()
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.jobs.enqueue("work", "{}", now=0.0)
                raise RuntimeError("rolled back")
        message = InboundMessage(
            provider_id=ProviderMessageId("wamid.notify1"),
            sender=Sender(wa_id=WaId(CUSTOMER)),
            timestamp=1,
            kind=MessageKind.TEXT,
            text="Hallo",
        )
        intake = Intake(store, pseudonym_key=b"notify-test-key-0123456789")
        await intake.accept(WebhookBatch(messages=(message,)))
        await intake.accept(WebhookBatch(messages=(message,)))  # redelivered: nothing new
        await asyncio.sleep(0.2)
    finally:
        await listener.close()
        await store.close()
    assert heard == [JOBS_CHANNEL, JOBS_CHANNEL]
