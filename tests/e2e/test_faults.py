"""Faults under load on the real parts: the bot killed -9, Synapse stopped, WhatsApp failing.

Each test checks the promise that matters to the customer and the agent: every message shows
up exactly once, and in the order the customer (or agent) wrote it. Random choices use fixed
seeds; outage lengths come from ``EMPFANG_FAULT_SECONDS`` (see ``fault_world``).
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from bot.demo.stack import (
    RoomView,
    Stack,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse
from bot.sandbox import SandboxServer
from tests.e2e.fault_world import (
    FAULT_SECONDS,
    LINE,
    BotProcess,
    customer_number,
    late_marked,
    line,
    wait_for_lines,
)
from tests.e2e.matrix_world import roots, thread_of

CUSTOMERS = 10
PER_CUSTOMER = 30
SEED = 20261201
# Webhooks refused while the bot is down come back like Meta's: several times, spread out.
REDELIVERY = {"redelivery_seconds": [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0]}
# A killed bot's leased jobs wait out their lease before the restarted bot takes them again.
SHORT_LEASE = {"lease_seconds": 3.0}
# An unreachable Synapse is an outage and uses up no attempts (jobs.outage_patience), but a
# WhatsApp 500 is an attempt: the demo stack retries fast (0.2 s doubling to 2 s), so its 10
# attempts would be used up within ~15 s of 500s. That test is about order and duplicates.
PATIENT = {"max_attempts": 100}
# Every customer writes once per round: about 20 rounds fall into the outage, however long.
ROUND_SECONDS = max(0.5, FAULT_SECONDS / 20)


def _everything_once(found: dict[int, list[int]], per_customer: int) -> None:
    expected = list(range(per_customer))
    counts = {c: sorted(found.get(c, [])) for c in range(CUSTOMERS)}
    assert {c: n for c, n in counts.items() if n != expected} == {}, "lost or repeated"


def _out_of_order(found: dict[int, list[int]], per_customer: int) -> dict[int, list[int]]:
    expected = list(range(per_customer))
    return {c: found[c] for c in range(CUSTOMERS) if found[c] != expected}


def _everything_once_in_order(found: dict[int, list[int]], per_customer: int) -> None:
    _everything_once(found, per_customer)
    assert _out_of_order(found, per_customer) == {}


async def test_kill_9_at_random_points_loses_and_repeats_nothing(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    room = await create_support_room(synapse)
    settings = stack_settings(
        tmp_path, room, bot_port=free_port(), sandbox=REDELIVERY, jobs=SHORT_LEASE
    )
    view = RoomView(synapse, room.agent, room.room_id)
    async with SandboxServer(settings, port=0) as sandbox:
        settings.whatsapp.api_base = sandbox.graph_url
        bot = BotProcess(settings, tmp_path / "config.toml")
        await bot.start()
        try:

            async def customers_write() -> None:
                # One message per customer per second: WhatsApp timestamps have whole seconds,
                # so a customer's messages stay distinguishable by their own timestamps.
                for number in range(PER_CUSTOMER):
                    for customer in range(CUSTOMERS):
                        sandbox.say(customer_number(customer), line(customer, number))
                    await asyncio.sleep(1.0)

            writing = asyncio.create_task(customers_write())
            for _ in range(4):  # kills while customers write and while the backlog is relayed
                await asyncio.sleep(rng.uniform(1.0, 6.0))
                await bot.kill()
                await asyncio.sleep(rng.uniform(0.0, 1.0))
                await bot.start()
            await writing
            found = await wait_for_lines(view, CUSTOMERS, PER_CUSTOMER, within=180)
        finally:
            await bot.stop()
    assert bot.kills == 4
    assert len(await roots(view, room.bot.user_id)) == CUSTOMERS
    _everything_once(found, PER_CUSTOMER)
    # A webhook refused while the bot was down comes back by redelivery, possibly after later
    # lines were posted: such a line is marked with the time it was written, every other
    # line stands in the order the customer wrote it (issue 16, defect 11).
    assert _unmarked_out_of_order(found, await late_marked(view)) == {}


def _unmarked_out_of_order(
    found: dict[int, list[int]], marked: dict[int, set[int]]
) -> dict[int, list[int]]:
    """Customers whose thread breaks the order without saying so, or marks a line in place."""
    wrong = {}
    for customer, numbers in found.items():
        late = marked.get(customer, set())
        plain = [n for n in numbers if n not in late]
        shown_before = [max(numbers[:i], default=-1) for i in range(len(numbers))]
        marked_in_place = [
            n for n, top in zip(numbers, shown_before, strict=True) if n in late and n > top
        ]
        if plain != sorted(plain) or marked_in_place:
            wrong[customer] = numbers
    return wrong


async def test_synapse_stopped_under_load_then_everything_arrives_in_order(
    private_synapse: LocalSynapse, tmp_path: Path
) -> None:
    room = await create_support_room(private_synapse)
    settings = stack_settings(tmp_path, room, bot_port=free_port())
    view = RoomView(private_synapse, room.agent, room.room_id)
    rounds = 0

    async def one_round(stack: Stack) -> None:
        nonlocal rounds
        for customer in range(CUSTOMERS):
            stack.sandbox.say(customer_number(customer), line(customer, rounds))
        rounds += 1
        await asyncio.sleep(ROUND_SECONDS)

    async with Stack(settings) as stack:
        for _ in range(3):
            await one_round(stack)
        await private_synapse.stop()
        stopped = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - stopped < FAULT_SECONDS:
            await one_round(stack)  # acknowledged by the bot, queued for Matrix
        await private_synapse.start()
        for _ in range(3):
            await one_round(stack)
        found = await wait_for_lines(view, CUSTOMERS, rounds, within=60 + FAULT_SECONDS)
    _everything_once_in_order(found, rounds)


async def test_whatsapp_failing_500_and_429_then_replies_arrive_once_in_order(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    customers, replies = 3, 5
    room = await create_support_room(synapse)
    settings = stack_settings(tmp_path, room, bot_port=free_port(), jobs=PATIENT)
    view = RoomView(synapse, room.agent, room.room_id)
    async with Stack(settings) as stack:
        for customer in range(customers):
            stack.sandbox.say(customer_number(customer), line(customer, 0))

        async def all_roots() -> list[str] | None:
            found = [str(e["event_id"]) for e in await roots(view, room.bot.user_id)]
            return found if len(found) == customers else None

        threads = await wait_for(all_roots, within=30)

        async def customer_of_each_thread() -> dict[str, int] | None:
            # A root is posted before the customer's line in it: wait for both.
            found = {}
            for event in await view.messages():
                match = LINE.search(str(event["content"].get("body", "")))
                if thread_of(event) in threads and match:
                    found[thread_of(event)] = int(match[1])
            return found if len(found) == customers else None

        thread_customer = await wait_for(customer_of_each_thread, within=30)

        stack.sandbox.start_outage([500, 429], FAULT_SECONDS)
        for number in range(replies):
            for root in threads:
                customer = thread_customer[root]
                await view.reply_in_thread(root, f"Antwort {number} an {customer}")

        async def all_sent() -> bool:
            inboxes = [stack.sandbox.inbox(customer_number(c)) for c in range(customers)]
            return all(len(inbox["messages"]) >= replies for inbox in inboxes)

        await wait_for(all_sent, within=FAULT_SECONDS + 60)
        await asyncio.sleep(1.0)  # a duplicate would arrive right behind
        outage = stack.sandbox.faults.view()["outage"]
        for customer in range(customers):
            texts = [m["text"] for m in stack.sandbox.inbox(customer_number(customer))["messages"]]
            assert texts == [f"Antwort {n} an {customer}" for n in range(replies)]
    assert outage is not None and outage["refused"] >= customers, "the outage was not hit"
