"""The chat's sync position in the database: written by the leader only, fenced by its
term, read by the next leader."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.config.ha import HaSection
from bot.ha.connection import connector
from bot.ha.replica import Replica
from bot.ha.sync_position import SyncPositionFenced


async def test_the_next_leader_reads_the_position_and_a_deposed_one_cannot_write(
    db: str,
) -> None:
    first = Replica(connector(db), HaSection(replica="first", takeover_seconds=4))
    position = first.sync_position("matrix")
    async with first.running():
        await asyncio.wait_for(first.lease.acquired(), 10)
        assert await position.load() == ""  # before the first sync ever
        await position.save("s1")
        # Another replica takes over while this one still believes it leads (a frozen
        # process): the row names a later term before its next renewal.
        conn = await asyncpg.connect(db)
        try:
            await conn.execute("UPDATE leader_lease SET holder = 'second/x', term = term + 1")
        finally:
            await conn.close()
        with pytest.raises(SyncPositionFenced):
            await position.save("s0-late")
        await position.close()
    second = Replica(connector(db), HaSection(replica="second", takeover_seconds=4))
    async with second.running():
        await asyncio.wait_for(second.lease.acquired(), 10)
        following = second.sync_position("matrix")
        assert await following.load() == "s1"
        await following.save("s2")
        assert await following.load() == "s2"
        await following.close()
