"""Helpers for tests that run on both store backends (the ``store_target`` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.store import Store


def store_toml(target: Path | str) -> str:
    """The ``[store]`` table of a config naming ``target`` (a SQLite file or a PostgreSQL url),
    for the commands that open the store beside the bot."""
    key = "path" if isinstance(target, Path) else "url"
    return f'[store]\n{key} = "{target}"\n'


async def peek(target: Path | str, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read on a connection of its own, as someone looking at the database
    beside the running bot would (SQL in the portable subset, ``?`` placeholders)."""
    store = await Store.open(target)
    try:
        async with store.transaction() as tx:
            return [tuple(row) for row in await tx.conn.fetchall(sql, args)]
    finally:
        await store.close()


async def run_sql(target: Path | str, sql: str, args: tuple[Any, ...] = ()) -> None:
    """Change the database beside Empfang (a test playing someone with access to it)."""
    store = await Store.open(target)
    try:
        async with store.transaction() as tx:
            await tx.conn.execute(sql, args)
    finally:
        await store.close()


async def table_names(target: Path | str) -> list[str]:
    """The store's tables, from the database's own catalogue."""
    catalogue = (
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        if isinstance(target, Path)
        else "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    return sorted(str(name) for (name,) in await peek(target, catalogue))
