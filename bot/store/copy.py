"""Moving an installation from SQLite to PostgreSQL (``empfang store copy``): every table,
row for row, in one PostgreSQL transaction, then checked.

The copy keeps every id (the threads, the jobs' payloads and the hash chains refer to
them), the database's ``instance_id`` (idempotency keys derive from it: a job that ran
before the move and runs again after it must find its chat post, not make a second one)
and the highest id each chained table ever gave (SQLite's ``sqlite_sequence``), so that
``ledger verify`` still notices rows deleted at the end. Identity sequences continue
after the highest copied id.

Afterwards it compares the row count of every table and verifies both hash chains on the
copy; the target must be empty (a new database), so nothing is merged or overwritten.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncpg

from bot import hashchain
from bot.errors import StoreError
from bot.store.database import Store, Tx
from bot.store.postgres_backend import values_withheld

NOT_COPIED: Final = frozenset({"meta", "leader_lease", "chat_sync_position", "chain_sequences"})
"""``meta`` is made by the migration (its ``instance_id`` is carried over on its own); the
lease and the sync position are replicas' coordination state; ``chain_sequences`` is set
from SQLite's ``sqlite_sequence``."""

CHAINED_TABLES: Final = ("transfer_ledger", "audit_log")
"""The hash-chained tables, whose highest id ever given ``verify`` compares with."""

_SQLITE_ROWID: Final = {"agent_reactions": "seq"}
"""PostgreSQL columns standing in for SQLite's ``rowid``: left to their identity, filled
in ``rowid`` order."""

_CASTS: Final[dict[str, Callable[[Any], Any]]] = {
    "bigint": int,
    "double precision": float,
    "text": str,
}


class StoreCopyError(StoreError):
    """The copy was refused (target not empty) or did not verify; nothing was committed
    when the copy itself failed."""


@dataclass(frozen=True)
class ChainCheck:
    name: str
    rows: int
    ok: bool
    problem: str | None


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    """Rows per table, equal on both sides."""
    chains: list[ChainCheck] = field(default_factory=list)


Chains = Sequence[tuple[str, tuple[str, ...], Callable[[Tx], Any]]]
"""Each hash-chained table: its name, hashed columns, and its rows in a transaction."""


async def copy_store(source: Path, target: str, password: str | None, chains: Chains) -> CopyReport:
    """Copy the existing SQLite file ``source`` into the empty PostgreSQL database
    ``target``. A CLI's one job: the SQLite reads block the loop, nothing else runs."""
    for opened in (await Store.open(source), await Store.open(target, password=password)):
        await opened.close()  # both migrated to the same schema version
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        conn = await asyncpg.connect(target, password=password or None)
        try:
            report = await _copy(lite, conn)
        finally:
            await conn.close()
        _compare_counts(lite, report)
    finally:
        lite.close()
    report.chains = await _check_chains(target, password, chains)
    broken = [chain for chain in report.chains if not chain.ok]
    if broken:
        raise StoreCopyError(
            "copied, but " + "; ".join(f"{c.name} BROKEN: {c.problem}" for c in broken)
        )
    return report


async def _copy(lite: sqlite3.Connection, conn: Any) -> CopyReport:
    columns = await _target_columns(conn)
    report = CopyReport()
    async with conn.transaction():
        for table in await _in_dependency_order(conn, columns):
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                raise StoreCopyError(
                    f"the target database is not empty (table {table} has rows);"
                    " copy into a new database"
                )
            report.rows[table] = await _copy_table(lite, conn, table, columns[table])
        instance = lite.execute("SELECT value FROM meta WHERE key = 'instance_id'").fetchone()
        if instance is not None:
            await conn.execute("UPDATE meta SET value = $1 WHERE key = 'instance_id'", instance[0])
        await _continue_sequences(lite, conn, columns)
    return report


async def _target_columns(conn: Any) -> dict[str, list[tuple[str, str]]]:
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position"
    )
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        if table not in NOT_COPIED:
            columns.setdefault(table, []).append((column, kind))
    return columns


async def _in_dependency_order(conn: Any, columns: dict[str, Any]) -> list[str]:
    """Referenced tables before the tables referring to them."""
    references = await conn.fetch(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    )
    needs: dict[str, set[str]] = {table: set() for table in columns}
    for table, referenced in references:
        if table in needs and referenced != table and referenced in needs:
            needs[table].add(referenced)
    ordered: list[str] = []
    while needs:
        ready = sorted(table for table, wanted in needs.items() if wanted <= set(ordered))
        if not ready:
            raise StoreCopyError(f"circular references between {sorted(needs)}")
        ordered += ready
        for table in ready:
            del needs[table]
    return ordered


async def _copy_table(
    lite: sqlite3.Connection, conn: Any, table: str, target: list[tuple[str, str]]
) -> int:
    rowid = _SQLITE_ROWID.get(table)
    wanted = [(name, kind) for name, kind in target if name != rowid]
    names = [name for name, _ in wanted]
    casts = [_CASTS.get(kind, _keep) for _, kind in wanted]
    cursor = lite.execute(
        f"SELECT {', '.join(names)} FROM {table} ORDER BY {'rowid' if rowid else '1'}"
    )
    copied = 0
    while batch := cursor.fetchmany(5_000):
        records = [
            tuple(
                None if value is None else cast(value)
                for cast, value in zip(casts, row, strict=True)
            )
            for row in batch
        ]
        with values_withheld():  # an error must not quote a customer's message
            await conn.copy_records_to_table(table, records=records, columns=names)
        copied += len(records)
    return copied


def _keep(value: Any) -> Any:
    return value


async def _continue_sequences(
    lite: sqlite3.Connection, conn: Any, columns: dict[str, list[tuple[str, str]]]
) -> None:
    """Identity sequences after the highest id SQLite ever gave; the chained tables'
    ``chain_sequences`` equal to SQLite's ``sqlite_sequence``."""
    given: dict[str, int] = dict(lite.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    identities = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in identities:
        if table not in columns:
            continue
        highest = await conn.fetchval(f"SELECT max({column}) FROM {table}")
        top = max(int(highest or 0), int(given.get(table, 0)) if column == "id" else 0)
        if top:
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence($1, $2), $3)", table, column, top
            )
    for table in CHAINED_TABLES:
        if table in given:
            await conn.execute(
                "INSERT INTO chain_sequences (name, seq) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                table,
                int(given[table]),
            )


def _compare_counts(lite: sqlite3.Connection, report: CopyReport) -> None:
    different = {
        table: (source, copied)
        for table, copied in report.rows.items()
        if (source := lite.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) != copied
    }
    if different:
        raise StoreCopyError(f"row counts differ (SQLite, PostgreSQL): {different}")


async def _check_chains(target: str, password: str | None, chains: Chains) -> list[ChainCheck]:
    store = await Store.open(target, password=password)
    checks = []
    try:
        for name, hashed, rows_of in chains:
            async with store.transaction() as tx:
                chained = rows_of(tx)
                rows, sequence = await chained.rows(), await chained.sequence()
            verdict = hashchain.verify(rows, sequence, hashed)
            checks.append(ChainCheck(name, verdict.rows, verdict.ok, verdict.problem))
    finally:
        await store.close()
    return checks
