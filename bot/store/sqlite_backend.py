"""SQLite: one aiosqlite connection, WAL, ``BEGIN IMMEDIATE`` per transaction.

The hot path (:meth:`SqliteBackend.run_sync`) uses the same connection from the store's own
thread, through aiosqlite's public API only: the backend makes the ``sqlite3`` connection
itself (the ``connector`` of :class:`aiosqlite.Connection`) and uses it while the store holds
its lock, when aiosqlite's thread has nothing of this connection's to do.
"""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import Callable, Coroutine, Iterable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.errors import StoreError
from bot.private_files import private_file, tighten_sqlite
from bot.store import bulk
from bot.store.backend import Backend
from bot.store.checkpointer import BACKSTOP_PAGES, PAUSE_SECONDS, WalCheckpointer
from bot.store.direct import DirectConnection, run_to_end
from bot.store.migrations import migrate
from bot.store.sql import Args, Connection, Dialect, Row
from bot.store.sync_thread import SyncThread
from bot.store.wal_sync import WalSyncer, sync_file

T = TypeVar("T")

MIN_SQLITE = (3, 38, 0)
"""JSON operators (``->>``) used by the intake's bulk SQL."""


def _json_path(path: str) -> str:
    return f"'$.{path}'"


class SqliteDialect(Dialect):
    name = "sqlite"
    chain_sequence = "SELECT seq FROM sqlite_sequence WHERE name = ?"
    insertion_order = "rowid"
    probe_write = "CREATE TEMP TABLE IF NOT EXISTS probe (x)"
    skip_locked = ""
    order_lock = ""

    def json_text(self, document: str, path: str) -> str:
        return f"{document} ->> {_json_path(path)}"

    def json_int(self, document: str, path: str) -> str:
        return f"CAST({document} ->> {_json_path(path)} AS INTEGER)"

    def greatest(self, first: str, second: str) -> str:
        return f"max({first}, {second})"

    def without_media_ref(self, document: str) -> str:
        return (
            f"json_set(json_remove({document}, '$.media.url', '$.media.sha256'),"
            " '$.media.media_id', '')"
        )


DIALECT = SqliteDialect()


class SqliteConnection(Connection):
    """The repositories' view of the aiosqlite connection: one hand-off to the database
    thread per call (``execute_fetchall``, not execute + fetch + close)."""

    dialect = DIALECT

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.handoffs = 0
        """Trips to a database thread so far, this connection's and the backend's
        (``Store.handoffs``)."""

    async def execute(self, sql: str, args: Args = ()) -> int:
        self.handoffs += 1
        cursor = await self._conn.execute(sql, tuple(args))
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Args]) -> None:
        self.handoffs += 1
        await self._conn.executemany(sql, [tuple(row) for row in rows])

    async def fetchall(self, sql: str, args: Args = ()) -> list[Row]:
        self.handoffs += 1
        return list(await self._conn.execute_fetchall(sql, tuple(args)))

    async def sync_at_commit(self) -> None:
        """Nothing to do: transactions through aiosqlite (``Store.transaction``) are always
        committed at the configured level."""


class SqliteBackend(Backend):
    conn: SqliteConnection
    errors = (sqlite3.Error, ValueError)
    """ValueError: aiosqlite's "no active connection" once closed."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        raw: sqlite3.Connection,
        instance_id: str,
        checkpointer: WalCheckpointer,
        synchronous: str,
        wal: Path,
    ):
        self._conn = conn
        self.conn = SqliteConnection(conn)
        self.raw = raw
        """``conn``'s own sqlite3 connection, for :meth:`run_sync`."""
        self.instance_id = instance_id
        self._sync_thread = SyncThread("empfang-store")
        self.checkpointer = checkpointer
        """Copies the WAL back into the file; told of every commit that changed rows."""
        self._changes_seen = raw.total_changes
        self._synced = synchronous.upper()
        """The configured level: every commit but those not asked to be durable."""
        self._level = self._synced
        """The connection's level now. A commit not synced lowers it and leaves it lowered
        until a synced one raises it again: two ``PRAGMA`` per switch (~10 µs each on the
        store's thread), which was six per relayed message when each such commit lowered
        and restored it."""
        self._wal = wal
        self.wal_syncs = 0
        """WAL syncs that a commit not synced asked for (:meth:`sync_at_commit`); tests count
        them."""
        self._direct = DirectConnection(raw, DIALECT)
        self._intake_ready = False
        self._intake_syncer = WalSyncer(wal) if self._synced == "FULL" else None
        """The intake's WAL syncs, off the store's thread (``bot.store.wal_sync``); none at
        ``synchronous = normal``, where the intake's commits are not synced either."""

    @classmethod
    async def open(
        cls, path: Path, *, synchronous: str, checkpoint_pause: float = PAUSE_SECONDS
    ) -> SqliteBackend:
        """Open (creating if needed) and migrate. ``synchronous=full`` survives power loss.
        ``checkpoint_pause``: see :data:`bot.store.checkpointer.PAUSE_SECONDS`."""
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(
                f"SQLite {sqlite3.sqlite_version} is too old: Empfang needs"
                f" {'.'.join(map(str, MIN_SQLITE))} or newer (Python's sqlite3 module links it)"
            )
        if synchronous not in ("full", "normal"):
            raise StoreError(f"store.synchronous must be full or normal, not {synchronous!r}")
        try:
            # Private before SQLite opens it: its -wal/-shm copy the database file's mode.
            private_file(path)
            tighten_sqlite(path)
            raw_made: list[sqlite3.Connection] = []

            def connect() -> sqlite3.Connection:
                raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                raw_made.append(raw)
                return raw

            conn = await aiosqlite.Connection(connect, iter_chunk_size=64)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open store {path}: {exc}") from exc
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            # Erased and purged texts are overwritten with zeros where they stood, not left
            # in free pages of the file (and of the -wal) until SQLite happens to reuse them.
            await conn.execute("PRAGMA secure_delete = ON")
            # Commits leave checkpoints to the checkpointer's thread (bot.store.checkpointer).
            await conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
            await migrate(conn)
            async with conn.execute("SELECT value FROM meta WHERE key = 'instance_id'") as cur:
                row = await cur.fetchone()
            checkpointer = WalCheckpointer(path, synchronous=synchronous, pause=checkpoint_pause)
        except BaseException:
            await conn.close()
            raise
        assert row is not None
        wal = path.with_name(f"{path.name}-wal")
        return cls(conn, raw_made[0], str(row[0]), checkpointer, synchronous, wal)

    async def begin(self) -> None:
        if self._level != self._synced:  # after a commit not synced (``transact``)
            self.conn.handoffs += 1
            await self._conn.execute(f"PRAGMA synchronous = {self._synced}")
            self._level = self._synced
        self.conn.handoffs += 1
        await self._conn.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        self.conn.handoffs += 1
        await self._conn.commit()
        self._note_writes()

    async def rollback(self) -> None:
        self.conn.handoffs += 1
        await self._conn.rollback()

    async def close(self) -> None:
        self.checkpointer.stop()
        await self._conn.close()
        self._sync_thread.stop()
        if self._intake_syncer is not None:
            self._intake_syncer.stop()

    async def announce_jobs(self) -> None:
        """No one to tell: one process writes the file, and ``Store.on_new_jobs`` wakes its
        own workers."""

    async def run_sync(
        self,
        work: Callable[[sqlite3.Connection], T],
        *,
        transaction: bool,
        synced: bool = True,
    ) -> T:
        """``work`` on the store's thread in one hand-off (see ``Store.run_sync``); the
        caller holds the store's lock, and keeps it until ``work`` is done even if cancelled
        (:meth:`SyncThread.run`). Not ``synced``: at ``synchronous = NORMAL``, the WAL
        written but not synced at its commit (SQLite allows no change of the level inside a
        transaction)."""
        raw = self.raw
        level = self._synced if synced else "NORMAL"
        self.conn.handoffs += 1

        def at_level() -> T:
            if self._level != level:
                raw.execute(f"PRAGMA synchronous = {level}")
                self._level = level
            return _in_transaction(raw, work) if transaction else work(raw)

        result = await self._sync_thread.run(at_level)
        self._note_writes()
        return result

    def _note_writes(self) -> None:
        """Wake the checkpointer only after a commit that changed rows: the job workers'
        polls commit read-only transactions, and each would cost an idle bot a pass."""
        changes = self.raw.total_changes
        if changes != self._changes_seen:
            self._changes_seen = changes
            self.checkpointer.written()

    async def transact(
        self, body: Callable[[Connection], Coroutine[Any, Any, T]], *, durable: bool = True
    ) -> T:
        """All of ``body`` on the store's thread, begin to commit, in ONE hand-off
        (``bot.store.direct``); in the caller's context (``contextvars``: the chat room a
        job runs for). Not ``durable``: committed at ``synchronous = NORMAL``, unless the
        body asked for its commit to be synced after all (:meth:`DirectConnection.
        sync_at_commit`): then the WAL is synced right after the commit, in the same
        hand-off, as a commit at FULL would have done."""
        context = contextvars.copy_context()
        direct = self._direct

        def work(_: sqlite3.Connection) -> T:
            direct.sync_asked = False
            return context.run(lambda: run_to_end(body(direct)))

        if durable or self._synced == "NORMAL":
            return await self.run_sync(work, transaction=True)

        def then_sync_if_asked(raw: sqlite3.Connection) -> T:
            result = _in_transaction(raw, work)
            if direct.sync_asked:
                self._sync_wal()
            return result

        return await self.run_sync(then_sync_if_asked, transaction=False, synced=False)

    def _sync_wal(self) -> None:
        """The WAL on disk, with every commit in it: what SQLite does at a commit at FULL.
        The file exists while the store is open; a frame a checkpoint has copied out
        meanwhile was synced before the copy (SQLite syncs the WAL before every
        checkpoint)."""
        sync_file(self._wal)
        self.wal_syncs += 1

    async def store_inbound(
        self, rows: bulk.InboundRows, *, now: float, job_kind: str, order_prefix: str
    ) -> AbstractSet[str]:
        """Committed at NORMAL: the WAL is synced on the syncer's thread, awaited by
        :meth:`intake_on_disk` after the store's lock is let go."""
        if not self._intake_ready:
            await self.run_sync(bulk.create_intake_objects, transaction=False)
            self._intake_ready = True
        syncer = self._intake_syncer

        def write(conn: sqlite3.Connection) -> AbstractSet[str]:
            new = bulk.store_inbound(
                conn, rows, now=now, job_kind=job_kind, order_prefix=order_prefix
            )
            if syncer is not None:
                syncer.written()
            return new

        return await self.run_sync(write, transaction=False, synced=syncer is None)

    async def intake_on_disk(self) -> None:
        if self._intake_syncer is not None:
            await self._intake_syncer.synced()

    @property
    def intake_syncs(self) -> int:
        """The intake's WAL syncs so far (tests count them)."""
        return 0 if self._intake_syncer is None else self._intake_syncer.syncs


def _in_transaction(raw: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    raw.execute("BEGIN IMMEDIATE")
    try:
        result = work(raw)
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")
    return result
