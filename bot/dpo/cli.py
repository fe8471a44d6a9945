"""``empfang privacy export|erase|record``: answers for the data-protection officer.

``record`` prints the record of processing (``bot.dpo.record``) from the effective
configuration; it needs no database.

``export`` writes one person's data as JSON (``bot.dpo.export``) to a private file (0600) or
stdout, and names the person on stderr by pseudonym only: a terminal's scrollback and a
shell's history are not the place for a number, so the number given is never echoed.

``erase`` erases one person (``bot.dpo.erase``) and prints what was erased where and what
could not be; the chat and the case systems are reached by jobs the running bot carries out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.audit import cli_actor
from bot.chain_cli import ConfigArg, private_output, store_path
from bot.config import load_config
from bot.dpo.erase import erase_subject, report
from bot.dpo.export import Subject, export_subject
from bot.dpo.record import as_json, as_markdown, build_record
from bot.media.keep import kept_folder
from bot.store import Store, StoreLocation


def add_privacy_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: ConfigArg
) -> None:
    privacy = sub.add_parser(
        "privacy",
        help="data-protection officer: export or erase one person, the record of processing",
    )
    actions = privacy.add_subparsers(dest="privacy_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="one person's data as JSON (Art. 15/20); recorded in the audit trail"
    )
    config_arg(export)
    export.add_argument(
        "subject", type=_subject, help="pseudonym (K-…) or number in international form"
    )
    export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")
    erase = actions.add_parser(
        "erase",
        help="erase one person everywhere Empfang can reach (Art. 17); recorded in the audit trail",
    )
    config_arg(erase)
    erase.add_argument(
        "subject", type=_subject, help="pseudonym (K-…) or number in international form"
    )
    erase.add_argument(
        "--reason", required=True, help='why, e.g. "request of 2026-11-30"; stored masked'
    )
    record = actions.add_parser(
        "record", help="the record of processing (Art. 30) from the effective configuration"
    )
    config_arg(record)
    record.add_argument("--format", choices=("md", "json"), default="md", help="default: md")


def _subject(written: str) -> Subject:
    try:
        return Subject.parse(written)
    except ValueError as exc:  # argparse would show its own words, not these
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_privacy(args: argparse.Namespace) -> int:
    if args.privacy_command == "record":
        record = build_record(load_config(args.config))
        print(as_json(record) if args.format == "json" else as_markdown(record))
        return 0
    path = store_path(args.config)
    if path is None:
        return 1
    if args.privacy_command == "erase":
        sinks = {sink.name: sink.type for sink in load_config(args.config).cases}
        return asyncio.run(_erase(path, args.subject, args.reason, sinks))
    return asyncio.run(_export(path, args.subject, args.output))


async def _erase(
    path: StoreLocation, subject: Subject, reason: str, sinks: Mapping[str, str]
) -> int:
    if not reason.strip():
        print("error: --reason must say why (it goes into the audit trail)", file=sys.stderr)
        return 2
    store = await Store.open(path)
    try:
        async with store.transaction() as tx:
            erasure = await erase_subject(
                tx, subject, cli_actor(), reason.strip(), sinks, kept=kept_folder(path.files)
            )
    finally:
        await store.close()
    print(report(erasure), end="")
    return 1 if erasure.held else 0


async def _export(path: StoreLocation, subject: Subject, output: Path | None) -> int:
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
