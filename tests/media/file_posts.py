"""What the tests of customers' file posts leaving the chat share: a customer's file from
the WhatsApp sandbox through the real intake and the production wiring (``relay.media``
with ``adapters.whatsapp.media``) into a chat, on the store's manual clock."""

from __future__ import annotations

import base64
import itertools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from adapters.whatsapp.media import CloudMediaIn
from adapters.whatsapp.parse import parse_webhook
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.ports import ChatPlatform
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, wire_relay
from tests.cases.doubles import RecordingWhatsApp
from tests.media.customer import PDF
from tests.privacy.retention_chat import KEY
from tests.sandbox.harness import ACCESS_TOKEN, CUSTOMER_WA_ID, Env, sandbox_env

CAPTION = "Rechnung vom Mai"
_revokes = itertools.count(1)


@dataclass(frozen=True)
class FileDesk:
    env: Env
    store: Store
    wired: RelayStack
    db: Path

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.store.clock, ManualClock)
        return self.store.clock

    async def customer_sends_pdf(self) -> str:
        """The customer sends an invoice with a caption; returns its wamid once the line
        and the file are in the thread."""
        spec = {
            "from": "+" + CUSTOMER_WA_ID,
            "type": "document",
            "mime_type": "application/pdf",
            "filename": "Rechnung.pdf",
            "caption": CAPTION,
            "data_base64": base64.b64encode(PDF).decode(),
        }
        wamid = self.env.sandbox.send_message(spec)
        await self.env.sandbox.idle()
        batch = parse_webhook(self.env.receiver.received[-1].body)
        await Intake(self.store, pseudonym_key=KEY.encode()).accept(batch)
        await self.wired.workers.run_until_idle()
        return wamid

    async def customer_deletes(self, wamid: str) -> None:
        message = InboundMessage(
            provider_id=ProviderMessageId(f"wamid.revoke{next(_revokes)}"),
            sender=Sender(wa_id=WaId(CUSTOMER_WA_ID)),
            timestamp=int(self.clock.now()),
            kind=MessageKind.REVOKE,
            target_id=ProviderMessageId(wamid),
        )
        batch = WebhookBatch(messages=(message,))
        await Intake(self.store, pseudonym_key=KEY.encode()).accept(batch)
        await self.wired.workers.run_until_idle()

    async def purge(self) -> None:
        await self.wired.workers.run_until_idle()
        await self.wired.purge.ensure_scheduled()
        await self.wired.workers.run_until_idle()

    def media_reference(self) -> Any:
        """The stored media of the customer's file message (None once its body is gone)."""
        with sqlite3.connect(self.db) as conn:
            (row,) = conn.execute(
                "SELECT body ->> '$.media' FROM messages WHERE kind = 'document'"
            ).fetchall()
        return row[0]


@asynccontextmanager
async def file_desk(
    tmp_path: Path, chat: ChatPlatform, start: float, **config: Any
) -> AsyncIterator[FileDesk]:
    """The relay on ``chat`` with customers' media from the sandbox; ``config`` adds
    sections (``retention``, ``media``) to the settings."""
    db = tmp_path / "empfang.sqlite3"
    store = await Store.open(db, clock=ManualClock(start))
    settings = Settings.model_validate(
        {"privacy": {"pseudonym_key": KEY}, "store": {"path": str(db)}, **config}
    )
    async with sandbox_env() as env, httpx.AsyncClient() as http:
        auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
        wired = wire_relay(
            store,
            settings,
            chat=chat,
            whatsapp=RecordingWhatsApp(),
            texts=ENGLISH,
            media_source=CloudMediaIn(lambda: http, env.sandbox.graph_url, auth),
        )
        try:
            yield FileDesk(env, store, wired, db)
        finally:
            await wired.workers.stop(1.0)
            await store.close()
