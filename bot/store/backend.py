"""What the store needs of a database: a connection, transactions, and the intake's bulk
write. One implementation per backend (``bot.store.sqlite_backend``,
``bot.store.postgres_backend``); :class:`bot.store.Store` holds the lock around them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from bot.store.bulk import InboundRows
from bot.store.sql import Connection

T = TypeVar("T")


class Backend(ABC):
    conn: Connection
    instance_id: str
    errors: tuple[type[Exception], ...]
    """What the database raises when it fails (the intake answers 503 for these)."""
    sender: str = ""
    """This process's id in the wake-ups it sends to others (``announce_jobs``), so that
    its own listener can ignore them: its workers were woken at the commit already."""

    @abstractmethod
    async def begin(self) -> None:
        """Start a transaction that no other transaction interleaves with."""

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    async def transact(
        self, body: Callable[[Connection], Coroutine[Any, Any, T]], *, durable: bool = True
    ) -> T:
        """``body`` as one transaction, committed when it returns, rolled back if it raises.
        ``body`` awaits the store alone (``Store.transact``, which says what ``durable``
        may be False for; here it is ignored: every commit is synced). Called with the
        store's lock held. Here: statement by statement on the event loop; SQLite runs it
        all on its thread in one hand-off."""
        await self.begin()
        try:
            result = await body(self.conn)
        except BaseException:
            await self.rollback()
            raise
        await self.commit()
        return result

    @abstractmethod
    async def announce_jobs(self) -> None:
        """Inside a transaction that added jobs: tell other processes on the same database
        when it commits (PostgreSQL's ``NOTIFY``, ``bot.ha.notify``)."""

    @abstractmethod
    async def intake_on_disk(self) -> None:
        """Returns once every intake write so far is on disk (SQLite syncs them on a thread
        of its own, ``bot.store.wal_sync``)."""

    @abstractmethod
    async def store_inbound(
        self, rows: InboundRows, *, now: float, job_kind: str, order_prefix: str
    ) -> AbstractSet[str]:
        """The intake's group write (``bot.store.bulk``), committed when it returns:
        contacts upserted, messages inserted (a known provider id ignored), one job per new
        message. Returns the provider ids that were new. Called with the store's lock held;
        :meth:`intake_on_disk` then waits for the disk, without it."""
