"""The store's side of the wake-ups, end to end: a job one replica's ``Store`` commits wakes
the other replica's workers through ``Replica.on_new_jobs``; a transaction that adds no job
wakes nobody."""

from __future__ import annotations

import asyncio

from bot.config.ha import HaSection
from bot.ha.connection import connector
from bot.ha.replica import Replica
from bot.store import Store
from tests.ha.waiting import eventually


async def test_a_job_committed_on_one_replica_wakes_the_other(db: str) -> None:
    store = await Store.open(db)
    other = Replica(connector(db), HaSection(replica="other", takeover_seconds=4))
    wakes: list[str] = []
    other.on_new_jobs(lambda: wakes.append("woken"))

    async def enqueue(woken_so_far: int) -> None:
        async with store.transaction() as tx:
            await tx.jobs.enqueue("test.noop", "{}", now=tx.clock.now())
            await asyncio.sleep(0.2)
            assert len(wakes) == woken_so_far  # nothing before the commit

    try:
        async with other.running():
            await asyncio.wait_for(other.listener.listening(), 10)
            await enqueue(0)
            await eventually(lambda: len(wakes) == 1, 5, "woken by the first commit")
            async with store.transaction() as tx:
                await tx.jobs.states(tx.clock.now())  # reads only
            await enqueue(1)
            # Delivered in commit order: a wake-up from the read-only transaction would
            # have come before the second job's.
            await eventually(lambda: len(wakes) >= 2, 5, "woken by the second commit")
            await asyncio.sleep(0.2)
            assert len(wakes) == 2
    finally:
        await store.close()


async def test_a_replica_is_not_woken_again_by_its_own_commits(db: str) -> None:
    """Its own store woke its workers at the commit already; the notification carries the
    store's sender id, which its listener ignores. Another store's commit still wakes it."""
    own, other = await Store.open(db), await Store.open(db)
    replica = Replica(connector(db), HaSection(replica="self", takeover_seconds=4))
    wakes: list[str] = []
    replica.on_new_jobs(lambda: wakes.append("woken"), own_sender=own.sender)
    try:
        async with replica.running():
            await asyncio.wait_for(replica.listener.listening(), 10)
            for store in (own, other):
                async with store.transaction() as tx:
                    await tx.jobs.enqueue("test.noop", "{}", now=tx.clock.now())
            await eventually(lambda: len(wakes) == 1, 5, "woken by the other store's commit")
            await asyncio.sleep(0.2)
            assert wakes == ["woken"]
    finally:
        await own.close()
        await other.close()
