"""Workers while the database is down: one warning when it goes, one line when it is back.

A traceback per failed poll (four workers, four polls a second each) buried the log during
a PostgreSQL restart: 68 tracebacks in 8 s with two replicas, and nothing an operator can
act on beyond "the database is unreachable", which a single line says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from bot.jobs import WorkerPool
from bot.store import Store
from tests.support.postgres import PostgresCluster, PostgresMissing, postgres_cluster, server_bin


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: it is stopped and started, which the shared one must not be."""
    try:
        server_bin()
    except PostgresMissing as exc:
        pytest.skip(str(exc))
    with postgres_cluster() as cluster:
        yield cluster


async def test_a_database_outage_is_logged_once_and_its_end_once(
    own_cluster: PostgresCluster, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(own_cluster.new_database())
    pool = WorkerPool(store, {}, workers=4, idle_poll_seconds=0.1)
    pool.start()
    try:
        await asyncio.sleep(0.3)
        with caplog.at_level(logging.INFO, logger="empfang.jobs"):
            await asyncio.to_thread(own_cluster.stop, "fast")
            await asyncio.sleep(1.5)  # some 60 polls fail meanwhile
            await asyncio.to_thread(own_cluster.start_server)
            await asyncio.sleep(1.5)
    finally:
        await pool.stop()
        await store.close()
    records = [r for r in caplog.records if r.name == "empfang.jobs"]
    assert [r for r in records if r.exc_info] == [], "no traceback per failed poll"
    down = [r for r in records if "cannot reach the store" in r.getMessage()]
    back = [r for r in records if "store reachable again" in r.getMessage()]
    assert len(down) == 1 and down[0].levelno == logging.WARNING
    assert len(back) == 1
