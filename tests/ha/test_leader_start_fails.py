"""An error in the leader's start (here: the sync position unreadable) ends ``empfang run``
with exit status 1 and releases the lease on the way out, so another replica can lead at
once instead of waiting for the lease to expire; a replica that stayed up without its
leader's part would hold the lead and do none of its work."""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path

import asyncpg

from bot.demo.stack import create_support_room
from bot.demo.synapse import LocalSynapse
from tests.ha.replica_world import Balancer, Replica, replica_settings, shared_settings


async def test_an_error_in_the_leaders_start_ends_empfang_run_and_releases_the_lease(
    synapse: LocalSynapse, db: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(db)
    try:  # a table of that name without the token column: reading the position fails
        await conn.execute("CREATE TABLE chat_sync_position (name TEXT PRIMARY KEY)")
    finally:
        await conn.close()
    room = await create_support_room(synapse)
    base = shared_settings(tmp_path, room, Balancer(random.Random(1)), db)
    replica = Replica(replica_settings(base, "replica-a", tmp_path / "a"), tmp_path / "a")
    with contextlib.suppress(AssertionError, TimeoutError):  # it may exit before it is ready
        await replica.start()
    try:
        assert replica.process is not None
        assert await asyncio.wait_for(replica.process.wait(), 60) == 1
    finally:
        await replica.stop()
    conn = await asyncpg.connect(db)
    try:
        lease = await conn.fetchrow(
            "SELECT term, expires_at <= now() AS released FROM leader_lease"
        )
    finally:
        await conn.close()
    assert lease is not None and lease["term"] == 1 and lease["released"]
