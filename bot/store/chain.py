"""Storage of a hash-chained table (``bot.hashchain`` computes and checks the chain).

Append-only by convention of this code: nothing here updates or deletes a row, and
``empfang <table> verify`` shows whether anyone else did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from typing import Any, Generic, TypeVar

from bot.store.sql import Connection

GENESIS_HASH = "0" * 64

Row = TypeVar("Row")


class ChainedRows(Generic[Row]):
    """The rows of one chained ``table``; ``make`` builds a row from its ``columns``."""

    def __init__(
        self,
        conn: Connection,
        table: str,
        columns: tuple[str, ...],
        make: Callable[..., Row],
    ) -> None:
        self._conn = conn
        self._table = table
        self.columns = columns
        self._make = make
        self._select = f"SELECT {', '.join(columns)} FROM {table}"

    async def head(self) -> tuple[int, str]:
        """(id the next row gets, hash the next row chains to).

        The next id comes from the table's sequence, not from max(id): after someone
        deleted the newest rows, a new row must not silently take their place.
        """
        seq = await self._conn.fetchval(self._conn.dialect.chain_sequence, (self._table,))
        last = await self._conn.fetchval(f"SELECT hash FROM {self._table} ORDER BY id DESC LIMIT 1")
        return (int(seq) if seq else 0) + 1, (str(last) if last else GENESIS_HASH)

    async def sequence(self) -> int:
        """The highest id ever given to a row (0 when none was)."""
        return (await self.head())[0] - 1

    async def insert(self, row: Row) -> None:
        placeholders = ", ".join("?" for _ in self.columns)
        await self._conn.execute(
            f"INSERT INTO {self._table} ({', '.join(self.columns)}) VALUES ({placeholders})",
            astuple(row),  # type: ignore[call-overload]
        )

    async def rows(self) -> list[Row]:
        """Every row, in chain order (verification needs all of them anyway)."""
        return await self._query(f"{self._select} ORDER BY id", ())

    async def where(self, column: str, value: Any) -> list[Row]:
        """The rows whose ``column`` equals ``value``, in chain order."""
        assert column in self.columns
        return await self._query(f"{self._select} WHERE {column} = ? ORDER BY id", (value,))

    async def _query(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
        rows = await self._conn.fetchall(sql, args)
        return [self._make(*row) for row in rows]
