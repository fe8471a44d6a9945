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
from tests.support.postgres import PostgresCluster


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


async def test_a_commit_after_one_without_sync_is_synced(tmp_path: Path) -> None:
    """``durable=False`` lowers ``synchronous`` for its own commit and leaves it lowered;
    the next durable transaction raises it again, on the store's thread (``transact``) or
    through aiosqlite (``transaction``)."""
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock())
    try:

        async def level(tx: Tx) -> int:
            return int(await tx.conn.fetchval("PRAGMA synchronous"))

        assert await store.transact(level, durable=False) == 1  # NORMAL
        assert await store.transact(level) == 2  # FULL, the default
        await store.transact(enqueue_one, durable=False)
        async with store.transaction() as tx:
            assert await level(tx) == 2
    finally:
        await store.close()


async def test_a_commit_not_synced_is_synced_when_its_work_asks(tmp_path: Path) -> None:
    """``sync_at_commit`` in ``durable=False`` work: SQLite syncs the WAL after its commit
    (what the relay's take-in asks when it is about to open a thread); without the request,
    or when the work fails, nothing is synced."""
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock())
    try:

        async def asks(tx: Tx) -> int:
            await tx.conn.sync_at_commit()
            return await enqueue_one(tx)

        async def asks_then_fails(tx: Tx) -> None:
            await asks(tx)
            raise KeyError("rolled back: nothing to sync")

        await store.transact(enqueue_one, durable=False)
        assert store.wal_syncs == 0
        await store.transact(asks, durable=False)
        assert store.wal_syncs == 1
        with pytest.raises(KeyError):
            await store.transact(asks_then_fails, durable=False)
        await store.transact(enqueue_one, durable=False)  # the request is not left over
        assert store.wal_syncs == 1
        assert await pending(store) == 3
    finally:
        await store.close()


async def test_work_that_asks_for_a_sync_commits_at_the_servers_level(
    postgres: PostgresCluster,
) -> None:
    """PostgreSQL: ``sync_at_commit`` undoes ``durable=False``'s ``synchronous_commit =
    off`` for that transaction, back to the server's own setting. (SQLite's WAL sync is
    counted in the test above.)"""
    store = await Store.open(postgres.new_database(), clock=ManualClock())

    async def level(tx: Tx) -> tuple[str, str]:
        await tx.conn.sync_at_commit()
        now = await tx.conn.fetchval("SELECT current_setting('synchronous_commit')")
        own = await tx.conn.fetchval(
            "SELECT reset_val FROM pg_settings WHERE name = 'synchronous_commit'"
        )
        return str(now), str(own)

    try:
        now, own = await store.transact(level, durable=False)
    finally:
        await store.close()
    assert now == own
