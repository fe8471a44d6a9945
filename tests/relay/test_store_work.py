"""What one relayed customer message costs the store, counted, not timed: the relay is
CPU-bound per message (issue 16, relay overhead), and every commit is an fsync."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.store import Store
from tests.alerts.desk import Desk, at
from tests.business_numbers.test_room_routing import (
    SALES,
    SALES_ROOM,
    RoomsChat,
    settings_with,
    wire,
)
from tests.business_numbers.test_room_routing import Desk as RoomsDesk
from tests.cases.doubles import RecordingWhatsApp
from tests.slack.test_combining import Chat as CombiningChat

MESSAGES = 10
NO_PAGER = "http://127.0.0.1:9/v2/enqueue"
"""Nothing here pages (no keyword, no escalation): the URL is never called."""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "work.sqlite3", clock=ManualClock(at("2026-11-30 10:00")))
    yield opened
    await opened.close()


async def relay_in_existing_thread(
    store: Store, desk: Desk, statements: Callable[[str], None] | None = None
) -> int:
    """Relays ``MESSAGES`` messages of a customer whose thread exists (each taken in,
    relayed, and the worker then finds nothing more to do), with ``statements`` seeing every
    statement meanwhile; returns the hand-offs to the store's thread they took."""
    await desk.customer_says("Guten Tag")  # opens the conversation and its thread
    store.trace(statements)
    before = store.handoffs
    for n in range(MESSAGES):
        await desk.customer_says(f"Frage {n}")
    store.trace(None)
    return store.handoffs - before


async def statements_per_message(store: Store, desk: Desk) -> Counter[str]:
    """Statements by their first word, per relayed message."""
    seen: Counter[str] = Counter()
    await relay_in_existing_thread(
        store, desk, lambda sql: seen.update([sql.split(maxsplit=1)[0].upper()])
    )
    return Counter({word: count // MESSAGES for word, count in seen.items()})


async def synced_commits_per_message(store: Store, desk: Desk) -> float:
    """COMMITs made while SQLite syncs its WAL at each commit (``synchronous = FULL``, the
    default), per relayed message; from the level the connection is at as tracing starts."""
    rows = await store.transact(lambda tx: tx.conn.fetchall("PRAGMA synchronous"), durable=False)
    level, synced = [{2: "FULL", 1: "NORMAL"}[rows[0][0]]], [0]

    def seen(sql: str) -> None:
        words = sql.upper().split()
        if words[:2] == ["PRAGMA", "SYNCHRONOUS"] and len(words) == 4:
            level[0] = {"2": "FULL", "1": "NORMAL", "0": "OFF"}.get(words[3], words[3])
        elif words == ["COMMIT"] and level[0] == "FULL":
            synced[0] += 1

    await relay_in_existing_thread(store, desk, seen)
    return synced[0] / MESSAGES


async def test_a_message_into_an_existing_thread_waits_for_the_disk_only_at_the_intake(
    store: Store,
) -> None:
    """Of the relay's commits none is synced when the thread exists: the lease, the
    take-in, the post record with the end of the job and the idle poll are written without
    waiting for the disk (``Store.transact(durable=False)``); a ``kill -9`` loses none of
    them, a power loss only what a crash just before them would have left undone (the
    take-in: see ``Relay._take_in_room``). Before: four synced COMMITs, then one (the
    take-in), each ~0.3 ms here and up to 100 ms on the VM's bad moments, one after the
    other on the store's thread, where the intake's synced commits wait behind them."""
    desk = Desk(store, NO_PAGER)
    assert await synced_commits_per_message(store, desk) == 0
    assert store.wal_syncs == 1  # the first message's: its conversation gets a thread
    assert sum(len(posts) for posts in desk.chat.posts.values()) == MESSAGES + 1


async def test_a_new_conversation_is_on_disk_before_its_thread_is_opened(store: Store) -> None:
    """The take-in that opens a conversation syncs the WAL before the thread is opened:
    the thread is keyed by the conversation's id, which a power loss must not give to
    another conversation. One sync per new conversation, none per later message."""
    desk = Desk(store, NO_PAGER)
    customers = [f"49151{n:08d}" for n in range(3)]
    for wa_id in customers:
        await desk.customer_says("Guten Tag", wa_id=wa_id)
    assert store.wal_syncs == len(customers)
    for wa_id in customers:
        await desk.customer_says("Noch eine Frage", wa_id=wa_id)
    assert store.wal_syncs == len(customers)
    assert len(desk.chat.posts) == len(customers)


async def test_a_relayed_message_takes_four_commits_and_few_statements(
    store: Store,
) -> None:
    """Four COMMITs: the lease, the relay's read-and-assign, its post record together with
    the end of the job (before, a commit of its own), and the worker finding the queue empty,
    which also reads when the next job is due (before, a transaction of its own). The intake
    is one statement that SQLite commits by itself, not synced on the store's thread
    (``bot.store.wal_sync``), so the level stays at NORMAL: no ``PRAGMA synchronous`` (two
    before that, down after the intake's synced write and up again before the next; six
    before those, ~10 µs each, as every commit not synced lowered the level and restored
    it)."""
    desk = Desk(store, NO_PAGER)
    work = await statements_per_message(store, desk)
    assert work["COMMIT"] <= 4, work
    assert work["SELECT"] <= 11, work  # 12 when the take-in read its own message twice
    assert work["PRAGMA"] == 0, work
    assert sum(work.values()) - work["PRAGMA"] <= 35, work
    assert sum(len(posts) for posts in desk.chat.posts.values()) == MESSAGES + 1


async def test_a_relayed_message_takes_five_handoffs_to_the_store_thread(store: Store) -> None:
    """One trip to the store's thread per transaction (``Store.transact``), not one per
    statement plus begin and commit: the intake's bulk write, the lease, the relay job
    taking the message in, recording its post with the end of the job, and the worker
    finding the queue empty. 28 before, ~35 µs of event-loop CPU each
    (``bench/store_handoff.py``)."""
    desk = Desk(store, NO_PAGER)
    assert await relay_in_existing_thread(store, desk) / MESSAGES <= 5
    assert sum(len(posts) for posts in desk.chat.posts.values()) == MESSAGES + 1


async def test_on_a_combining_platform_a_line_alone_takes_no_riders_handoff(
    store: Store,
) -> None:
    """On a platform that combines queued lines (Slack), the relay looks for riders in a
    transaction of its own once the posting slot is there. When nothing was queued behind
    the line as it was taken in and the slot came without a wait, there is nothing to find:
    five hand-offs, as on Matrix, not six (``bot.batching.may_carry``)."""
    chat = CombiningChat(combine=10)
    desk = Desk(store, NO_PAGER, chat=chat)
    assert await relay_in_existing_thread(store, desk) / MESSAGES <= 5
    assert chat.waits == MESSAGES + 1
    assert len(chat.lines) == MESSAGES + 1


async def test_with_a_room_per_number_a_relayed_message_takes_no_extra_handoff(
    tmp_path: Path,
) -> None:
    """With several rooms the relay job reads where its message's thread is in its own first
    transaction (``JobRooms.of_message``), not in one more of its own before it."""
    clock = ManualClock(at("2026-11-30 10:00"))
    store = await Store.open(tmp_path / "rooms.sqlite3", clock=clock)
    chat, whatsapp = RoomsChat(), RecordingWhatsApp()
    wired = wire(store, settings_with(), chat, whatsapp)
    try:
        desk = RoomsDesk(store, clock, chat, whatsapp, wired)
        await desk.says("Guten Tag", to=SALES)
        before = store.handoffs
        for n in range(MESSAGES):
            await desk.says(f"Frage {n}", to=SALES)
        assert (store.handoffs - before) / MESSAGES <= 5
        sales = desk.thread_in(SALES_ROOM)
        assert chat.post_rooms.count((SALES_ROOM, sales)) == MESSAGES + 1
    finally:
        await wired.stop(0)
        await store.close()
