"""The whole bot on Slack for tests and the pacing bench: the fake Slack, the WhatsApp
sandbox and ``Empfang`` itself (``bot.app``, the production composition), on loopback.

Customers write through the sandbox (signed webhooks into the bot), agents act through the
fake Slack; assertions read what the fake stored and received, and what customers'
phones show.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from bot.app import Empfang
from bot.config import Settings
from bot.demo.stack import free_port
from bot.sandbox import SandboxServer
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack

AGENT = "U0AGENTANNA"
AGENT_2 = "U0AGENTBEN"
OUTSIDER = "U0OUTSIDER"
"""A channel member who is not on the allow-list."""

Mode = Literal["socket", "http"]
REPLY_EVENT = {
    "type": "message",
    "channel": CHANNEL,
    "user": AGENT,
    "text": "Hallo",
    "ts": "1700000000.000100",
    "thread_ts": "1700000000.000001",
}
"""An agent's reply in a thread as a ``message`` event, for requests built by hand."""
TS = re.compile(r"\d{10}\.\d{6}")


def slack_settings(mode: Mode, *, fake: FakeSlack, store: Path, **sections: Any) -> Settings:
    """Bot settings: sandbox WhatsApp, Slack in ``mode`` against ``fake``."""
    slack: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "channel_id": CHANNEL,
        "allowed_users": [AGENT, AGENT_2],
        "api_base": fake.api_base,
    }
    if mode == "socket":
        slack["app_token"] = APP_TOKEN
    else:
        slack["signing_secret"] = fake.signing_secret
    data: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": free_port()},
        "store": {"path": str(store)},
        "whatsapp": {
            "provider": "sandbox",
            "phone_number_id": "106540352242922",
            "access_token": "sandbox-access-token",
            "app_secret": "sandbox-app-secret",
            "verify_token": "sandbox-verify-token",
        },
        "sandbox": {"host": "127.0.0.1", "port": 0, "status_delay_seconds": 0.01},
        "chat": {"platform": "slack"},
        "slack": slack,
        "privacy": {"pseudonym_key": "test-pseudonym-key-0123456789"},
        "jobs": {"backoff_base_seconds": 0.05, "backoff_max_seconds": 0.5},
    }
    for name, values in sections.items():  # a table merges, an array of tables replaces
        data[name] = values if isinstance(values, list) else {**data.get(name, {}), **values}
    return Settings(**data)


class SlackStack:
    def __init__(self, mode: Mode, store: Path, fake: FakeSlack, **sections: Any) -> None:
        self.mode = mode
        self.fake = fake
        self._store = store
        self._sections = sections
        self.settings: Settings | None = None
        self.sandbox: SandboxServer | None = None
        self.bot: Empfang | None = None

    async def start(self) -> SlackStack:
        await self.fake.start()
        self.fake.add_user(AGENT, "anna", real_name="Anna Agent", display_name="Anna")
        self.fake.add_user(AGENT_2, "ben", real_name="Ben Berger")
        self.fake.add_user(OUTSIDER, "olaf", real_name="Olaf Outside", display_name="Olaf")
        self.settings = slack_settings(
            self.mode, fake=self.fake, store=self._store, **self._sections
        )
        self.sandbox = SandboxServer(self.settings, port=0)
        await self.sandbox.start()
        self.settings.whatsapp.api_base = self.sandbox.graph_url
        await self.start_bot()
        return self

    async def start_bot(self) -> Empfang:
        assert self.settings is not None
        self.bot = Empfang(self.settings)
        await self.bot.start()
        if self.mode == "http":
            self.fake.use_http(self.bot.url)
        return self.bot

    async def stop_bot(self, drain_seconds: float = 10.0) -> None:
        if self.bot is not None:
            await self.bot.stop(drain_seconds)
            self.bot = None

    async def stop(self) -> None:
        await self.stop_bot()
        if self.sandbox is not None:
            await self.sandbox.stop()
        await self.fake.stop()

    # -- acting -------------------------------------------------------------------------------

    def say(self, number: str, text: str, *, name: str | None = None) -> str:
        """A customer writes on WhatsApp."""
        assert self.sandbox is not None
        return self.sandbox.say(number, text, name=name)

    def inbox(self, number: str) -> list[dict[str, Any]]:
        """What the customer's phone received from the business."""
        assert self.sandbox is not None
        messages: list[dict[str, Any]] = self.sandbox.inbox(number)["messages"]
        return messages

    # -- observing ----------------------------------------------------------------------------

    def rows(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        assert self.settings is not None
        with sqlite3.connect(self.settings.store.path) as conn:
            return conn.execute(sql, args).fetchall()

    def thread_id(self, number: str) -> str | None:
        """The thread of the customer's latest conversation, once the bot opened it."""
        digits = number.lstrip("+")
        found = self.rows(
            "SELECT c.thread_id FROM conversations c JOIN contacts k ON k.id = c.contact_id"
            " WHERE k.wa_id = ? ORDER BY c.id DESC LIMIT 1",
            digits,
        )
        return found[0][0] if found and found[0][0] else None

    async def thread_of(self, number: str, seconds: float = 10.0) -> str:
        return str(await wait_for(lambda: self.thread_id(number), seconds))

    def lines(self, thread_ts: str) -> list[str]:
        """The bot's posts in a thread, split into lines (combined posts hold several)."""
        return [line for text in self.fake.bot_texts(thread_ts) for line in text.split("\n")]

    async def lines_arrive(self, thread_ts: str, expected: list[str], seconds: float = 15) -> None:
        def complete() -> bool:
            lines = self.lines(thread_ts)
            return all(line in lines for line in expected)

        await wait_for(complete, seconds)

    def pending_jobs(self) -> int:
        """Jobs due now; timers set for later (SLA reminders, window warnings) don't count."""
        due = time.time() + 1
        return int(
            self.rows(f"SELECT count(*) FROM jobs WHERE state = 'pending' AND run_after < {due}")[
                0
            ][0]
        )

    async def settled(self, seconds: float = 20.0) -> None:
        """No job pending, no sandbox webhook or Slack event in flight."""
        assert self.sandbox is not None

        async def quiet() -> bool:
            assert self.sandbox is not None
            await self.sandbox.idle(seconds)
            await self.fake.idle(seconds)
            return self.pending_jobs() == 0

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await quiet():
                await asyncio.sleep(0.05)
                if await quiet():
                    return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.pending_jobs()} jobs still pending")


async def wait_for(probe: Callable[[], Any], seconds: float = 10.0, step: float = 0.02) -> Any:
    """Poll ``probe`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {seconds}s")
        await asyncio.sleep(step)


FORGED_LINE = "C0TEST\n2026-12-02 01:00:00,000 ERROR empfang: forged line"
HOSTILE_IDS = [
    FORGED_LINE,
    "C" * 20_000,
    "Anruf 0⑴⑺⑹ ⑼⑻⑺⑹ ⑸⑷⑶⑵",
    "C0TEST\u2028forged",
    "C0\x1b[2Jcleared",
    "c0lower",
]
"""What a request can put where a Slack id belongs (probe report 2, D2): a line break and a
forged line after it, 20,000 characters, digits of another script, a Unicode line
separator, a terminal escape, the right letters in the wrong case."""
LOG_LINE_LIMIT = 300
"""Characters a log message of the bot may have: far more than any it writes itself, far
less than a value a request can carry (20,000 characters of channel id)."""


def unsafe_log_messages(records: list[logging.LogRecord]) -> list[str]:
    """The bot's log messages that could forge a line or flood the log: one whose template
    is one line (the one traceback the adapter logs per kind of failure is not) holding a
    line break or another control character, or longer than :data:`LOG_LINE_LIMIT`."""
    found = []
    for record in records:
        if not record.name.startswith("empfang") or "\n" in str(record.msg):
            continue
        message = record.getMessage()
        if not message.isprintable() or len(message) > LOG_LINE_LIMIT:
            found.append(message[:LOG_LINE_LIMIT])
    return found


def digit_windows(number: str, size: int = 5) -> set[str]:
    digits = number.lstrip("+")
    return {digits[i : i + size] for i in range(len(digits) - size + 1)}


def leaks(wire: str, numbers: list[str]) -> list[str]:
    """Pieces of customer numbers (5+ consecutive digits) found in what the bot sent.

    Slack timestamps (``1700000000.000100``) are machine ids and are blanked first: their
    digits would match number fragments by chance.
    """
    text = TS.sub("<ts>", wire)
    found = []
    for number in numbers:
        for window in sorted(digit_windows(number)):
            if window in text:
                found.append(window)
    return found
