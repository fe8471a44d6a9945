"""A reception desk on a controllable clock: real store, the production wiring
(``bot.wiring``: relay, on-call, workers) and a paging receiver.

Chat and WhatsApp are the in-memory port implementations from tests/cases/doubles.py, so
timers can be driven by moving the clock instead of waiting.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import MessageKind, Reaction
from bot.ids import ChatMessageId, ProviderMessageId, ThreadId
from bot.intake import Intake
from bot.ports import AgentMessage
from bot.store import Store
from bot.texts import ENGLISH, Texts
from bot.wiring import wire_relay
from tests.cases.doubles import RecordingChat, RecordingWhatsApp
from tests.support.inbound import customer_sends

BERLIN = ZoneInfo("Europe/Berlin")
KEY = b"alerts-test-pseudonym-key-0123"
_ids = itertools.count(1)


def at(text: str) -> float:
    """Unix time of a Berlin wall-clock time like ``"2026-11-30 10:00"`` (a Monday)."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BERLIN).timestamp()


class PagingReceiver:
    """A paging tool on loopback that records every Events API v2 body."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _receive(self, request: web.Request) -> web.Response:
        self.events.append(await request.json())
        return web.json_response({"status": "success"}, status=202)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v2/enqueue", self._receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v2/enqueue"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class Desk:
    def __init__(
        self,
        store: Store,
        pager_url: str,
        *,
        alerts: dict[str, Any] | None = None,
        hours: dict[str, Any] | None = None,
        first_contact_notice: str = "",
        privacy: dict[str, Any] | None = None,
        chat: RecordingChat | None = None,
        max_attempts: int = 3,
        allowed_users: frozenset[str] = frozenset(),
        texts: Texts = ENGLISH,
    ) -> None:
        self.store = store
        clock = store.clock
        assert isinstance(clock, ManualClock)
        self.clock = clock
        self.chat = chat or RecordingChat()
        self.whatsapp = RecordingWhatsApp()
        settings = Settings.model_validate(
            {
                "alerts": {
                    "oncall": {"matrix": ["@oncall:example.org"]},
                    "webhook": {"url": pager_url, "routing_key": "R0UT1NGKEY"},
                    **(alerts or {}),
                },
                "business_hours": hours or {},
                "privacy": {
                    "pseudonym_key": KEY.decode(),
                    "first_contact_notice": first_contact_notice,
                    **(privacy or {}),
                },
                "jobs": {
                    "max_attempts": max_attempts,
                    "backoff_base_seconds": 1,
                    "backoff_max_seconds": 1,
                },
            }
        )
        wired = wire_relay(
            store,
            settings,
            chat=self.chat,
            whatsapp=self.whatsapp,
            texts=texts,
            allowed_users=allowed_users,
        )
        self.oncall = wired.oncall
        self.relay = wired.relay
        self.pool = wired.workers
        self.intake = Intake(store, pseudonym_key=KEY)

    async def customer_says(self, text: str, wa_id: str = "4915112345678") -> ProviderMessageId:
        """Returns the message's WhatsApp id, for a reaction to it."""
        return await self._customer_sends(MessageKind.TEXT, wa_id, text=text)

    async def customer_reacts(
        self, emoji: str, to: ProviderMessageId, wa_id: str = "4915112345678"
    ) -> None:
        reaction = Reaction(message_id=to, emoji=emoji)
        await self._customer_sends(MessageKind.REACTION, wa_id, reaction=reaction)

    async def _customer_sends(
        self, kind: MessageKind, wa_id: str, **content: Any
    ) -> ProviderMessageId:
        sent = await customer_sends(
            self.intake, self.clock, wa_id, profile_name="Erika", kind=kind, **content
        )
        await self.pool.run_until_idle()
        return sent

    async def thread(self) -> ThreadId:
        async with self.store.transaction() as tx:
            conversation = await tx.conversations.get(1)
        assert conversation is not None and conversation.thread_id is not None
        return conversation.thread_id

    async def agent_says(self, text: str) -> None:
        await self.relay.on_agent_event(
            AgentMessage(
                chat_id=ChatMessageId(f"$agent{next(_ids)}"),
                thread_id=await self.thread(),
                author_id="@alice:example.org",
                author_name="Alice",
                text=text,
            )
        )
        await self.pool.run_until_idle()

    async def advance_to(self, moment: float) -> None:
        """Move the clock in steps, running whatever falls due on the way."""
        while self.clock.now() < moment:
            self.clock.advance(min(60.0, moment - self.clock.now()))
            await self.pool.run_until_idle()

    def alert_texts(self) -> list[str]:
        return [text for text, _, _ in self.chat.alerts]
