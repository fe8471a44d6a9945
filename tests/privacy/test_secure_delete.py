"""Blanked and erased texts leave the SQLite file, not only its tables: without
``PRAGMA secure_delete`` the bytes of a deleted row stay in the page's free space (and in a
freed page) until SQLite happens to reuse it, readable by anyone who gets a copy of the
file, a backup or a disk image.

Debian builds SQLite with ``SECURE_DELETE`` on by default, other builds do not: the store
sets the pragma itself. With ``PRAGMA secure_delete = OFF`` the retention case fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.store import Store
from bot.store.erasure import ErasureStore
from tests.numbers import CUSTOMER, CUSTOMER_2

START = 1_800_000_000.0
SECRET = "Kontonummer-7Q4Z-Geheimtext"


def checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def holding_the_secret(folder: Path) -> list[str]:
    """The files in ``folder`` (the database, its -wal and -shm) with the text in them."""
    return sorted(f.name for f in folder.iterdir() if SECRET.encode() in f.read_bytes())


async def blank_by_retention(store: Store) -> None:
    async with store.transaction() as tx:
        ids, _ = await tx.retention.blank_bodies(after=0, before=START + 1, limit=1)
    assert len(ids) == 1


async def erase_the_contact(store: Store) -> None:
    async with store.transaction() as tx:
        contacts = await tx.subjects.contacts(wa_id=CUSTOMER)
        counts = await ErasureStore(tx.conn).delete_person([c.id for c in contacts], [])
    assert counts["messages"] == 1


@pytest.mark.parametrize("remove", [blank_by_retention, erase_the_contact])
async def test_a_removed_text_is_not_left_in_the_database_file(
    tmp_path: Path, remove: Callable[[Store], Awaitable[None]]
) -> None:
    db = tmp_path / "empfang.sqlite3"
    store = await Store.open(db, clock=ManualClock(START))
    try:
        intake = Intake(store, pseudonym_key=b"secure-delete-test-key-0123")
        for n, (number, text) in enumerate([(CUSTOMER, SECRET), (CUSTOMER_2, "bleibt")]):
            message = InboundMessage(
                provider_id=ProviderMessageId(f"wamid.secure{n}"),
                sender=Sender(wa_id=WaId(number)),
                timestamp=int(START),
                kind=MessageKind.TEXT,
                text=text,
            )
            await intake.accept(WebhookBatch(messages=(message,)))
        async with store.transaction() as tx:  # relayed: no job refers to them any more
            await tx.conn.execute("DELETE FROM jobs")
        await store.run_sync(checkpoint, transaction=False)
        assert holding_the_secret(tmp_path) == ["empfang.sqlite3"], "the text reached the file"
        await remove(store)
        await store.run_sync(checkpoint, transaction=False)
    finally:
        await store.close()
    assert holding_the_secret(tmp_path) == []
