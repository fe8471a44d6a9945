"""``empfang store copy --from sqlite:///… --to postgresql://…``: moving an installation from
SQLite to PostgreSQL (:mod:`bot.store.copy`). Stop ``empfang run`` first: rows written to
the SQLite file during the copy would stay behind."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.chain_cli import AUDIT, LEDGER
from bot.errors import ConfigError
from bot.store.database import is_postgres_url

SQLITE_PREFIX = "sqlite:///"


def add_store_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("store", help="move the store between databases")
    actions = parser.add_subparsers(dest="store_command", required=True, metavar="ACTION")
    copy = actions.add_parser(
        "copy",
        help="copy a SQLite store into a new PostgreSQL database, then verify counts and chains",
    )
    copy.add_argument(
        "--from",
        dest="source",
        required=True,
        help="sqlite:///empfang.sqlite3 (sqlite:////var/lib/x is absolute)",
    )
    copy.add_argument(
        "--to", dest="target", required=True, help="postgresql://user@host/database (empty)"
    )
    copy.add_argument(
        "--password-file",
        type=Path,
        help="file holding the PostgreSQL password (else the URL's, or PGPASSWORD)",
    )


def run_store(args: argparse.Namespace) -> int:
    """Raises ``ConfigError`` (exit 2) for URLs it cannot use, ``StoreError`` (exit 1) when
    the target is not empty or the copy does not verify. ``bot.store.copy`` is imported
    here: it loads asyncpg, which every other command, ``empfang run`` on SQLite among
    them, would otherwise carry (~3 MiB of its resident memory)."""
    from bot.store.copy import StoreCopyError, copy_store

    if not args.source.startswith(SQLITE_PREFIX):
        raise ConfigError(
            f"--from: must be {SQLITE_PREFIX}<file>, e.g. sqlite:////var/lib/empfang/empfang.sqlite3"
        )
    if not is_postgres_url(args.target):
        raise ConfigError("--to: must be postgresql://<user>@<host>/<database>")
    source = Path(args.source.removeprefix(SQLITE_PREFIX))  # as [store] url reads it
    if not source.is_file():
        raise StoreCopyError(f"no SQLite database at {source}")
    password = (
        args.password_file.read_text(encoding="utf-8").strip() if args.password_file else None
    )
    chains = [(table.name, table.columns, table.rows) for table in (LEDGER, AUDIT)]
    report = asyncio.run(copy_store(source, args.target, password, chains))
    for table, rows in sorted(report.rows.items()):
        print(f"{table}: {rows} rows")
    for chain in report.chains:
        print(f"{chain.name} OK: {chain.rows} rows")
    print(
        f"copied {sum(report.rows.values())} rows into {args.target.split('@')[-1]}; counts equal"
    )
    return 0
