"""The production path for case transfers, on real SQLite files and real loopback servers.

``Desk`` is intake plus the production wiring (``bot.wiring``: relay with ``CaseTransfers``
as its case hooks, on-call, ``WorkerPool``), with in-memory chat/WhatsApp ports and a
manual clock, so retries and backoff run without waiting. Sinks talk real HTTP to local
aiohttp servers and real SMTP to aiosmtpd.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from adapters.cases import build_sinks
from bot.cases.hooks import CaseTransfers, TransferAlert
from bot.cases.model import CaseSink
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ChatMessageId, ProviderMessageId, ThreadId, WaId
from bot.intake import Intake
from bot.job_catalog import ALERT_SLA, ALERT_WINDOW, CHAT_WINDOW
from bot.ports import AgentMessage
from bot.store import Store
from bot.store.cases import LedgerRow
from bot.texts import ENGLISH
from bot.wiring import wire_relay
from tests.cases.doubles import RecordingChat, RecordingWhatsApp
from tests.fakes.zammad import FakeZammad
from tests.numbers import CUSTOMER

PSEUDONYM_KEY = "test-pseudonym-key-0123456789"
WEBHOOK_SECRET = "webhook-secret-0123456789abcdef"

_provider_ids = itertools.count(1)


def sinks_from(*tables: dict[str, Any]) -> list[CaseSink]:
    """Sinks built the way ``empfang run`` builds them: ``[[cases]]`` tables → settings."""
    return build_sinks(Settings.model_validate({"cases": list(tables)}).cases, ENGLISH)


@dataclass(frozen=True)
class JobView:
    kind: str
    order_key: str | None
    state: str
    attempts: int


class Desk:
    """A reception desk with the given sinks; drive it like customers and agents would."""

    def __init__(
        self,
        store: Store,
        sinks: Sequence[CaseSink] = (),
        *,
        max_attempts: int = 6,
        outage_patience: float = 3 * 86400.0,
        chat: RecordingChat | None = None,
    ) -> None:
        self.store = store
        self.chat = chat or RecordingChat()
        self.whatsapp = RecordingWhatsApp()
        settings = Settings.model_validate(
            {
                "privacy": {"pseudonym_key": PSEUDONYM_KEY},
                "jobs": {
                    "max_attempts": max_attempts,
                    "outage_patience": outage_patience,
                    "backoff_base_seconds": 1.0,
                    "backoff_max_seconds": 8.0,
                },
            }
        )
        self.wired = wire_relay(
            store, settings, chat=self.chat, whatsapp=self.whatsapp, texts=ENGLISH, sinks=sinks
        )
        self.relay = self.wired.relay
        self.pool = self.wired.workers
        self.intake = Intake(store, pseudonym_key=PSEUDONYM_KEY.encode())

    @property
    def cases(self) -> CaseTransfers:
        assert self.wired.cases is not None, "a desk without sinks has no case transfers"
        return self.wired.cases

    @property
    def alerts(self) -> list[TransferAlert]:
        """The alerts about transfers that failed for good, as posted in the chat."""
        return [
            TransferAlert(text=text, thread_id=ThreadId(thread) if thread else None, key=key)
            for text, thread, key in self.chat.alerts
            if key.startswith("case-dead-")
        ]

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.store.clock, ManualClock)
        return self.store.clock

    async def customer_says(self, text: str, *, number: str = CUSTOMER) -> None:
        message = InboundMessage(
            provider_id=ProviderMessageId(f"wamid.in{next(_provider_ids)}"),
            sender=Sender(wa_id=WaId(number), profile_name="Erika Mustermann"),
            timestamp=int(self.clock.now()),
            kind=MessageKind.TEXT,
            text=text,
        )
        await self.intake.accept(WebhookBatch(messages=(message,)))
        self.clock.advance(1)

    async def agent_says(self, text: str, *, number: str = CUSTOMER) -> None:
        thread_id = await self.thread_of(number)
        await self.relay.on_agent_event(
            AgentMessage(
                chat_id=ChatMessageId(f"chat-{next(_provider_ids)}"),
                thread_id=ThreadId(thread_id),
                author_id="@alice:example.org",
                author_name="Alice",
                text=text,
            )
        )
        self.clock.advance(1)

    async def thread_of(self, number: str = CUSTOMER) -> str:
        rows = await self.sql(
            "SELECT v.thread_id FROM conversations v JOIN contacts c ON c.id = v.contact_id"
            " WHERE c.wa_id = ? ORDER BY v.id DESC LIMIT 1",
            (number,),
        )
        assert rows and rows[0][0], "the customer has no thread yet: drain first"
        return str(rows[0][0])

    async def drain(self) -> int:
        """Run every job that is due now."""
        return await self.pool.run_until_idle()

    async def settle(self, *, step: float = 10.0, rounds: int = 30) -> None:
        """Run jobs, moving the clock on by ``step`` while retries are pending."""
        for _ in range(rounds):
            await self.drain()
            if not [job for job in await self.jobs() if job.state == "pending"]:
                return
            self.clock.advance(step)
        raise AssertionError(f"jobs still pending: {await self.jobs()}")

    async def sql(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        async with self.store.transaction() as tx:
            return [tuple(row) for row in await tx.conn.fetchall(query, args)]

    async def jobs(self) -> list[JobView]:
        """The queue without the timers (on-call's, the window's), which wait for hours by
        design."""
        rows = await self.sql(
            "SELECT kind, order_key, state, attempts FROM jobs WHERE kind NOT IN (?, ?, ?)"
            " ORDER BY id",
            (ALERT_SLA.name, ALERT_WINDOW.name, CHAT_WINDOW.name),
        )
        return [JobView(*row) for row in rows]

    async def ledger(self) -> list[LedgerRow]:
        async with self.store.transaction() as tx:
            return await tx.cases.ledger.rows()

    async def close(self) -> None:
        await self.wired.stop()


@pytest.fixture
async def store(store_target: Path | str) -> AsyncIterator[Store]:
    """A store on each backend: the case tests run on SQLite and on PostgreSQL."""
    opened = await Store.open(store_target, clock=ManualClock())
    yield opened
    await opened.close()


def sqlite_rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(query).fetchall()


# -- a webhook receiver written from README "Case systems" alone -----------------------------


@dataclass
class Receiver:
    """Verifies ``X-Empfang-Signature``, de-duplicates by ``Idempotency-Key``, keeps events.

    ``fail_after_storing`` answers that many requests with 500 AFTER storing the event (a
    receiver that crashed before answering: the worst case for duplicates); ``down`` answers
    503 without looking at the request.
    """

    secret: bytes
    events: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[tuple[str, bytes]] = field(default_factory=list)
    fail_after_storing: int = 0
    down: bool = False
    bad_signatures: int = 0
    url: str = ""
    _seen: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="maintenance")
        raw = await request.read()
        expected = "sha256=" + hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Empfang-Signature", ""), expected):
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        key = request.headers["Idempotency-Key"]
        self.attempts.append((key, raw))
        event = json.loads(raw)
        if key not in self._seen:
            self._seen.add(key)
            self.events.append(event)
        if self.fail_after_storing:
            self.fail_after_storing -= 1
            return web.Response(status=500, text="oops")
        return web.json_response({"case_id": f"C-{event['conversation']['id']}"})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver(secret=WEBHOOK_SECRET.encode())
    app = web.Application()
    app.router.add_post("/cases", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/cases"
    yield found
    await runner.cleanup()


@pytest.fixture
async def zammad() -> AsyncIterator[FakeZammad]:
    fake = await FakeZammad().start()
    yield fake
    await fake.stop()


# -- a real SMTP server (aiosmtpd) on loopback ------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    temporary_failures: int = 0
    port: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.temporary_failures:
            self.temporary_failures -= 1
            return "451 4.3.0 Try again later"
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 2.0.0 OK"


@pytest.fixture
async def smtp() -> AsyncIterator[Mailbox]:
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="mail.test", decode_data=False), "127.0.0.1", 0
    )
    mailbox.port = int(server.sockets[0].getsockname()[1])
    yield mailbox
    server.close()
    await server.wait_closed()
