"""Two replicas as ``empfang run`` is to assemble them (``bot.ha.replica``): the leader's work
starts on one, stops there when a network cut takes its lease away, and only then starts on
the other; committed jobs wake the other replica's workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
import pytest

from bot.config.ha import HaSection
from bot.errors import PlatformError
from bot.ha.connection import connector
from bot.ha.notify import notify
from bot.ha.replica import Replica
from tests.ha.blackhole import Blackhole
from tests.ha.waiting import eventually

SECTION = {"takeover_seconds": 4.0}


class Journal:
    """What the replicas' leader work did, in order."""

    def __init__(self) -> None:
        self.entries: list[str] = []

    def work(
        self, name: str
    ) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
        async def start() -> None:
            self.entries.append(f"{name} starts")

        async def stop() -> None:
            self.entries.append(f"{name} stops")

        return start, stop


@asynccontextmanager
async def leading(replica: Replica, journal: Journal, name: str) -> AsyncIterator[None]:
    async with replica.running():
        task = asyncio.create_task(replica.lead(*journal.work(name)))
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_the_leaders_work_moves_after_a_cut_stopping_before_it_starts(db: str) -> None:
    link = Blackhole(db)
    await link.start()
    journal = Journal()
    a = Replica(connector(link.url), HaSection(replica="a", **SECTION))
    b = Replica(connector(db), HaSection(replica="b", **SECTION))
    woken = asyncio.Event()
    b.on_new_jobs(woken.set)
    try:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(leading(a, journal, "a"))
            await eventually(lambda: journal.entries == ["a starts"], 4.0, "a leads")
            await stack.enter_async_context(leading(b, journal, "b"))
            await b.listener.listening()
            conn = await asyncpg.connect(db)
            try:
                async with conn.transaction():
                    await notify(conn)
            finally:
                await conn.close()
            await asyncio.wait_for(woken.wait(), 5)
            link.cut()
            await eventually(lambda: len(journal.entries) == 3, 4.0, "b leads")
            assert journal.entries == ["a starts", "a stops", "b starts"]
            assert not a.lease.is_leader
            assert b.database_reachable and b.lease.is_leader
            link.mend()
        # Leaving, b released the lease and a (reachable again) may have led once more:
        # whatever happened, never two replicas' leader work at once, and all stopped.
        running: set[str] = set()
        for entry in journal.entries:
            name, what = entry.split()
            if what == "starts":
                assert not running, journal.entries
                running.add(name)
            else:
                running.remove(name)
        assert not running
    finally:
        await link.close()


async def test_a_leader_whose_work_fails_to_start_stops_it_and_says_so(db: str) -> None:
    replica = Replica(connector(db), HaSection(replica="a", **SECTION))
    journal = Journal()
    _, stop = journal.work("a")

    async def start() -> None:
        journal.entries.append("a starts")
        raise PlatformError("Matrix: login refused", retryable=False)

    async with replica.running():
        with pytest.raises(PlatformError, match="login refused"):
            await asyncio.wait_for(replica.lead(start, stop), 4.0)
    assert journal.entries == ["a starts", "a stops"]
