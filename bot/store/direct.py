"""A whole transaction's repository calls in ONE hand-off to the SQLite store's thread.

Each statement through aiosqlite is a trip to its thread and back (~35 µs of event-loop CPU
plus a wake-up, ``bench/store_handoff.py``), and a relayed message used to make about
thirty. The repositories are coroutines written once for both backends (``bot.store.sql``),
so they are not rewritten as plain functions: on the store's thread they get a
:class:`DirectConnection`, whose methods call ``sqlite3`` at once and never suspend, and
:func:`run_to_end` drives the coroutine there in one ``send``. Work that awaits anything
else (the network, a lock, a sleep) would suspend: it is stopped and refused
(:class:`StoreOnlyViolation`), and its transaction rolled back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from bot.store.sql import Args, Connection, Dialect, Row

T = TypeVar("T")


class StoreOnlyViolation(RuntimeError):
    """Work run in the store's thread awaited something other than the store."""


class DirectConnection(Connection):
    """The repositories' view of the ``sqlite3`` connection, on the store's own thread."""

    def __init__(self, raw: sqlite3.Connection, dialect: Dialect) -> None:
        self._raw = raw
        self.dialect = dialect
        self.sync_asked = False
        """The work asked for its commit to be synced (:meth:`sync_at_commit`); reset and
        read by the backend around each transaction."""

    async def execute(self, sql: str, args: Args = ()) -> int:
        return self._raw.execute(sql, tuple(args)).rowcount

    async def executemany(self, sql: str, rows: Iterable[Args]) -> None:
        self._raw.executemany(sql, [tuple(row) for row in rows])

    async def fetchall(self, sql: str, args: Args = ()) -> list[Row]:
        return self._raw.execute(sql, tuple(args)).fetchall()

    async def sync_at_commit(self) -> None:
        self.sync_asked = True


def run_to_end(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end without an event loop: it may await only coroutines that
    finish without suspending (the repositories on a :class:`DirectConnection`)."""
    try:
        waited_for = work.send(None)
    except StopIteration as end:
        result: T = end.value
        return result
    work.close()
    raise StoreOnlyViolation(
        f"work in the store's thread awaited {type(waited_for).__name__}, not the store"
    )
