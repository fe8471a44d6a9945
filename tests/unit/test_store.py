"""The store on SQLite and PostgreSQL: migrations, refusing a newer schema, WAL, one
transaction at a time; PostgreSQL's schema is SQLite's."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.errors import SchemaTooNewError, StoreError
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.store import Store
from bot.store.migrations import LATEST_VERSION, MIGRATIONS
from tests.numbers import CUSTOMER
from tests.support.postgres import PostgresCluster


async def test_fresh_database_is_migrated_to_latest_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.sqlite3")
    await store.close()
    with sqlite3.connect(tmp_path / "s.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_reopening_keeps_data_and_version(store_target: Path | str) -> None:
    store = await Store.open(store_target)
    async with store.transaction() as tx:
        await tx.jobs.enqueue("k", '{"a":1}', now=1.0)
    await store.close()
    store = await Store.open(store_target)
    async with store.transaction() as tx:
        assert await tx.jobs.counts() == {"pending": 1}
    await store.close()


async def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    await (await Store.open(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(SchemaTooNewError, match="newer than this Empfang supports"):
        await Store.open(path)
    with sqlite3.connect(path) as conn:  # and it was left alone
        assert conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION + 1,)


async def test_a_version_3_database_is_upgraded_and_keeps_its_contacts(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    with sqlite3.connect(path) as conn:
        for script in MIGRATIONS[:3]:
            conn.executescript(script)
        conn.execute("PRAGMA user_version = 3")
        conn.execute(
            "INSERT INTO contacts (wa_id, pseudonym, created_at, last_inbound_at)"
            " VALUES ('4915100000001', 'K-OLD', 1.0, 2.0)"
        )
    await (await Store.open(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(contacts)")}
        assert "last_inbound_at" not in columns
        assert conn.execute("SELECT wa_id, pseudonym FROM contacts").fetchall() == [
            ("4915100000001", "K-OLD")
        ]


async def test_failed_transaction_leaves_nothing(store_target: Path | str) -> None:
    store = await Store.open(store_target)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.jobs.enqueue("k", "{}", now=1.0)
            raise RuntimeError("crash between enqueue and commit")
    async with store.transaction() as tx:
        assert await tx.jobs.counts() == {}
    await store.close()


async def test_run_sync_commits_or_rolls_back_as_one_transaction(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.sqlite3")

    def enqueue_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO jobs (kind, payload, run_after, created_at) VALUES ('k', '{}', 0, 0)"
        )
        raise RuntimeError("crash inside the hand-off")

    with pytest.raises(RuntimeError):
        await store.run_sync(enqueue_then_fail)

    def enqueue(conn: sqlite3.Connection) -> int:
        cur = conn.execute(
            "INSERT INTO jobs (kind, payload, run_after, created_at) VALUES ('k', '{}', 0, 0)"
        )
        return int(cur.lastrowid or 0)

    assert await store.run_sync(enqueue) > 0
    async with store.transaction() as tx:
        assert await tx.jobs.counts() == {"pending": 1}
    await store.close()


async def test_cancelled_run_sync_holds_the_connection_until_its_work_is_done(
    tmp_path: Path,
) -> None:
    """The hand-off's thread cannot be stopped: a transaction begun while it still ran would
    share its connection ("cannot start a transaction within a transaction")."""
    store = await Store.open(tmp_path / "s.sqlite3")
    started = threading.Event()

    def slow_enqueue(conn: sqlite3.Connection) -> None:
        started.set()
        time.sleep(0.3)
        conn.execute(
            "INSERT INTO jobs (kind, payload, run_after, created_at) VALUES ('k', '{}', 0, 0)"
        )

    task = asyncio.create_task(store.run_sync(slow_enqueue))
    try:
        await asyncio.to_thread(started.wait)
        task.cancel()
        async with store.transaction() as tx:
            assert await tx.jobs.counts() == {"pending": 1}
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await asyncio.wait([task])
        await store.close()


async def test_an_sqlite_without_json_operators_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 37, 2))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.37.2")
    with pytest.raises(StoreError, match=r"SQLite 3\.37\.2 is too old: Empfang needs 3\.38\.0"):
        await Store.open(tmp_path / "s.sqlite3")
    assert not (tmp_path / "s.sqlite3").exists()


async def test_transactions_do_not_see_each_others_half_done_work(store_target: Path | str) -> None:
    """Two coroutines at once: the second transaction starts only after the first commits."""
    store = await Store.open(store_target)
    seen: list[dict[str, int]] = []

    async def enqueue_slowly() -> None:
        async with store.transaction() as tx:
            await tx.jobs.enqueue("k", "{}", now=1.0)
            await asyncio.sleep(0.05)
            await tx.jobs.enqueue("k", "{}", now=1.0)

    async def count() -> None:
        async with store.transaction() as tx:
            seen.append(await tx.jobs.counts())

    try:
        first = asyncio.create_task(enqueue_slowly())
        await asyncio.sleep(0.01)
        await asyncio.gather(first, count())
        assert await store.writable()
    finally:
        await store.close()
    assert seen == [{"pending": 2}]


async def schema_version_of(url: str) -> int:
    store = await Store.open(url)
    try:
        async with store.transaction() as tx:
            found = await tx.conn.fetchval("SELECT value FROM meta WHERE key = 'schema_version'")
    finally:
        await store.close()
    return int(found)


async def test_a_postgresql_database_is_made_at_the_latest_version(
    postgres: PostgresCluster,
) -> None:
    url = postgres.new_database()
    assert await schema_version_of(url) == LATEST_VERSION
    assert await schema_version_of(url) == LATEST_VERSION  # reopened: nothing to do


async def test_a_newer_postgresql_schema_is_refused(postgres: PostgresCluster) -> None:
    url = postgres.new_database()
    store = await Store.open(url)
    async with store.transaction() as tx:
        await tx.conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(LATEST_VERSION + 1),)
        )
    await store.close()
    with pytest.raises(SchemaTooNewError, match="newer than this Empfang supports"):
        await Store.open(url)


async def test_postgresql_has_sqlites_tables_and_columns(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    """The PostgreSQL baseline plus the migrations after it make SQLite's final schema: a
    migration appended for one backend only shows here. PostgreSQL's own additions stand
    in for what SQLite has built in (``sqlite_sequence``, ``rowid``)."""
    await (await Store.open(tmp_path / "s.sqlite3")).close()
    with sqlite3.connect(tmp_path / "s.sqlite3") as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        sqlite_columns = {
            table: sorted(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
            for table in tables
        }
    store = await Store.open(postgres.new_database())
    try:
        async with store.transaction() as tx:
            rows = await tx.conn.fetchall(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' ORDER BY table_name, column_name"
            )
    finally:
        await store.close()
    postgres_columns: dict[str, list[str]] = {}
    for table, column in rows:
        postgres_columns.setdefault(str(table), []).append(str(column))
    assert postgres_columns.pop("chain_sequences") == ["name", "seq"]
    postgres_columns["agent_reactions"].remove("seq")
    assert postgres_columns == sqlite_columns


async def test_postgresql_dropping_the_connection_fails_one_intake_then_it_reconnects(
    postgres: PostgresCluster,
) -> None:
    """The server ends the store's session (a restart, a failover): a webhook is answered
    503 at most once (the store saw the connection die mid-request; Meta redelivers) and
    is stored once, on a new connection, without restarting Empfang."""
    url = postgres.new_database()
    store = await Store.open(url)
    intake = Intake(store, pseudonym_key=b"reconnect-test-key-0123456789")
    try:
        await intake.accept(batch(1))
        killer = await Store.open(url)
        async with killer.transaction() as tx:
            await tx.conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        await killer.close()
        stored = 0
        for _ in range(2):  # Meta's redelivery after a 503, if the first one got it
            with contextlib.suppress(StoreError):
                stored += (await intake.accept(batch(2))).new_messages
        assert stored == 1
        assert (await intake.accept(batch(3))).new_messages == 1
        async with store.transaction() as tx:
            assert await tx.conn.fetchval("SELECT count(*) FROM messages") == 3
    finally:
        await store.close()


def batch(n: int) -> WebhookBatch:
    message = InboundMessage(
        provider_id=ProviderMessageId(f"wamid.reconnect{n}"),
        sender=Sender(wa_id=WaId(CUSTOMER)),
        timestamp=1,
        kind=MessageKind.TEXT,
        text=f"Nachricht {n}",
    )
    return WebhookBatch(messages=(message,))


async def test_two_processes_creating_one_contact_on_postgresql_share_it(
    postgres: PostgresCluster,
) -> None:
    """A customer's first messages reach two replicas at once: both look the contact up,
    find none and insert it. The second insert waits for the first's commit and uses the
    contact it made, instead of failing the delivery on the unique number."""
    url = postgres.new_database()
    first, second = await Store.open(url), await Store.open(url)
    sender = Sender(wa_id=WaId(CUSTOMER), user_id="DE.race", profile_name="Erika")

    async def upsert(store: Store) -> int:
        async with store.transaction() as tx:
            return await tx.contacts.upsert(sender, pseudonym="K-RACE01", region="DE", now=1.0)

    try:
        async with first.transaction() as tx:
            made = await tx.contacts.upsert(sender, pseudonym="K-RACE01", region="DE", now=1.0)
            racing = asyncio.create_task(upsert(second))
            await asyncio.sleep(0.3)  # the second has looked up and is inserting: it waits
        assert await racing == made
        async with second.transaction() as tx:
            assert await tx.conn.fetchval("SELECT count(*) FROM contacts") == 1
    finally:
        await first.close()
        await second.close()


async def test_a_postgresql_constraint_error_does_not_quote_the_number(
    postgres: PostgresCluster,
) -> None:
    """PostgreSQL's DETAIL would say ``Key (wa_id)=(<the number>) already exists``: the
    error's text reaches logs and a dead job's reason, and a number must not."""
    store = await Store.open(postgres.new_database())
    insert = (
        "INSERT INTO contacts (wa_id, pseudonym, created_at) VALUES (?, 'K-DUP', 1.0)",
        (CUSTOMER,),
    )
    try:
        async with store.transaction() as tx:
            await tx.conn.execute(*insert)
        with pytest.raises(store.errors) as refused:
            async with store.transaction() as tx:
                await tx.conn.execute(*insert)
    finally:
        await store.close()
    assert "contacts_wa_id_key" in str(refused.value)
    assert CUSTOMER not in str(refused.value) and CUSTOMER[-8:] not in repr(refused.value)
