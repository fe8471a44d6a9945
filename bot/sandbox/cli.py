"""``empfang sandbox …`` commands; ``bot/cli.py`` parses arguments and calls these.

Output is for people trying Empfang: where things listen, what to type next, and errors they
can act on. Customer numbers are never printed in full, matching the privacy rule for logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.media.limits import human_size
from bot.sandbox.client import SandboxClient
from bot.sandbox.core import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, DEFAULT_VERIFY_TOKEN
from bot.sandbox.errors import SandboxClientError
from bot.sandbox.graph import wa_id_of
from bot.sandbox.phone import masked
from bot.sandbox.server import SandboxServer

_TICKS = {"accepted": "…", "sent": "✓", "delivered": "✓✓", "read": "✓✓ read", "failed": "✗"}


def _defaults_note(settings: Settings) -> list[str]:
    """Tell the admin which built-in values the bot's config must repeat."""
    wa = settings.whatsapp
    notes = []
    for key, secret, default in (
        ("access_token", wa.access_token, DEFAULT_ACCESS_TOKEN),
        ("app_secret", wa.app_secret, DEFAULT_APP_SECRET),
        ("verify_token", wa.verify_token, DEFAULT_VERIFY_TOKEN),
    ):
        if not secret.get_secret_value():
            notes.append(f'  whatsapp.{key} is empty: the sandbox uses "{default}"')
    if not wa.phone_number_id:
        notes.append("  whatsapp.phone_number_id is empty: the sandbox uses the id shown above")
    return notes


def _banner(server: SandboxServer, settings: Settings) -> str:
    business, twilio = server.business, server.twilio
    lines = [
        "Empfang WhatsApp sandbox (a stand-in for Meta's Cloud API; nothing leaves this host)",
        f"  Graph API (whatsapp.api_base): {server.graph_url}",
        f"  phone_number_id: {business.phone_number_id}   "
        f"display number: +{business.display_phone_number}   WABA id: {business.waba_id}",
        f"  Webhooks go to: {server.webhook_url} (signed with whatsapp.app_secret)",
        f"  Twilio (twilio.api_base): {server.base_url}   account: {twilio.account_sid}   "
        f"senders: {', '.join(twilio.senders)}",
        f"  Twilio webhooks go to: {twilio.webhook_url} (signed with twilio.auth_token)",
        f"  Driver API (the customer's phone): {server.base_url}/sandbox",
        *_defaults_note(settings),
        '  Try: empfang sandbox say --from +4915100000001 --name "Erika" "Hallo"',
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM or cancellation; SandboxError if the port cannot be bound."""
    server = SandboxServer(settings)
    await server.start()
    print(_banner(server, settings), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available off the main thread or on some platforms: cancellation still works.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    try:
        await stop.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        await server.stop()
        print("Sandbox stopped.", flush=True)


def _fail(error: SandboxClientError, err: TextIO) -> int:
    print(f"error: {error}", file=err)
    return 1


async def say(
    base_url: str, sender: str, text: str, name: str | None, business: str | None = None
) -> int:
    """A customer sends a text message (to ``business``: a ``phone_number_id`` or a Twilio
    sender; the first number without); prints its wamid or MessageSid. Exit code 0 or 1."""
    async with SandboxClient(base_url) as client:
        try:
            wamid = await client.say(sender, text, name=name, to=business)
        except SandboxClientError as exc:
            return _fail(exc, sys.stderr)
    who = masked(wa_id_of(sender) or sender)
    print(f"{who} sent: {text!r} ({wamid})")
    return 0


async def act(base_url: str, what: str, call: Callable[[SandboxClient], Awaitable[str]]) -> int:
    """One customer action (react, edit, delete, tap …); prints what happened and the
    wamid it made. Exit code 0 or 1."""
    async with SandboxClient(base_url) as client:
        try:
            wamid = await call(client)
        except SandboxClientError as exc:
            return _fail(exc, sys.stderr)
    print(f"{what} ({wamid})")
    return 0


async def say_file(
    base_url: str, sender: str, path: Path, caption: str | None, name: str | None
) -> int:
    """A customer sends the file at ``path``; prints what went and its wamid. 0 or 1."""
    async with SandboxClient(base_url) as client:
        try:
            wamid = await client.send_file(sender, path, caption=caption, name=name)
        except SandboxClientError as exc:
            return _fail(exc, sys.stderr)
        except OSError as exc:
            print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 1
    who = masked(wa_id_of(sender) or sender)
    print(f"{who} sent the file {path.name!r} ({wamid})")
    return 0


def _media_line(media: dict[str, Any]) -> str:
    """``image/jpeg, 2.0 MB, sha256 9f86d0…``: enough to compare with the file sent."""
    size = media.get("file_size")
    shown = human_size(size) if isinstance(size, int) else "?"
    return f"      {media.get('mime_type')}, {shown}, sha256 {media.get('sha256')}"


def _clock(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(int(timestamp)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError):
        return "?"


def format_inbox(view: dict[str, Any]) -> str:
    """The customer's chat with the business as lines of text, oldest first."""
    who = masked(str(view.get("wa_id", "")))
    name = f" ({view['name']})" if view.get("name") else ""
    if view.get("window_open"):
        window = f"window open until {_clock(view.get('window_closes_at'))}"
    else:
        window = "window closed: only templates reach this customer"
    lines = [f"Chat of {who}{name}: {window}"]
    if view.get("unreachable"):
        lines.append("  (marked unreachable: sends fail with 131026)")
    messages = view.get("messages") or []
    if not messages:
        lines.append("  (the business has sent nothing yet)")
    for message in messages:
        shown = message.get("text")
        if shown is None:
            shown = message.get("media_id") or message.get("link") or ""
        tick = _TICKS.get(str(message.get("status")), str(message.get("status")))
        reply = "  ↩ reply" if message.get("context") else ""
        lines.append(
            f"  {_clock(message.get('timestamp'))}  {tick:<8} {message.get('type'):<11} "
            f"{shown!r}{reply}"
        )
        if isinstance(message.get("media"), dict):
            lines.append(_media_line(message["media"]))
        for error in message.get("errors") or []:
            lines.append(f"      error {error.get('code')}: {error.get('title')}")
    if view.get("typing"):
        lines.append("  the business is typing …")
    return "\n".join(lines)


async def inbox(base_url: str, number: str, business: str | None = None) -> int:
    """Print what the customer with ``number`` has received (from ``business``, the first
    number without). Exit code 0 or 1."""
    async with SandboxClient(base_url) as client:
        try:
            view = await client.inbox(number, business)
        except SandboxClientError as exc:
            return _fail(exc, sys.stderr)
    print(format_inbox(view))
    return 0


async def read(base_url: str, number: str) -> int:
    """The customer opens the chat: pending messages become ``read``."""
    async with SandboxClient(base_url) as client:
        try:
            marked = await client.read(number)
        except SandboxClientError as exc:
            return _fail(exc, sys.stderr)
    print(f"{len(marked)} message(s) marked read")
    return 0


async def verify(base_url: str) -> int:
    """Have the sandbox make Meta's verification GET against the bot; 0 if the bot passed."""
    async with SandboxClient(base_url) as client:
        try:
            report = await client.verify_webhook()
        except SandboxClientError as exc:
            return _fail(exc, sys.stderr)
    if report.get("ok"):
        print(f"verification handshake OK: {report['url']}")
        return 0
    answer = report.get("status_code") or report.get("error")
    print(f"verification handshake failed at {report.get('url')}: {answer}", file=sys.stderr)
    return 1
