"""The store: one connection, one transaction at a time, versioned schema; on SQLite (the
embedded default) or PostgreSQL (``[store] url``).

All coroutines share one connection; an asyncio lock makes every transaction exclusive, so a
transaction never sees another coroutine's half-done work. SQLite allows a single writer
anyway, and one connection keeps the hot path free of ``SQLITE_BUSY`` retries. The backends
(``bot.store.sqlite_backend``, ``bot.store.postgres_backend``) open, migrate and run
transactions; the repositories write their SQL once (``bot.store.sql``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from collections.abc import Set as AbstractSet
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot.clock import Clock, SystemClock
from bot.errors import StoreError
from bot.store.alerts import Alerts
from bot.store.audit import audit_log
from bot.store.backend import Backend
from bot.store.bulk import InboundRows
from bot.store.cases import Cases
from bot.store.contacts import Contacts
from bot.store.conversations import Conversations
from bot.store.holds import Holds
from bot.store.jobs import Job, Jobs
from bot.store.location import StoreLocation
from bot.store.media_posts import MediaPosts
from bot.store.messages import Messages
from bot.store.retention import RetentionStore
from bot.store.sql import Connection
from bot.store.sqlite_backend import SqliteBackend
from bot.store.subject import Subjects

T = TypeVar("T")


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


class Tx:
    """What a transaction can do; the repositories are the only code that writes SQL."""

    def __init__(self, conn: Connection, clock: Clock) -> None:
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

    def __init__(self, backend: Backend, path: Path, clock: Clock) -> None:
        self._backend = backend
        self.instance_id = backend.instance_id
        """Random per database: keeps idempotency keys of two databases (e.g. after a reset
        with the same chat account) from ever colliding."""
        self.errors = backend.errors
        """What the database raises when it fails (the intake answers 503 for these)."""
        self.unavailable: tuple[type[Exception], ...] = (*backend.errors, StoreError)
        """What a store that cannot be reached raises (the readiness probe and ``/metrics``
        answer without it)."""
        self._lock = asyncio.Lock()
        self._job_listeners: list[Callable[[], None]] = []
        self._completed_jobs: set[int] = set()
        self.path = path
        """The SQLite file; with PostgreSQL, where Empfang's other local files are anchored
        (``[store] path``: media spool, kept copies)."""
        self.clock = clock

    @classmethod
    async def open(
        cls,
        target: Path | str | StoreLocation,
        *,
        synchronous: str = "full",
        clock: Clock | None = None,
        password: str | None = None,
        path: Path | None = None,
    ) -> Store:
        """Open (creating if needed) and migrate: the SQLite file at ``target``, or the
        PostgreSQL database a ``postgresql://`` url names (with ``password``; ``path`` then
        anchors Empfang's local files). ``synchronous=full`` (SQLite) survives power loss."""
        backend: Backend
        if isinstance(target, StoreLocation):
            password, path, target = target.password, target.files, target.database
        if isinstance(target, str) and is_postgres_url(target):
            from bot.store.postgres_backend import PostgresBackend  # asyncpg only when used

            backend = await PostgresBackend.open(target, password=password)
            anchor = path or Path("empfang.sqlite3")
        else:
            backend = await SqliteBackend.open(Path(target), synchronous=synchronous)
            anchor = Path(target)
        return cls(backend, anchor, clock or SystemClock())

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._backend.conn.dialect.name

    async def close(self) -> None:
        async with self._lock:
            await self._backend.close()

    def on_new_jobs(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each commit that added or re-queued jobs (wakes workers).

        Only such commits: the workers' own polls are transactions too, and waking them
        after every commit made idle workers poll in a busy loop (a whole core while idle).
        """
        self._job_listeners.append(listener)

    @property
    def sender(self) -> str:
        """This process's id in the wake-ups its commits send to other processes (PostgreSQL);
        empty with SQLite, which has no one to tell."""
        return self._backend.sender

    def jobs_added_elsewhere(self) -> None:
        """Another process committed jobs on this database (``bot.ha``'s listener heard it):
        wake this process's workers as after a commit of its own."""
        self._announce_new_jobs()

    def _announce_new_jobs(self) -> None:
        for listener in self._job_listeners:
            listener()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """An exclusive transaction: commit on success, roll back on any exception."""
        async with self._lock:
            await self._backend.begin()
            tx = Tx(self._backend.conn, self.clock)
            try:
                yield tx
                if tx.jobs.added:
                    await self._backend.announce_jobs()
            except BaseException:
                await self._backend.rollback()
                raise
            await self._backend.commit()
            self._completed_jobs.update(tx.jobs.completed)
        if tx.jobs.added:
            self._announce_new_jobs()

    async def transact(
        self, work: Callable[[Tx], Coroutine[Any, Any, T]], *, durable: bool = True
    ) -> T:
        """``work(tx)`` as one transaction, like :meth:`transaction`, for work that awaits
        nothing but the store (no chat, no provider, no sleep).

        On SQLite the whole of it runs on the store's thread in ONE hand-off instead of one
        per statement plus begin and commit (``bot.store.direct``); work that awaits
        anything else there is rolled back and raises ``StoreOnlyViolation``. On PostgreSQL
        it runs on the event loop as :meth:`transaction` does (asyncpg has no thread).

        ``durable=False``: the commit does not wait for the disk (SQLite writes its WAL
        without syncing it, PostgreSQL commits asynchronously). A crash or ``kill -9`` of
        Empfang loses nothing of it (the log is written when the commit returns); a power
        loss may lose it, and with it every later commit, never an earlier one (both logs
        are sequential, and the next durable commit syncs it along). Only for commits whose
        loss leaves what a crash just before them leaves, which the queue recovers from
        anyway: a lease (the job is leased again), the end of a job whose effect is done (it
        runs again and finds its effect, as after a crash between effect and end). On
        SQLite the window is short in any case: the checkpointer's next pass, at most
        ``PAUSE_SECONDS`` after a commit that changed rows, syncs the WAL before it copies
        it (seen with strace; ``bot.store.checkpointer``). Never
        for what is answered to the outside (a webhook's 200), nor for what an effect
        outside relies on being recorded (the conversation a thread is opened for): work
        that finds out it wrote such a thing calls ``tx.conn.sync_at_commit()``, and its
        commit is synced after all.
        """
        backend = self._backend

        async def body(conn: Connection) -> tuple[Tx, T]:
            tx = Tx(conn, self.clock)
            result = await work(tx)
            if tx.jobs.added:
                await backend.announce_jobs()
            return tx, result

        async with self._lock:
            tx, result = await backend.transact(body, durable=durable)
            self._completed_jobs.update(tx.jobs.completed)
        if tx.jobs.added:
            self._announce_new_jobs()
        return result

    @property
    def handoffs(self) -> int:
        """Trips to the SQLite store's thread so far (tests and benchmarks count them)."""
        return self._sqlite().conn.handoffs

    @property
    def wal_syncs(self) -> int:
        """WAL syncs asked for by SQLite commits not otherwise synced (``sync_at_commit``),
        so far; tests count them."""
        return self._sqlite().wal_syncs

    def completed(self, job: Job) -> bool:
        """True once: ``job`` was completed in a committed transaction (its handler's own).

        The worker asks after each run and so forgets the id again; the relay folds a job's
        end into the transaction that records its post, one commit instead of two."""
        if job.id in self._completed_jobs:
            self._completed_jobs.discard(job.id)
            return True
        return False

    async def store_inbound(
        self, rows: InboundRows, *, now: float, job_kind: str, order_prefix: str
    ) -> AbstractSet[str]:
        """The intake's group write (``bot.store.bulk``), on disk when it returns; the
        provider ids that were new. One statement and one commit on either backend. The
        wait for the disk is outside the lock: the store's other work goes on meanwhile."""
        async with self._lock:
            new = await self._backend.store_inbound(
                rows, now=now, job_kind=job_kind, order_prefix=order_prefix
            )
        await self.intake_on_disk()
        if new:
            self._announce_new_jobs()
        return new

    async def intake_on_disk(self) -> None:
        """Returns once every intake write so far is on disk. A job waits for it before it
        runs (``bot.jobs``): its message may have come in a write not synced yet, and a
        message posted to the chat, then lost with the power, comes again from Meta under a
        new id and is posted twice (``bot.store.wal_sync``). At once when nothing waits."""
        await self._backend.intake_on_disk()

    @property
    def intake_syncs(self) -> int:
        """The SQLite intake's WAL syncs so far (tests count them)."""
        return self._sqlite().intake_syncs

    def _sqlite(self) -> SqliteBackend:
        if not isinstance(self._backend, SqliteBackend):
            raise StoreError("this needs the SQLite store")
        return self._backend

    async def run_sync(
        self,
        work: Callable[[sqlite3.Connection], T],
        *,
        transaction: bool = True,
        adds_jobs: bool = False,
    ) -> T:
        """Run ``work`` on the SQLite store's thread in ONE hand-off, in its own transaction.

        For hot paths and tests only: each awaited statement costs a trip to the database
        thread and back. With ``transaction=False`` no transaction is opened: for work that
        is a single writing statement, which SQLite commits atomically by itself.
        ``adds_jobs`` says that ``work`` may enqueue jobs, so the workers are woken after it.

        The lock is held until ``work`` has finished, even if the caller is cancelled
        (:meth:`SyncThread.run`): a transaction begun meanwhile would interleave with it.
        """
        backend = self._sqlite()
        async with self._lock:
            result = await backend.run_sync(work, transaction=transaction)
        if adds_jobs:
            self._announce_new_jobs()
        return result

    def trace(self, statements: Callable[[str], None] | None) -> None:
        """Hand every statement the SQLite store runs to ``statements`` (None: stop). For
        tests and benchmarks that hold the hot path to a number of statements and commits."""
        self._sqlite().raw.set_trace_callback(statements)

    async def writable(self) -> bool:
        """True when a write transaction can be taken and committed (readiness probe)."""
        try:
            async with self.transaction() as tx:
                await tx.conn.execute(tx.conn.dialect.probe_write)
        except self.unavailable:
            return False
        return True
