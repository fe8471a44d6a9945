"""``Store.transact``: a store-only transaction, on SQLite in one hand-off to the store's
thread (``bot.store.direct``), on PostgreSQL on the event loop; the same outcomes on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.routing import chat_room, chatting_in
from bot.store import Store, Tx
from bot.store.direct import StoreOnlyViolation


@pytest.fixture
async def store(store_target: Path | str) -> AsyncIterator[Store]:
    opened = await Store.open(store_target, clock=ManualClock())
    yield opened
    await opened.close()


async def enqueue_one(tx: Tx) -> int:
    return await tx.jobs.enqueue("chat.notice", "{}", now=tx.clock.now())


async def pending(store: Store) -> int:
    async with store.transaction() as tx:
        return (await tx.jobs.counts()).get("pending", 0)


@pytest.mark.parametrize("durable", [True, False])
async def test_work_is_committed_and_wakes_the_workers(store: Store, durable: bool) -> None:
    woken: list[int] = []
    store.on_new_jobs(lambda: woken.append(1))
    job_id = await store.transact(enqueue_one, durable=durable)
    assert job_id > 0
    assert await pending(store) == 1
    assert woken == [1]


async def test_an_error_rolls_everything_back(store: Store) -> None:
    async def fails(tx: Tx) -> None:
        await enqueue_one(tx)
        raise KeyError("nothing of this may stay")

    with pytest.raises(KeyError):
        await store.transact(fails)
    assert await pending(store) == 0


async def test_work_sees_the_callers_context(store: Store) -> None:
    """A job bound to a room (``bot.job_rooms``) reads the room inside its transaction."""

    async def room(tx: Tx) -> str:
        return chat_room("global")

    with chatting_in("!werkstatt:example.org"):
        assert await store.transact(room) == "!werkstatt:example.org"


async def test_work_that_waits_for_anything_but_the_store_is_refused_on_sqlite(
    tmp_path: Path,
) -> None:
    """On the store's thread nothing else can be waited for: such work is stopped, its
    writes rolled back, and the store stays usable."""
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock())
    try:

        async def sleeps(tx: Tx) -> None:
            await enqueue_one(tx)
            await asyncio.sleep(0)

        with pytest.raises(StoreOnlyViolation):
            await store.transact(sleeps)
        assert await pending(store) == 0
        await store.transact(enqueue_one)
        assert await pending(store) == 1
    finally:
        await store.close()


async def test_a_commit_without_sync_leaves_the_connection_synced(tmp_path: Path) -> None:
    """``durable=False`` lowers ``synchronous`` for its own commit only."""
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock())
    try:
        await store.transact(enqueue_one, durable=False)

        async def level(tx: Tx) -> int:
            return int(await tx.conn.fetchval("PRAGMA synchronous"))

        assert await store.transact(level) == 2  # FULL, the default
    finally:
        await store.close()
