"""``empfang <table> verify|export`` for every hash-chained table (transfer ledger, audit trail).

``verify`` exits 0 and prints ``<name> OK: N rows`` (and the chain head to note elsewhere),
or exits 1 naming the first bad row. ``export`` writes rows since a date as CSV or JSON; it
also runs the check and warns on stderr when the chain is broken, but still exports, because
the officer needs the records either way. Exports are private files (0600): pseudonyms are
personal data.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot import hashchain
from bot.cases.model import utc_iso
from bot.config import load_config
from bot.private_files import open_private
from bot.store import Store, StoreLocation, Tx
from bot.store.audit import AUDIT_COLUMNS
from bot.store.cases import LEDGER_COLUMNS
from bot.store.chain import ChainedRows

ConfigArg = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class ChainedTable:
    """What the commands need to know about one chained table."""

    name: str
    """The command and the word in messages: ``ledger``, ``audit``."""
    help: str
    rows_word: str
    """What ``export`` says it wrote: ``ledger rows``."""
    schema: str
    """The JSON export's ``schema`` value, versioned."""
    columns: tuple[str, ...]
    rows: Callable[[Tx], ChainedRows[Any]]


LEDGER = ChainedTable(
    name="ledger",
    help="verify or export the log of transfers to case systems",
    rows_word="ledger rows",
    schema="empfang.transfer-ledger/1",
    columns=LEDGER_COLUMNS,
    rows=lambda tx: tx.cases.ledger,
)
AUDIT = ChainedTable(
    name="audit",
    help="verify or export the audit trail of privileged actions",
    rows_word="audit entries",
    schema="empfang.audit-trail/1",
    columns=AUDIT_COLUMNS,
    rows=lambda tx: tx.audit,
)


def add_chain_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    config_arg: ConfigArg,
    table: ChainedTable,
) -> None:
    parser = sub.add_parser(table.name, help=table.help)
    actions = parser.add_subparsers(dest="chain_command", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="check the hash chain; exit 1 at the first bad row")
    config_arg(verify)
    export = actions.add_parser("export", help=f"write {table.rows_word} since a date, CSV or JSON")
    config_arg(export)
    export.add_argument(
        "--since",
        required=True,
        type=since_timestamp,
        help="ISO date or date-time, UTC unless a zone is given (e.g. 2026-01-01)",
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")


def since_timestamp(value: str) -> str:
    """``--since`` as the chained tables' own time format, so rows compare as strings."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO date such as 2026-01-01 or 2026-01-01T08:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_iso(moment.timestamp())


def store_path(config: Path | None) -> StoreLocation | None:
    """The configured store, or None after saying on stderr that there is no SQLite file
    (a PostgreSQL database is made on first start by ``empfang run``)."""
    store = load_config(config).store
    path = Path(store.path)
    if not store.postgresql and not path.exists():
        print(f"error: no database at {path} (store.path in the config)", file=sys.stderr)
        return None
    return StoreLocation(store.database, path, store.database_password)


def run_chain(args: argparse.Namespace, table: ChainedTable) -> int:
    path = store_path(args.config)
    if path is None:
        return 1
    if args.chain_command == "verify":
        return asyncio.run(_verify(path, table))
    return asyncio.run(_export(path, table, args.since, args.format, args.output))


async def _load(
    path: StoreLocation, table: ChainedTable, since: str | None = None
) -> tuple[Sequence[Any], hashchain.Verdict]:
    store = await Store.open(path)
    try:
        async with store.transaction() as tx:
            chained = table.rows(tx)
            rows, sequence = await chained.rows(), await chained.sequence()
    finally:
        await store.close()
    verdict = hashchain.verify(rows, sequence, table.columns)
    if since is not None:
        rows = [row for row in rows if row.time >= since]
    return rows, verdict


async def _verify(path: StoreLocation, table: ChainedTable) -> int:
    _, verdict = await _load(path, table)
    if not verdict.ok:
        print(f"{table.name} BROKEN at row {verdict.bad_row}: {verdict.problem}", file=sys.stderr)
        return 1
    print(f"{table.name} OK: {verdict.rows} rows")
    print(f"chain head: {verdict.head} (note it elsewhere to detect a rewritten chain)")
    return 0


async def _export(
    path: StoreLocation, table: ChainedTable, since: str, fmt: str, output: Path | None
) -> int:
    rows, verdict = await _load(path, table, since)
    if not verdict.ok:
        print(
            f"warning: {table.name} BROKEN at row {verdict.bad_row}: {verdict.problem}",
            file=sys.stderr,
        )
    with private_output(output) as out:
        if fmt == "json":
            hashchain.write_json(rows, out, schema=table.schema, since=since, verdict=verdict)
        else:
            hashchain.write_csv(rows, table.columns, out)
    if output is not None:
        print(f"exported {len(rows)} {table.rows_word} to {output}", file=sys.stderr)
    return 0


def private_output(output: Path | None) -> AbstractContextManager[TextIO]:
    """``output`` opened as a private file (0600, folders 0700), or stdout when None."""
    if output is None:
        return nullcontext(sys.stdout)
    fd = open_private(output, os.O_WRONLY | os.O_TRUNC)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
