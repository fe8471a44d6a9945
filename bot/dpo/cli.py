"""``empfang privacy export|record``: answers for the data-protection officer.

``export`` writes one person's data as JSON (``bot.dpo.export``) to a private file (0600) or
stdout, and names the person on stderr by pseudonym only: a terminal's scrollback and a
shell's history are not the place for a number, so the number given is never echoed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.audit import cli_actor
from bot.chain_cli import ConfigArg, private_output, store_path
from bot.dpo.export import Subject, export_subject
from bot.store import Store


def add_privacy_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: ConfigArg
) -> None:
    privacy = sub.add_parser("privacy", help="data-protection officer: export one person")
    actions = privacy.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="one person's data as JSON (Art. 15/20); recorded in the audit trail"
    )
    config_arg(export)
    export.add_argument(
        "subject", type=_subject, help="pseudonym (K-…) or number in international form"
    )
    export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")


def _subject(written: str) -> Subject:
    try:
        return Subject.parse(written)
    except ValueError as exc:  # argparse would show its own words, not these
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_privacy(args: argparse.Namespace) -> int:
    path = store_path(args.config)
    if path is None:
        return 1
    return asyncio.run(_export(path, args.subject, args.output))


async def _export(path: Path, subject: Subject, output: Path | None) -> int:
    store = await Store.open(path)
    try:
        async with store.transaction() as tx:
            document = await export_subject(tx, subject, cli_actor())
    finally:
        await store.close()
    with private_output(output) as out:
        json.dump(document, out, ensure_ascii=False, indent=2)
        out.write("\n")
    messages = sum(len(contact["messages"]) for contact in document["contacts"])
    names = ", ".join(contact["pseudonym"] for contact in document["contacts"])
    where = f" to {output}" if output is not None else ""
    print(
        f"exported {names}: {messages} messages{where} (recorded in the audit trail)",
        file=sys.stderr,
    )
    return 0
