"""The intake's WAL sync runs off the store's thread (``bot.store.wal_sync``), and still
nothing is answered or posted before it is on disk.

The sync is held up by a gate on ``os.fdatasync``, the system call the syncer makes: the
store's other work must go on meanwhile, the webhook must not be answered, and the job of
the message must not run.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.errors import StoreError
from bot.ids import ProviderMessageId, WaId
from bot.store import Store
from bot.store.wal_sync import WalSyncer
from tests.alerts.desk import Desk, at
from tests.relay.test_store_work import NO_PAGER
from tests.support.inbound import customer_sends

CUSTOMER = "4915112345678"
WAIT = 5.0


class Gate:
    """Holds every ``os.fdatasync`` until opened; counts the calls."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.calls = 0
        self.fail: OSError | None = None
        self._real = os.fdatasync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.entered.set()
        if not self.opened.wait(WAIT * 2):
            raise AssertionError("the gate was never opened")
        if self.fail is not None:
            raise self.fail
        self._real(fd)

    async def reached(self) -> None:
        """Returns once a sync waits at the gate (fails the test if none comes)."""
        await asyncio.wait_for(asyncio.to_thread(self.entered.wait, WAIT * 2), WAIT)
        assert self.entered.is_set(), "no WAL sync came"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "sync.sqlite3", clock=ManualClock(at("2026-11-30 10:00")))
    yield opened
    await opened.close()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    yield held
    held.opened.set()  # no thread left waiting at the end of a failed test


async def desk_with_thread(store: Store) -> Desk:
    """A desk whose customer has a thread already: the relay then syncs nothing itself."""
    desk = Desk(store, NO_PAGER)
    await desk.customer_says("Guten Tag", wa_id=CUSTOMER)
    return desk


def posts(desk: Desk) -> int:
    return sum(len(lines) for lines in desk.chat.posts.values())


async def test_the_store_goes_on_while_the_intake_waits_for_the_disk(
    store: Store, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the intake's write was committed at FULL on the store's thread, and every
    lease, take-in and post record waited behind its ``fdatasync``."""
    desk = await desk_with_thread(store)
    monkeypatch.setattr(os, "fdatasync", gate)
    webhook = asyncio.create_task(
        customer_sends(desk.intake, desk.clock, CUSTOMER, kind=MessageKind.TEXT, text="Hallo")
    )
    await gate.reached()
    now = store.clock.now()
    due = await asyncio.wait_for(
        store.transact(lambda tx: tx.jobs.next_due(now), durable=False), WAIT
    )
    assert due is not None  # the store answered, and the new message's job is there
    assert not webhook.done(), "answered before the message was on disk"
    gate.opened.set()
    await asyncio.wait_for(webhook, WAIT)
    assert gate.calls == 1


async def test_a_job_does_not_run_before_its_message_is_on_disk(
    store: Store, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posted to the chat, then lost with the power before the sync, the message would come
    again from Meta under a new id and be posted twice."""
    desk = await desk_with_thread(store)
    before = posts(desk)
    monkeypatch.setattr(os, "fdatasync", gate)
    webhook = asyncio.create_task(
        customer_sends(desk.intake, desk.clock, CUSTOMER, kind=MessageKind.TEXT, text="Hallo")
    )
    await gate.reached()
    worker = asyncio.create_task(desk.pool.run_once())
    await asyncio.sleep(0.3)
    assert not worker.done() and posts(desk) == before, "posted before it was on disk"
    gate.opened.set()
    assert await asyncio.wait_for(worker, WAIT) is True
    await asyncio.wait_for(webhook, WAIT)
    assert posts(desk) == before + 1


async def test_webhooks_that_wait_for_one_sync_share_the_next(
    store: Store, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = await desk_with_thread(store)
    synced_before = store.intake_syncs
    monkeypatch.setattr(os, "fdatasync", gate)
    first = asyncio.create_task(
        customer_sends(desk.intake, desk.clock, CUSTOMER, kind=MessageKind.TEXT, text="1")
    )
    await gate.reached()
    others = [
        asyncio.create_task(
            customer_sends(
                desk.intake, desk.clock, f"49151000000{n:02d}", kind=MessageKind.TEXT, text="x"
            )
        )
        for n in range(5)
    ]
    await asyncio.sleep(0.1)
    gate.opened.set()
    await asyncio.wait_for(asyncio.gather(first, *others), WAIT)
    assert gate.calls == 2  # the first webhook's, and one for the five that came meanwhile
    assert store.intake_syncs - synced_before == 2
    await desk.pool.run_until_idle()
    assert posts(desk) == 1 + 6


async def test_a_failed_sync_is_a_503_and_the_redelivery_is_stored_once(
    store: Store, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write is in the WAL but not known to be on disk: the webhook is refused (the web
    layer answers 503 for StoreError), Meta sends it again, and the second delivery finds
    the message stored and its job queued, once."""
    desk = await desk_with_thread(store)
    gate.fail = OSError(errno.EIO, "Input/output error")
    gate.opened.set()
    monkeypatch.setattr(os, "fdatasync", gate)
    message_id = "wamid.redelivered"
    with pytest.raises(StoreError, match="cannot sync the store's WAL"):
        await send_with_id(desk, message_id)
    gate.fail = None
    await send_with_id(desk, message_id)
    await desk.pool.run_until_idle()
    rows = await store.transact(
        lambda tx: tx.conn.fetchall(
            "SELECT count(*) FROM messages WHERE provider_id = ?", (message_id,)
        )
    )
    assert rows[0][0] == 1
    assert posts(desk) == 2


async def send_with_id(desk: Desk, provider_id: str) -> None:
    message = InboundMessage(
        provider_id=ProviderMessageId(provider_id),
        sender=Sender(wa_id=WaId(CUSTOMER)),
        timestamp=int(desk.clock.now()),
        kind=MessageKind.TEXT,
        text="noch einmal",
    )
    await desk.intake.accept(WebhookBatch(messages=(message,)))


async def test_at_synchronous_normal_the_intake_syncs_nothing(tmp_path: Path) -> None:
    store = await Store.open(
        tmp_path / "normal.sqlite3", clock=ManualClock(at("2026-11-30 10:00")), synchronous="normal"
    )
    try:
        desk = await desk_with_thread(store)
        await desk.customer_says("Frage", wa_id=CUSTOMER)
        assert store.intake_syncs == 0
        assert posts(desk) == 2
    finally:
        await store.close()


async def test_the_syncer_syncs_each_write_at_once_and_nothing_while_idle(
    tmp_path: Path,
) -> None:
    """The sync starts as the write is told (on the store's thread), not when someone
    asks; with no write, asking costs no sync."""
    wal = tmp_path / "x-wal"
    wal.write_bytes(b"")
    syncer = WalSyncer(wal)
    try:
        await syncer.synced()
        assert syncer.syncs == 0
        syncer.written()
        await asyncio.wait_for(asyncio.to_thread(wait_for_syncs, syncer, 1), WAIT)
        await syncer.synced()
        await asyncio.sleep(0.05)
        assert syncer.syncs == 1
    finally:
        syncer.stop()


def wait_for_syncs(syncer: WalSyncer, count: int) -> None:
    while syncer.syncs < count:
        threading.Event().wait(0.001)
