"""Wake-ups between replicas against a real PostgreSQL: a commit wakes the other replica's
callback once, a rollback not at all, and the listener outlives a database restart and a
network cut."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg

from bot.ha.notify import JOBS_CHANNEL, NOTIFY_JOBS_SQL, Listener, notify
from tests.ha.blackhole import Blackhole
from tests.ha.waiting import eventually
from tests.support.postgres import PostgresCluster, postgres_cluster


@asynccontextmanager
async def listening(
    url: str, wake: Callable[[], object], **timing: float
) -> AsyncIterator[Listener]:
    listener = Listener(functools.partial(asyncpg.connect, url), **timing)
    listener.subscribe(JOBS_CHANNEL, wake)
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.listening(), 10)
        yield listener
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def commit_jobs(url: str) -> None:
    """What the store does when it enqueues: notify inside the transaction, here twice in
    both forms (a batch of jobs), which PostgreSQL folds into one notification."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await notify(conn)
            await conn.execute(NOTIFY_JOBS_SQL)
    finally:
        await conn.close()


async def test_a_commit_wakes_the_other_replica_once_and_a_rollback_not_at_all(
    db: str,
) -> None:
    wakes = Wakes()
    async with listening(db, wakes, check_seconds=30.0):
        conn = await asyncpg.connect(db)
        try:
            tx = conn.transaction()
            await tx.start()
            await notify(conn)
            await tx.rollback()
        finally:
            await conn.close()
        await commit_jobs(db)  # delivered after anything the rollback had sent
        await eventually(lambda: wakes.count >= 1, 5, "a wake-up")
        await asyncio.sleep(0.2)
        assert wakes.count == 1


def restart(cluster: PostgresCluster) -> None:
    """``pg_ctl restart``: the server ends every session and comes back with the same
    options (``postmaster.opts``)."""
    log = str(cluster.root / "server.log")
    cluster._run("pg_ctl", "-D", str(cluster.data), "-l", log, "-m", "fast", "-w", "restart")


async def test_the_listener_outlives_a_database_restart() -> None:
    # A cluster of its own: restarting the suite's would break other tests' connections.
    with postgres_cluster() as cluster:
        wakes = Wakes()
        async with listening(cluster.url(), wakes, check_seconds=30.0) as listener:
            await asyncio.to_thread(restart, cluster)
            await eventually(lambda: listener.sessions == 2, 15, "listening after the restart")
            assert wakes.count == 1  # what was sent while away is lost: one wake-up for it
            await commit_jobs(cluster.url())
            await eventually(lambda: wakes.count == 2, 5, "a wake-up after the restart")


async def test_the_listener_finds_a_silent_connection_and_listens_again(db: str) -> None:
    """A cut network sends no FIN: only the check query after ``check_seconds`` of silence
    notices, and the listener reconnects once the network is back."""
    link = Blackhole(db)
    await link.start()
    wakes = Wakes()
    try:
        async with listening(
            link.url, wakes, check_seconds=0.5, connect_timeout=0.5, max_backoff=0.5
        ) as listener:
            link.cut()
            await eventually(lambda: not listener.is_listening, 3, "the silence noticed")
            await asyncio.sleep(1.0)  # reconnects fail meanwhile
            link.mend()
            await eventually(lambda: listener.sessions == 2, 5, "listening again")
            await commit_jobs(db)
            await eventually(lambda: wakes.count == 2, 5, "a wake-up after the cut")
    finally:
        await link.close()
