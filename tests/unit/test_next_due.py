"""When an idle worker wakes next (``Jobs.next_due``): at a waiting job's due time, or when
a running job's lease runs out, whichever is first; read from the ``jobs_due`` index, so
the day-long on-call timers in the queue do not make it slower (issue 16)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.store import Store

NOW = 1_796_000_000.0


@pytest.fixture
async def store(store_target: Path | str) -> AsyncIterator[Store]:
    opened = await Store.open(store_target, clock=ManualClock(NOW))
    yield opened
    await opened.close()


async def add(store: Store, delay: float) -> None:
    async with store.transaction() as tx:
        await tx.jobs.enqueue("work", "{}", now=NOW, delay=delay)


async def next_due(store: Store) -> float | None:
    async with store.transaction() as tx:
        return await tx.jobs.next_due(NOW)


async def test_an_empty_queue_has_nothing_due(store: Store) -> None:
    assert await next_due(store) is None


async def test_the_earliest_waiting_job_and_not_a_running_one(store: Store) -> None:
    await add(store, 0)
    await add(store, 3600)
    await add(store, 600)
    async with store.transaction() as tx:
        assert await tx.jobs.lease(now=NOW, until=NOW + 60, token="worker") is not None
    assert await next_due(store) == NOW + 60, "the running job's lease ends first"
    async with store.transaction() as tx:
        assert await tx.jobs.lease(now=NOW + 61, until=NOW + 200, token="other") is not None
    assert await next_due(store) == NOW + 200


async def test_a_waiting_job_due_before_a_lease_ends_comes_first(store: Store) -> None:
    await add(store, 0)
    async with store.transaction() as tx:
        assert await tx.jobs.lease(now=NOW, until=NOW + 60, token="worker") is not None
    await add(store, 30)
    assert await next_due(store) == NOW + 30
