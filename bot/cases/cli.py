"""``empfang ledger verify|export``: the transfer ledger for the data-protection officer.

``verify`` exits 0 and prints ``ledger OK: N rows`` (and the chain head to note elsewhere),
or exits 1 naming the first bad row. ``export`` writes rows since a date as CSV or JSON; it
also runs the check and warns on stderr when the chain is broken, but still exports, because
the officer needs the records either way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.cases import ledger
from bot.cases.model import utc_iso
from bot.config import load_config
from bot.private_files import open_private
from bot.store.cases import LedgerRow

ConfigArg = Callable[[argparse.ArgumentParser], None]


def add_ledger_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: ConfigArg
) -> None:
    parser = sub.add_parser("ledger", help="verify or export the log of transfers to case systems")
    actions = parser.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="check the hash chain; exit 1 at the first bad row")
    config_arg(verify)
    export = actions.add_parser("export", help="write ledger rows since a date as CSV or JSON")
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
    """``--since`` as the ledger's own time format, so rows compare as strings."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO date such as 2026-01-01 or 2026-01-01T08:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_iso(moment.timestamp())


def run_ledger(args: argparse.Namespace) -> int:
    path = Path(load_config(args.config).store.path)
    if not path.exists():
        print(f"error: no database at {path} (store.path in the config)", file=sys.stderr)
        return 1
    if args.ledger_command == "verify":
        return asyncio.run(_verify(path))
    return asyncio.run(_export(path, args.since, args.format, args.output))


async def _load(path: Path, since: str | None = None) -> tuple[list[LedgerRow], ledger.Verdict]:
    from bot.store import Store

    store = await Store.open(path)
    try:
        async with store.transaction() as tx:
            rows = await tx.cases.ledger_rows()
            sequence = await tx.cases.ledger_sequence()
    finally:
        await store.close()
    verdict = ledger.verify(rows, sequence)
    if since is not None:
        rows = [row for row in rows if row.time >= since]
    return rows, verdict


async def _verify(path: Path) -> int:
    _, verdict = await _load(path)
    if not verdict.ok:
        print(f"ledger BROKEN at row {verdict.bad_row}: {verdict.problem}", file=sys.stderr)
        return 1
    print(f"ledger OK: {verdict.rows} rows")
    print(f"chain head: {verdict.head} (note it elsewhere to detect a rewritten chain)")
    return 0


async def _export(path: Path, since: str, fmt: str, output: Path | None) -> int:
    rows, verdict = await _load(path, since)
    if not verdict.ok:
        print(
            f"warning: ledger BROKEN at row {verdict.bad_row}: {verdict.problem}",
            file=sys.stderr,
        )
    target: AbstractContextManager[TextIO] = nullcontext(sys.stdout)
    if output is not None:  # pseudonyms are personal data: the export is private like the store
        fd = open_private(output, os.O_WRONLY | os.O_TRUNC)
        target = os.fdopen(fd, "w", encoding="utf-8", newline="")
    with target as out:
        _write(rows, out, fmt, since, verdict)
    if output is not None:
        print(f"exported {len(rows)} ledger rows to {output}", file=sys.stderr)
    return 0


def _write(
    rows: list[LedgerRow], out: TextIO, fmt: str, since: str, verdict: ledger.Verdict
) -> None:
    if fmt == "json":
        ledger.write_json(rows, out, since=since, verdict=verdict)
    else:
        ledger.write_csv(rows, out)
