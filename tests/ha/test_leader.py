"""The leader lease against a real PostgreSQL: one leader at a time, a takeover within
``takeover_seconds`` after a SIGKILL or a network cut, and the old leader stepping down
before the new one starts."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
from contextlib import AsyncExitStack

import asyncpg
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bot.ha.leader import LeaderLease, LeadershipLost
from bot.ha.metrics import register_lease_metrics
from bot.ha.notify import LEADER_CHANNEL, Listener
from bot.ha.timing import LeaseTiming
from tests.ha.blackhole import Blackhole
from tests.ha.holder import holding
from tests.ha.waiting import eventually

TAKEOVER = 4.0
"""Small, so the tests are quick; heartbeat 0.8 s, expiry 2.4 s, step-down after 1.6 s."""
TIMING = LeaseTiming(TAKEOVER)


def lease(url: str, replica: str, timing: LeaseTiming = TIMING) -> LeaderLease:
    connect = functools.partial(
        asyncpg.connect, url, server_settings={"application_name": f"lease-{replica}"}
    )
    return LeaderLease(connect, replica=replica, timing=timing)


async def first_leader(*leases: LeaderLease) -> LeaderLease:
    await eventually(lambda: any(x.is_leader for x in leases), TAKEOVER, "a leader")
    return next(x for x in leases if x.is_leader)


async def test_a_started_replica_has_reached_the_database_and_the_first_one_leads(
    db: str,
) -> None:
    """Its first round runs before the block: ``/readyz`` asked right after start found
    "database not reachable" until a heartbeat task's first round (a flaky test under load)."""
    a = lease(db, "a")
    async with a.running():
        assert a.reachable
        assert a.is_leader


async def test_of_two_replicas_exactly_one_leads(db: str) -> None:
    a, b = lease(db, "a"), lease(db, "b")
    async with a.running(), b.running():
        leader = await first_leader(a, b)
        loop = asyncio.get_running_loop()
        end = loop.time() + 3 * TIMING.expiry  # several renewals and follower attempts
        while loop.time() < end:
            assert [a.is_leader, b.is_leader] == [leader is a, leader is b]
            await asyncio.sleep(0.02)
        assert leader.term == 1
        conn = await asyncpg.connect(db)
        try:
            row = await conn.fetchrow("SELECT holder, term FROM leader_lease")
        finally:
            await conn.close()
        assert (row["holder"], row["term"]) == (leader.holder, 1)
        assert a.reachable and b.reachable


async def test_a_killed_connection_is_made_anew_and_the_lead_kept(db: str) -> None:
    """Terminating the leader's session (an admin, a pooler restart) is no reason for a
    failover: the row still names the leader, which reconnects and renews it in time."""
    a, b = lease(db, "a"), lease(db, "b")
    async with a.running():
        await asyncio.wait_for(a.acquired(), TAKEOVER)
        async with b.running():
            conn = await asyncpg.connect(db)
            try:
                for _ in range(3):
                    killed = await conn.fetchval(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE application_name = 'lease-a' AND datname = current_database()"
                    )
                    assert killed == 1
                    await asyncio.sleep(TIMING.expiry)
            finally:
                await conn.close()
            assert a.is_leader and a.term == 1
            assert not b.is_leader


async def test_a_sigkilled_leader_is_replaced_within_takeover_seconds(db: str) -> None:
    async with holding(db, TAKEOVER, "killed") as holder:
        assert await holder.says(within=20) == "leading 1"
        b = lease(db, "b")
        async with b.running():
            await asyncio.sleep(TIMING.heartbeat)  # b is a follower, not just starting
            assert not b.is_leader
            os.kill(holder.pid, signal.SIGKILL)
            loop = asyncio.get_running_loop()
            killed_at = loop.time()
            term = await asyncio.wait_for(b.acquired(), TAKEOVER)
            took = loop.time() - killed_at
            assert term == 2
            print(f"takeover after SIGKILL: {took:.2f}s (takeover_seconds {TAKEOVER:g})")


async def test_a_frozen_leader_steps_down_when_it_runs_again(db: str) -> None:
    """SIGSTOP (a paused VM, a stop-the-world pause): the others take over after the expiry;
    the old leader, resumed, finds its deadline passed and steps down at once. What it
    might write in between carries the old term: the fencing token exists for that."""
    async with holding(db, TAKEOVER, "frozen") as holder:
        assert await holder.says(within=20) == "leading 1"
        b = lease(db, "b")
        async with b.running():
            os.kill(holder.pid, signal.SIGSTOP)
            assert await asyncio.wait_for(b.acquired(), TAKEOVER) == 2
            os.kill(holder.pid, signal.SIGCONT)
            assert await holder.says(within=TIMING.heartbeat) == "lost 1"
            await asyncio.sleep(2 * TIMING.heartbeat)
            assert b.is_leader and b.term == 2  # the resumed one did not take it back


async def test_a_cut_off_leader_steps_down_before_another_takes_over(db: str) -> None:
    """A partition: the leader's bytes vanish without an error. It cannot renew, stops its
    work on its own clock, and only then may the other replica lead."""
    link = Blackhole(db)
    await link.start()
    a, b = lease(link.url, "a"), lease(db, "b")
    loop = asyncio.get_running_loop()
    moments: dict[str, float] = {}
    a.on_lost(lambda: moments.setdefault("a lost", loop.time()))

    async def work_as_leader() -> None:
        async with a.leading():
            await asyncio.Event().wait()  # the chat connection, say

    try:
        async with a.running():
            await asyncio.wait_for(a.acquired(), TAKEOVER)
            work = asyncio.create_task(work_as_leader())
            async with b.running():
                await asyncio.sleep(TIMING.heartbeat)
                link.cut()
                cut_at = loop.time()
                await asyncio.wait_for(b.acquired(), TAKEOVER)
                moments["b leads"] = loop.time()
                assert moments["a lost"] < moments["b leads"]
                assert moments["b leads"] - cut_at <= TAKEOVER
                with pytest.raises(LeadershipLost):
                    await work
                await eventually(lambda: not a.reachable, TIMING.expiry * 2, "a unreachable")
                link.mend()  # held bytes arrive late: a stale renewal must change nothing
                await eventually(lambda: a.reachable, TAKEOVER, "a reachable again")
                await asyncio.sleep(2 * TIMING.heartbeat)
                assert b.is_leader and b.term == 2
                assert not a.is_leader
    finally:
        await link.close()


async def test_a_leader_that_stops_hands_over_at_once(db: str) -> None:
    """A planned restart: the leader releases the lease and notifies; a follower woken by
    its listener leads well before its next heartbeat would have come."""
    slow = LeaseTiming(30.0)  # heartbeat 6 s: only the wake-up can make this fast
    a, b = lease(db, "a", slow), lease(db, "b", slow)
    listener = Listener(functools.partial(asyncpg.connect, db), check_seconds=30.0)
    listener.subscribe(LEADER_CHANNEL, b.poke)
    listening = asyncio.create_task(listener.run())
    try:
        await listener.listening()
        async with AsyncExitStack() as a_running:
            await a_running.enter_async_context(a.running())
            await asyncio.wait_for(a.acquired(), TAKEOVER)
            async with b.running():
                await asyncio.sleep(0.5)  # b tried and lost; its next try is 6 s away
                assert not b.is_leader
                await a_running.aclose()
                took = await eventually(lambda: b.is_leader, 1.0, "b leads after the release")
                print(f"handover after a release: {took:.3f}s")
                assert b.term == 2
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def test_metrics_show_which_replica_leads(db: str) -> None:
    a, b = lease(db, "empfang-1"), lease(db, "empfang-2")
    registries = CollectorRegistry(), CollectorRegistry()  # one per replica, as in production
    register_lease_metrics(registries[0], a)
    register_lease_metrics(registries[1], b)
    async with a.running():
        await asyncio.wait_for(a.acquired(), TAKEOVER)
        async with b.running():
            await eventually(lambda: b.reachable, TAKEOVER, "b reached the database")
            text = "".join(generate_latest(r).decode() for r in registries)
    assert 'empfang_ha_leader{replica="empfang-1"} 1.0' in text
    assert 'empfang_ha_leader{replica="empfang-2"} 0.0' in text
    assert 'empfang_ha_database_reachable{replica="empfang-2"} 1.0' in text
