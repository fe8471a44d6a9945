"""``empfang backup --output F``: the operator's side of :mod:`bot.store.backup`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bot.config import load_config
from bot.errors import StoreError
from bot.store.backup import backup_store

ConfigArg = Callable[[argparse.ArgumentParser], None]


def add_backup_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: ConfigArg
) -> None:
    parser = sub.add_parser(
        "backup", help="copy the SQLite store consistently, also while the bot runs"
    )
    config_arg(parser)
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        help="file to write (mode 0600, replaced if it exists); keep the pseudonym key elsewhere",
    )


def run_backup(args: argparse.Namespace) -> int:
    """Raises ``StoreError`` (exit 1) when the store is missing or the copy fails its check,
    or is PostgreSQL: its backups are the database's own (``pg_dump``, the provider's)."""
    store = load_config(args.config).store
    if store.postgresql:
        raise StoreError(
            "empfang backup copies the SQLite store only; [store] url is PostgreSQL:"
            " back it up with pg_dump or your provider's backups (README: Storage)"
        )
    result = backup_store(store.path, args.output)
    print(
        f"backup written to {result.path} ({result.size_bytes} bytes, schema version "
        f"{result.schema_version}, integrity ok)"
    )
    return 0
