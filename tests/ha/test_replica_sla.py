"""Two ``empfang run`` replicas on one PostgreSQL, real Synapse, the WhatsApp sandbox: SLA
timers fall due while the leader is SIGKILLed, and each still fires exactly once (issue 14,
"SLA timers fire once").

Why once, and how this test would see twice: a timer is a durable job leased with
``SELECT … FOR UPDATE SKIP LOCKED``, so two live replicas never run the same one. A replica
killed while it holds a timer leaves the lease behind; after ``[jobs] lease_seconds`` a
replica takes the job again and posts the reminder again. That repeat is harmless only
because the post's Matrix transaction id derives from the database's ``instance_id`` and the
message (not from the replica), and both replicas send with the one device of the shared
account: Synapse answers the repeat with the first event. Were the key per replica (or per
process), a retaken timer would show a second reminder in the thread and the count below
would be two; a timer lost with the killed replica would show none.

So that the kill really leaves timers behind, all customers write at once (their reminders
fall due together, a burst of several hundred milliseconds) and the leader is killed a random
50-150 ms (fixed seed) into it, when its workers hold timers in every phase, some with their
reminder already in Synapse; the test checks that timers were still leased after the
survivor had finished its own, i.e. that the retaken-lease path ran. With the alert's
transaction id made per process (a mutation tried by hand), this test fails: the retaken
timers show two reminders. The leader is started again a few seconds later, before the
escalations fall due.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import asyncpg

from bot.demo.stack import RoomView, create_support_room, wait_for
from bot.demo.synapse import LocalSynapse
from bot.sandbox import SandboxServer
from tests.e2e.fault_world import customer_number, line
from tests.e2e.matrix_world import leaks, thread_of
from tests.ha.replica_world import Balancer, shared_settings, two_replicas
from tests.ha.test_replica_faults import the_leader

CUSTOMERS = 60
SEED = 20261201
UNANSWERED_AFTER = 8.0
ESCALATE_AFTER = 20.0
LEASE_SECONDS = 3.0
REMINDER = "⏰"
ESCALATION = "🚨"
LEASED_TIMERS = "SELECT count(*) FROM jobs WHERE kind = 'alert.sla' AND lease_token IS NOT NULL"


async def test_sla_timers_fire_once_across_a_leader_kill(
    synapse: LocalSynapse, db: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    room = await create_support_room(synapse)
    balancer = Balancer(random.Random(SEED + 1))
    base = shared_settings(
        tmp_path,
        room,
        balancer,
        db,
        jobs={"lease_seconds": LEASE_SECONDS},
        alerts={
            "unanswered_after": UNANSWERED_AFTER,
            "escalate_after": ESCALATE_AFTER,
            "oncall": {"matrix": [room.agent.user_id]},
        },
    )
    view = RoomView(synapse, room.agent, room.room_id)
    database = await asyncpg.connect(db)
    try:
        async with (
            SandboxServer(base, port=0) as sandbox,
            two_replicas(base, tmp_path, balancer, sandbox) as replicas,
        ):
            for customer in range(CUSTOMERS):
                sandbox.say(customer_number(customer), line(customer, 0))
            leader = await the_leader(replicas)
            await wait_for(lambda: database.fetchval(LEASED_TIMERS), within=30, interval=0.005)
            await asyncio.sleep(rng.uniform(0.05, 0.15))
            await leader.kill()
            await asyncio.sleep(1.0)  # the survivor finishes the timers it holds
            orphaned = await database.fetchval(LEASED_TIMERS)
            await asyncio.sleep(rng.uniform(2.0, 5.0))
            await leader.start()
            await wait_for(
                lambda: alerts_in_every_thread(view, room.bot.user_id), within=60, interval=0.5
            )
            await asyncio.sleep(2 * LEASE_SECONDS)  # a repeat would come after a lease expired
            alerts = await alerts_by_thread(view, room.bot.user_id)
            events = await view.events(limit=10_000)
    finally:
        await database.close()
    assert leader.kills == 1
    assert orphaned > 0, "the kill left no timer behind: nothing was retaken"
    assert len(alerts) == CUSTOMERS
    assert {
        root: kinds
        for root, kinds in alerts.items()
        if kinds != Counter({REMINDER: 1, ESCALATION: 1})
    } == {}, "an SLA alert lost or repeated"
    assert {
        c: found for c in range(CUSTOMERS) if (found := leaks(events, customer_number(c)))
    } == {}


async def alerts_by_thread(view: RoomView, bot_user: str) -> dict[str, Counter[str]]:
    """Per customer thread (a root the bot posted), how many reminders and escalations it
    shows; read in one go, as the room holds more events than ``RoomView.messages`` reads."""
    messages = [e for e in await view.events(limit=10_000) if e["type"] == "m.room.message"]
    found: dict[str, Counter[str]] = {
        str(e["event_id"]): Counter()
        for e in messages
        if e["sender"] == bot_user and not e["content"].get("m.relates_to")
    }
    for event in messages:
        body = str(event["content"].get("body", ""))
        if thread_of(event) in found and body[:1] in (REMINDER, ESCALATION):
            found[thread_of(event)][body[:1]] += 1
    return found


async def alerts_in_every_thread(view: RoomView, bot_user: str) -> dict[str, Counter[str]] | None:
    alerts = await alerts_by_thread(view, bot_user)
    done = len(alerts) == CUSTOMERS and all(
        kinds[REMINDER] and kinds[ESCALATION] for kinds in alerts.values()
    )
    return alerts if done else None
