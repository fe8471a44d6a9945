"""``empfang …``: the commands admins and data-protection officers use.

Every command prints errors in words a user can act on and exits non-zero on failure:
2 for configuration problems, 1 for everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bot.backup_cli import add_backup_parser, run_backup
from bot.cases.cli import add_ledger_parser, run_ledger
from bot.chain_cli import AUDIT, add_chain_parser, run_chain
from bot.config import Settings, check_settings, load_checked, load_config
from bot.dpo.cli import add_privacy_parser, run_privacy
from bot.errors import ConfigError, EmpfangError
from bot.online import OnlineReport
from bot.ops_cli import add_ops_parsers, run_jobs, run_status
from bot.privacy_check import privacy_warnings
from bot.storage_check import storage_warnings
from bot.store_cli import add_store_parser, run_store

EXIT_CONFIG = 2


def _version() -> str:
    """The installed distribution's version: the one a bug report needs, not a source constant."""
    try:
        return version("empfang")
    except PackageNotFoundError:
        return "unknown (not installed; run pip install -e .)"


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML config file (default: $EMPFANG_CONFIG; without either, defaults + environment)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="empfang",
        description="Data-protection-compliant WhatsApp reception desk for Slack and Matrix.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot: webhooks, chat adapter, workers")
    _config_arg(run)
    run.add_argument(
        "--intake-only",
        action="store_true",
        help="only accept and store webhooks (no relaying); for benchmarks and maintenance",
    )

    check = sub.add_parser("check-config", help="validate the config; exit 2 on any problem")
    _config_arg(check)
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask WhatsApp and the chat platform whether tokens, number and room work",
    )

    mask = sub.add_parser("mask", help="print stdin lines as agents would see them (masked)")
    mask.add_argument("--region", default="DE", help="region for national numbers (default DE)")
    mask.add_argument("--visible-digits", type=int, default=2, help="trailing digits shown")

    _add_sandbox(sub)
    add_ledger_parser(sub, _config_arg)
    add_chain_parser(sub, _config_arg, AUDIT)
    add_privacy_parser(sub, _config_arg)
    add_backup_parser(sub, _config_arg)
    add_store_parser(sub)
    add_ops_parsers(sub, _config_arg)

    demo = sub.add_parser("demo", help="run Empfang end to end on a local Synapse and the sandbox")
    demo.add_argument(
        "--interactive", action="store_true", help="keep running and read customer messages"
    )
    demo.add_argument("--workdir", type=Path, default=None, help="keep demo files here")
    return parser


def _add_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = sub.add_parser(
        "sandbox", help="local stand-in for the WhatsApp Cloud API (try Empfang without Meta)"
    )
    _config_arg(sandbox)
    sandbox.add_argument("--url", default=None, help="sandbox base URL for say/inbox")
    actions = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION")
    say = actions.add_parser("say", help="send a message as a customer")
    say.add_argument("--from", dest="sender", required=True, help="customer number, e.g. +49151…")
    say.add_argument("--name", default=None, help="the customer's WhatsApp profile name")
    say.add_argument("--reply-to", default=None, help="wamid of the message this answers")
    say.add_argument("--file", type=Path, default=None, help="send this file instead of text")
    say.add_argument("--caption", default=None, help="caption of a picture, video or document")
    say.add_argument(
        "--business",
        default=None,
        help="the business number written to: a phone_number_id, or a Twilio sender "
        "whatsapp:+… (default: the first number)",
    )
    say.add_argument("text", nargs="?", default=None, help="message text")
    react = actions.add_parser("react", help="a customer reacts to a message (or takes it back)")
    react.add_argument("--from", dest="sender", required=True, help="customer number")
    react.add_argument("--message", default=None, help="wamid (default: the business's latest)")
    react.add_argument("emoji", nargs="?", default="", help="the emoji; none removes it")
    edit = actions.add_parser("edit", help="a customer edits one of their messages")
    edit.add_argument("--from", dest="sender", required=True, help="customer number")
    edit.add_argument("--message", required=True, help="wamid of the customer's message")
    edit.add_argument("text", help="the new text")
    delete = actions.add_parser("delete", help="a customer deletes one of their messages")
    delete.add_argument("--from", dest="sender", required=True, help="customer number")
    delete.add_argument("--message", required=True, help="wamid of the customer's message")
    tap = actions.add_parser("tap", help="a customer taps a reply button by its title")
    tap.add_argument("--from", dest="sender", required=True, help="customer number")
    tap.add_argument("title", help="the button's title")
    echo = actions.add_parser("business-app", help="the business writes from its Business app")
    echo.add_argument("--to", dest="number", required=True, help="customer number")
    echo.add_argument("text", help="message text")
    inbox = actions.add_parser("inbox", help="show what a customer received")
    inbox.add_argument("--to", dest="number", required=True, help="customer number")
    inbox.add_argument("--business", default=None, help="whose chat: as for say --business")
    read = actions.add_parser("read", help="let a customer read what they received")
    read.add_argument("--to", dest="number", required=True, help="customer number")
    actions.add_parser("verify", help="make Meta's GET handshake against the bot's webhook")


def _check_config(path: Path | None, online: bool = False) -> int:
    try:
        settings = load_config(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    problems = check_settings(settings)
    if online and not problems:
        report = asyncio.run(_online_report(settings))
        for line in report.facts:
            print(f"ok: {line}")
        for line in report.warnings:
            print(f"warning: {line}", file=sys.stderr)
        problems = report.problems
    for line in storage_warnings(settings) + privacy_warnings(settings):
        print(f"warning: {line}", file=sys.stderr)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return EXIT_CONFIG
    print("config OK")
    return 0


async def _online_report(settings: Settings) -> OnlineReport:
    """WhatsApp and every chat platform a number's threads are on, each room and channel
    of a number under its key, asked at the same time; WhatsApp first."""
    from adapters.whatsapp.online import check_online as check_whatsapp

    chats = []
    for platform in ("matrix", "slack"):
        rooms, alerts = _number_targets(settings, platform)
        if not rooms:
            continue
        alerts_room = settings.alerts.room if platform == settings.chat.platform else ""
        if platform == "slack":
            from adapters.slack.online import check_online as check_slack

            chats.append(check_slack(settings.slack, alerts_room, rooms, alerts))
        else:
            from adapters.matrix.online import check_online as check_matrix

            chats.append(check_matrix(settings.matrix, alerts_room, rooms, alerts))
    kinds = [n.provider for n in settings.configured_numbers()]
    checks = []  # each provider some number uses (Cloud API and Twilio side by side)
    cloud = next((kind for kind in kinds if kind != "twilio"), None)
    if cloud is not None:
        section = settings.whatsapp.model_copy(update={"provider": cloud})
        checks.append(check_whatsapp(section, settings.sandbox))
    if "twilio" in kinds:
        from adapters.twilio.online import check_online as check_twilio

        checks.append(check_twilio(settings.twilio))
    report = OnlineReport()
    for part in await asyncio.gather(*checks, *chats):
        report.extend(part)
    return report


def _number_targets(
    settings: Settings, platform: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The rooms (or channels) of ``platform`` the numbers' threads and alerts go to, as
    ``(key, room)``: ``numbers[i].room`` / ``numbers[i].alerts_room``, or the global key
    for the one implicit number."""
    rooms: list[tuple[str, str]] = []
    alerts: list[tuple[str, str]] = []
    global_key = "matrix.room_id" if platform == "matrix" else "slack.channel_id"
    for index, number in enumerate(settings.configured_numbers()):
        if number.platform != platform:
            continue
        rooms.append((f"numbers[{index}].room" if settings.numbers else global_key, number.room))
        if number.alerts_room:
            alerts.append((f"numbers[{index}].alerts_room", number.alerts_room))
    return rooms, alerts


def _run(path: Path | None, intake_only: bool) -> int:
    from bot.app import Empfang, run_until_signalled
    from bot.logsetup import configure_logging

    settings = load_checked(path, need_chat=not intake_only)
    configure_logging(settings.logging.level, settings.logging.format)
    asyncio.run(run_until_signalled(Empfang(settings, intake_only=intake_only)))
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox import cli as sandbox_cli

    settings = load_config(args.config)
    base_url = args.url or f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    if args.sandbox_command == "say" and (args.file is None) == (args.text is None):
        print("error: say needs a text or --file PATH (one of them)", file=sys.stderr)
        return 2
    if args.sandbox_command == "say" and args.file is not None:
        return asyncio.run(
            sandbox_cli.say_file(base_url, args.sender, args.file, args.caption, args.name)
        )
    if args.sandbox_command == "say" and args.reply_to is None:
        return asyncio.run(
            sandbox_cli.say(base_url, args.sender, args.text, args.name, args.business)
        )
    action = _customer_action(args)
    if action is not None:
        return asyncio.run(sandbox_cli.act(base_url, *action))
    if args.sandbox_command == "inbox":
        return asyncio.run(sandbox_cli.inbox(base_url, args.number, args.business))
    if args.sandbox_command == "read":
        return asyncio.run(sandbox_cli.read(base_url, args.number))
    if args.sandbox_command == "verify":
        return asyncio.run(sandbox_cli.verify(base_url))
    from bot.logsetup import configure_logging

    configure_logging(settings.logging.level, settings.logging.format)
    asyncio.run(sandbox_cli.serve(settings))
    return 0


def _customer_action(
    args: argparse.Namespace,
) -> tuple[str, Callable[[Any], Awaitable[str]]] | None:
    """What ``empfang sandbox react|edit|delete|tap|business-app|say --reply-to`` asks the
    sandbox, as a description and a call on its client."""
    command = args.sandbox_command
    sender = getattr(args, "sender", None)
    spec: dict[str, Any] = {"from": sender}
    if command == "say":
        spec.update(type="text", text=args.text, reply_to=args.reply_to, name=args.name)
    elif command == "react":
        spec.update(type="reaction", emoji=args.emoji, message_id=args.message)
    elif command == "edit":
        spec.update(type="edit", original_message_id=args.message, text=args.text)
    elif command == "delete":
        spec.update(type="revoke", original_message_id=args.message)
    elif command == "tap":
        return f"tapped {args.title!r}", lambda client: client.tap(sender, args.title)
    elif command == "business-app":
        return "sent from the Business app", lambda c: c.business_app_send(args.number, args.text)
    else:
        return None
    sent = {key: value for key, value in spec.items() if value is not None}
    return f"{command} sent", lambda client: client.send_message(sent)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo.run import run_demo

    return asyncio.run(run_demo(interactive=args.interactive, workdir=args.workdir))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check-config":
            return _check_config(args.config, args.online)
        if args.command == "mask":
            from bot.mask_cli import run_mask

            return run_mask(args.region, args.visible_digits, sys.stdin, sys.stdout)
        if args.command == "run":
            return _run(args.config, args.intake_only)
        if args.command == "sandbox":
            return _sandbox(args)
        if args.command == "ledger":
            return run_ledger(args)
        if args.command == "audit":
            return run_chain(args, AUDIT)
        if args.command == "privacy":
            return run_privacy(args)
        if args.command == "backup":
            return run_backup(args)
        if args.command == "store":
            return run_store(args)
        if args.command == "jobs":
            return run_jobs(args)
        if args.command == "status":
            return run_status(args)
        return _demo(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except EmpfangError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
