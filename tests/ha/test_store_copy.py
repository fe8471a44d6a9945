"""``empfang store copy``: a populated SQLite store moved into a new PostgreSQL database, every
table with the same rows and ids, both hash chains verifying on the copy, the identities
continuing after the copied ids; a target that is not empty is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store
from tests.cases.test_ledger import converse
from tests.support.store import peek, run_sql, store_toml, table_names

COPIED_ELSEWHERE = {"meta", "chain_sequences"}


async def populated(tmp_path: Path) -> Path:
    """Two whole conversations (messages, jobs, case transfers with their ledger rows, the
    audit trail) and a job still pending."""
    source = tmp_path / "empfang.sqlite3"
    await converse(source, tmp_path / "cases.jsonl")
    await converse(source, tmp_path / "cases.jsonl", start=1_800_100_000.0)
    store = await Store.open(source)
    try:
        async with store.transaction() as tx:
            await tx.jobs.enqueue("test.pending", "{}", now=tx.clock.now())
    finally:
        await store.close()
    return source


def same_rows(table: str, rowid: str) -> str:
    """Every row of ``table`` in a comparable order; ``agent_reactions`` has no id, and
    PostgreSQL's ``seq`` stands in for SQLite's ``rowid``."""
    if table == "agent_reactions":
        columns = "reaction_id, message_id, emoji, author, created_at"
        return f"SELECT {columns} FROM {table} ORDER BY {rowid}"
    return f"SELECT * FROM {table} ORDER BY 1"


async def copy(source: Path, target: str) -> int:
    return await asyncio.to_thread(
        main, ["store", "copy", "--from", f"sqlite:///{source}", "--to", target]
    )


async def verify(tmp_path: Path, target: str, chain: str) -> int:
    config = tmp_path / f"{chain}.toml"
    config.write_text(store_toml(target), encoding="utf-8")
    return await asyncio.to_thread(main, [chain, "verify", "--config", str(config)])


async def test_a_populated_sqlite_store_is_copied_whole_and_verifies(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = await populated(tmp_path)
    assert await copy(source, db) == 0
    assert "counts equal" in capsys.readouterr().out
    tables = set(await table_names(source)) - COPIED_ELSEWHERE
    assert tables <= set(await table_names(db))
    for table in sorted(tables):
        assert await peek(db, same_rows(table, "seq")) == await peek(
            source, same_rows(table, "rowid")
        ), table
    assert await peek(db, "SELECT count(*) FROM transfer_ledger") == [(10,)]
    assert await verify(tmp_path, db, "ledger") == 0
    assert await verify(tmp_path, db, "audit") == 0
    instance = "SELECT value FROM meta WHERE key = 'instance_id'"
    assert await peek(db, instance) == await peek(source, instance)
    # New rows continue after the copied ids.
    store = await Store.open(db)
    try:
        async with store.transaction() as tx:
            job = await tx.jobs.enqueue("test.after", "{}", now=tx.clock.now())
    finally:
        await store.close()
    assert job > max(row[0] for row in await peek(source, "SELECT id FROM jobs"))


async def test_rows_deleted_at_the_end_of_the_ledger_are_still_found_on_the_copy(
    tmp_path: Path, db: str
) -> None:
    """The highest id the chain ever gave (SQLite's sqlite_sequence) comes along."""
    source = await populated(tmp_path)
    await run_sql(source, "DELETE FROM transfer_ledger WHERE id = 10")
    assert await copy(source, db) == 1  # copied, and said to be broken
    assert await verify(tmp_path, db, "ledger") == 1


async def test_a_target_with_rows_is_refused_and_left_as_it_was(tmp_path: Path, db: str) -> None:
    source = await populated(tmp_path)
    assert await copy(source, db) == 0
    before = await peek(db, "SELECT count(*) FROM messages")
    assert await copy(source, db) == 1
    assert await peek(db, "SELECT count(*) FROM messages") == before
