"""The database restarted under load, with two ``empfang run`` replicas, real Synapse and the
sandbox: while PostgreSQL is down the intake answers 503 (never 200: nothing is acknowledged
that is not stored) and ``/readyz`` says so; afterwards everything resumes by itself, and
every customer line appears in Matrix once, in order.

A cluster of its own: stopping the suite's would break other tests' connections.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx

from bot.demo.stack import RoomView, create_support_room
from bot.demo.synapse import LocalSynapse
from bot.sandbox import SandboxServer
from tests.e2e.fault_world import late_marked, wait_for_lines
from tests.ha.replica_world import (
    Balancer,
    Replica,
    customers_write,
    shared_settings,
    two_replicas,
)
from tests.support.postgres import postgres_cluster

CUSTOMERS = 10
PER_CUSTOMER = 20
DOWN_SECONDS = 8.0
GRACE = 0.5
"""An answer written just as the server went down may still say 200 for a committed row."""


async def test_a_database_restart_under_load_acknowledges_nothing_it_did_not_store(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    rng = random.Random(20261201)
    room = await create_support_room(synapse)
    balancer = Balancer(rng)
    view = RoomView(synapse, room.agent, room.room_id)
    with postgres_cluster() as cluster:
        base = shared_settings(tmp_path, room, balancer, cluster.url())
        async with (
            SandboxServer(base, port=0) as sandbox,
            two_replicas(base, tmp_path, balancer, sandbox) as replicas,
        ):
            writing = asyncio.create_task(customers_write(sandbox, CUSTOMERS, PER_CUSTOMER))
            await asyncio.sleep(5.0)
            await asyncio.to_thread(cluster.stop, "fast")
            down_at = sandbox.clock.now()
            await asyncio.sleep(DOWN_SECONDS / 2)
            readiness = [await ready_status(replica) for replica in replicas]
            await asyncio.sleep(DOWN_SECONDS / 2)
            up_at = sandbox.clock.now()
            await asyncio.to_thread(cluster.start_server)
            await writing
            found = await wait_for_lines(view, CUSTOMERS, PER_CUSTOMER, within=120)
            marked = await late_marked(view)
        answers_while_down = [
            attempt["status_code"]
            for delivery in sandbox.deliveries()
            for attempt in delivery["attempts"]
            if down_at + GRACE < attempt["at"] < up_at
        ]
    assert readiness == [503, 503]
    assert answers_while_down and set(answers_while_down) == {503}, answers_while_down
    expected = list(range(PER_CUSTOMER))
    assert {c: n for c, n in found.items() if sorted(n) != expected} == {}, "lost or repeated"
    unmarked = {c: [n for n in ns if n not in marked.get(c, set())] for c, ns in found.items()}
    assert {c: n for c, n in unmarked.items() if n != sorted(n)} == {}


async def ready_status(replica: Replica) -> int:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        return (await client.get(f"{replica.url}/readyz")).status_code
