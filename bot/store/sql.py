"""The one interface the repositories write SQL through, on SQLite and on PostgreSQL.

Repositories write their SQL once, in the subset both databases speak: ``?`` placeholders
(the PostgreSQL connection numbers them ``$1, $2, …`` for asyncpg), ``ON CONFLICT … DO
NOTHING / DO UPDATE`` with table-qualified columns (PostgreSQL finds a bare column in
``DO UPDATE`` ambiguous), ``RETURNING``, ``CASE`` instead of booleans summed as numbers.
Where the two truly differ (reading a JSON field out of a text column, the larger of two
values, the sequence behind a hash chain) the SQL comes from the connection's
:class:`Dialect`, by a named method, never from an ``if`` on the backend in a repository.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

Row = Sequence[Any]
"""A result row: a tuple from SQLite, an ``asyncpg.Record`` from PostgreSQL; both index
and unpack the same way."""

Args = Sequence[Any]


class Dialect(ABC):
    """SQL fragments that differ between the backends."""

    name: str
    """``sqlite`` or ``postgresql``."""

    @abstractmethod
    def json_text(self, document: str, path: str) -> str:
        """The text at ``path`` (``a`` or ``a.b``) of the JSON text in column ``document``;
        NULL when absent."""

    @abstractmethod
    def json_int(self, document: str, path: str) -> str:
        """Like :meth:`json_text`, as an integer."""

    @abstractmethod
    def greatest(self, first: str, second: str) -> str:
        """The larger of two non-NULL values (SQLite's two-argument ``max``)."""

    @abstractmethod
    def without_media_ref(self, document: str) -> str:
        """``document`` (a customer message's JSON) with its media reference emptied:
        ``media.url`` and ``media.sha256`` removed, ``media.media_id`` set to ''."""

    chain_sequence: str
    """SELECT of the highest id ever given in the hash-chained table named by its one
    parameter (deleted rows included): SQLite's ``sqlite_sequence``, PostgreSQL's
    ``chain_sequences`` kept by a trigger in the same transaction as the insert."""

    insertion_order: str
    """A column of ``agent_reactions`` that grows with each insert: ``rowid`` in SQLite,
    ``seq`` in PostgreSQL (which has no rowid)."""

    probe_write: str
    """A write that touches nothing shared, for the readiness probe."""

    order_lock: str
    """Takes a lock on the order key given as its one parameter until the transaction ends,
    so that jobs of one key get their ids in the order their transactions commit (several
    processes on PostgreSQL; a worker must not see a customer's second job committed while
    the first, with the smaller id, is still on its way); empty for SQLite's one writer."""

    skip_locked: str
    """Ends the ``SELECT`` that picks a job to lease: PostgreSQL's ``FOR UPDATE … SKIP
    LOCKED``, so that replicas leasing at the same moment pass over the row another one is
    taking instead of both taking it; empty for SQLite, whose one writer leases alone."""


class Connection(ABC):
    """A database connection inside a transaction the store opened (``Store.transaction``)."""

    dialect: Dialect

    @abstractmethod
    async def execute(self, sql: str, args: Args = ()) -> int:
        """Run one statement; how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Args]) -> None:
        """Run one statement once per row of arguments."""

    @abstractmethod
    async def fetchall(self, sql: str, args: Args = ()) -> list[Row]:
        """Every row of a query (or of a statement's ``RETURNING``)."""

    async def fetchone(self, sql: str, args: Args = ()) -> Row | None:
        """The first row, or None."""
        return next(iter(await self.fetchall(sql, args)), None)

    async def fetchval(self, sql: str, args: Args = ()) -> Any:
        """The first column of the first row; None when there is no row."""
        row = await self.fetchone(sql, args)
        return None if row is None else row[0]

    @abstractmethod
    async def sync_at_commit(self) -> None:
        """This transaction's commit reaches the disk before it returns, also in one begun
        not to (``Store.transact(durable=False)``): what it wrote is about to be relied on
        outside the database."""

    async def insert(self, sql: str, args: Args = ()) -> int | None:
        """Run an ``INSERT`` and return the new row's ``id``; None when it inserted nothing
        (``ON CONFLICT DO NOTHING`` met a duplicate)."""
        found = await self.fetchval(f"{sql} RETURNING id", args)
        return None if found is None else int(found)


def marks(values: Sequence[object]) -> str:
    """``?, ?, …``: one placeholder per value, for ``IN (…)``."""
    return ", ".join("?" for _ in values)
