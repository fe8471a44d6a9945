"""The SQLite store: one connection, one writer at a time, WAL, versioned schema.

All coroutines share one aiosqlite connection; an asyncio lock makes every transaction
exclusive, so a transaction never sees another coroutine's half-done work. SQLite allows a
single writer anyway, and one connection keeps the hot path free of ``SQLITE_BUSY`` retries.

The hot path (:meth:`Store.run_sync`) uses the same connection from the store's own thread,
through aiosqlite's public API only: the store makes the ``sqlite3`` connection itself (the
``connector`` of :class:`aiosqlite.Connection`) and may use it while it holds the lock, when
aiosqlite's thread has nothing of this connection's to do.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bot.clock import Clock, SystemClock
from bot.errors import StoreError
from bot.private_files import private_file, tighten_sqlite
from bot.store.alerts import Alerts
from bot.store.audit import audit_log
from bot.store.cases import Cases
from bot.store.contacts import Contacts
from bot.store.conversations import Conversations
from bot.store.holds import Holds
from bot.store.jobs import Job, Jobs
from bot.store.media_posts import MediaPosts
from bot.store.messages import Messages
from bot.store.migrations import migrate
from bot.store.retention import RetentionStore
from bot.store.subject import Subjects
from bot.store.sync_thread import SyncThread

T = TypeVar("T")

MIN_SQLITE = (3, 38, 0)
"""JSON operators (``->>``) used by the intake's bulk SQL."""


class Tx:
    """What a transaction can do; the repositories are the only code that writes SQL."""

    def __init__(self, conn: aiosqlite.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self.contacts = Contacts(conn)
        self.conversations = Conversations(conn)
        self.messages = Messages(conn)
        self.jobs = Jobs(conn)
        self.alerts = Alerts(conn)
        self.cases = Cases(conn)
        self.audit = audit_log(conn)
        self.holds = Holds(conn)
        self.retention = RetentionStore(conn)
        self.media_posts = MediaPosts(conn)
        self.subjects = Subjects(conn)
        """Read-only: everything about one person, for access requests."""


class Store:
    """Open with :meth:`open`; use :meth:`transaction` for every read and write."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        raw: sqlite3.Connection,
        path: Path,
        clock: Clock,
        instance_id: str,
    ) -> None:
        self._conn = conn
        self._raw = raw
        """``conn``'s own sqlite3 connection, for :meth:`run_sync`."""
        self._sync_thread = SyncThread("empfang-store")
        self.instance_id = instance_id
        """Random per database: keeps idempotency keys of two databases (e.g. after a reset
        with the same chat account) from ever colliding."""
        self._lock = asyncio.Lock()
        self._job_listeners: list[Callable[[], None]] = []
        self._completed_jobs: set[int] = set()
        self.path = path
        self.clock = clock

    @classmethod
    async def open(
        cls, path: Path, *, synchronous: str = "full", clock: Clock | None = None
    ) -> Store:
        """Open (creating if needed) and migrate. ``synchronous=full`` survives power loss."""
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
            await migrate(conn)
            async with conn.execute("SELECT value FROM meta WHERE key = 'instance_id'") as cur:
                row = await cur.fetchone()
        except BaseException:
            await conn.close()
            raise
        assert row is not None
        return cls(conn, raw_made[0], path, clock or SystemClock(), str(row[0]))

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()
        self._sync_thread.stop()

    def on_new_jobs(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each commit that added or re-queued jobs (wakes workers).

        Only such commits: the workers' own polls are transactions too, and waking them
        after every commit made idle workers poll in a busy loop (a whole core while idle).
        """
        self._job_listeners.append(listener)

    def _announce_new_jobs(self) -> None:
        for listener in self._job_listeners:
            listener()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """An exclusive transaction: commit on success, roll back on any exception."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            tx = Tx(self._conn, self.clock)
            try:
                yield tx
            except BaseException:
                await self._conn.rollback()
                raise
            await self._conn.commit()
            self._completed_jobs.update(tx.jobs.completed)
        if tx.jobs.added:
            self._announce_new_jobs()

    def completed(self, job: Job) -> bool:
        """True once: ``job`` was completed in a committed transaction (its handler's own).

        The worker asks after each run and so forgets the id again; the relay folds a job's
        end into the transaction that records its post, one commit instead of two."""
        if job.id in self._completed_jobs:
            self._completed_jobs.discard(job.id)
            return True
        return False

    async def run_sync(
        self,
        work: Callable[[sqlite3.Connection], T],
        *,
        transaction: bool = True,
        adds_jobs: bool = False,
    ) -> T:
        """Run ``work`` on the store's thread in ONE hand-off, in its own transaction.

        For hot paths only (``bot.store.bulk``): each awaited statement costs a trip to the
        database thread and back. With ``transaction=False`` no transaction is opened: for
        work that is a single writing statement, which SQLite commits atomically by itself.
        ``adds_jobs`` says that ``work`` may enqueue jobs, so the workers are woken after it.

        The lock is held until ``work`` has finished, even if the caller is cancelled
        (:meth:`SyncThread.run`): a transaction begun meanwhile would interleave with it.
        """
        raw = self._raw

        def in_transaction() -> T:
            if not transaction:
                return work(raw)
            raw.execute("BEGIN IMMEDIATE")
            try:
                result = work(raw)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT")
            return result

        async with self._lock:
            result = await self._sync_thread.run(in_transaction)
        if adds_jobs:
            self._announce_new_jobs()
        return result

    def trace(self, statements: Callable[[str], None] | None) -> None:
        """Hand every statement the store runs to ``statements`` (None: stop). For tests
        and benchmarks that hold the hot path to a number of statements and commits."""
        self._raw.set_trace_callback(statements)

    async def writable(self) -> bool:
        """True when a write transaction can be taken and committed (readiness probe)."""
        try:
            async with self.transaction() as tx:
                await tx.conn.execute("CREATE TEMP TABLE IF NOT EXISTS probe (x)")
        except (sqlite3.Error, ValueError):
            return False
        return True
