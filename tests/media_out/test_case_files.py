"""Case systems with ``include_media``: the customer's files, stripped as in the thread,
as e-mail attachments (real SMTP, aiosmtpd) and Zammad article attachments (the fake);
the ledger names ``media``. Without it, only the message's line goes, and the ledger says
``text``.

WhatsApp is the sandbox (the file is fetched again from it with the Bearer token), the
chat an in-memory double; the composition is the production one (``bot.wiring``).
"""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.whatsapp.cloud import CloudWhatsApp
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain import InboundMessage, Media, MessageKind, Sender, WebhookBatch
from bot.ids import ChatMessageId, ProviderMessageId, ThreadId, WaId
from bot.intake import Intake
from bot.ports import ChatFile, UploadJournal
from bot.sandbox import SandboxServer
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, wire_relay
from tests.cases.conftest import PSEUDONYM_KEY, Mailbox, sinks_from, smtp, zammad
from tests.cases.doubles import RecordingChat, RecordingWhatsApp
from tests.cases.test_email import mail_table
from tests.fakes.zammad import FakeZammad
from tests.media.images import metadata_left, phone_photo, upright
from tests.numbers import CUSTOMER
from tests.sandbox.harness import make_settings

__all__ = ["smtp", "zammad"]  # fixtures

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
_ids = itertools.count(1)


class FileChat(RecordingChat):
    """The in-memory chat, taking files into the thread too."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[str] = []

    async def post_file(
        self, thread_id: ThreadId, file: ChatFile, *, key: str, journal: UploadJournal
    ) -> ChatMessageId:
        self.files.append(file.name)
        return ChatMessageId(f"file-{key}")


@dataclass
class CaseDesk:
    store: Store
    sandbox: SandboxServer
    whatsapp: CloudWhatsApp
    wired: RelayStack
    intake: Intake

    async def customer_sends(
        self, content: bytes, mime: str, kind: MessageKind, **media: Any
    ) -> None:
        item = self.sandbox.media.add(content, mime, inbound=True, filename=media.get("filename"))
        message = InboundMessage(
            provider_id=ProviderMessageId(f"wamid.case{next(_ids)}"),
            sender=Sender(wa_id=WaId(CUSTOMER), profile_name="Erika"),
            timestamp=int(self.store.clock.now()),
            kind=kind,
            media=Media(media_id=item.media_id, mime_type=mime, sha256=item.sha256_hex, **media),
        )
        await self.intake.accept(WebhookBatch(messages=(message,)))

    async def settle(self) -> None:
        clock = self.store.clock
        assert isinstance(clock, ManualClock)
        for _ in range(20):
            await self.wired.workers.run_until_idle()
            clock.advance(5)

    async def ledger_categories(self) -> list[str]:
        async with self.store.transaction() as tx:
            return [row.categories for row in await tx.cases.ledger.rows()]


@pytest.fixture
async def case_desk(tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[tuple[CaseDesk, Store]] = []

    async def build(*tables: dict[str, Any]) -> CaseDesk:
        store = await Store.open(tmp_path / f"empfang-{len(opened)}.sqlite3", clock=ManualClock())
        sandbox = SandboxServer(make_settings(1), port=0)
        await sandbox.start()
        whatsapp = CloudWhatsApp(
            api_base=sandbox.graph_url,
            phone_number_id=sandbox.business.phone_number_id,
            access_token=sandbox.access_token,
            app_secret="unused",
            verify_token="unused",
        )
        settings = Settings.model_validate(
            {
                "privacy": {"pseudonym_key": PSEUDONYM_KEY},
                "store": {"path": str(tmp_path / f"empfang-{len(opened)}.sqlite3")},
            }
        )
        wired = wire_relay(
            store,
            settings,
            chat=FileChat(),
            whatsapp=RecordingWhatsApp(),
            texts=ENGLISH,
            sinks=sinks_from(*tables),
            media_source=whatsapp.media_in,
        )
        desk = CaseDesk(
            store, sandbox, whatsapp, wired, Intake(store, pseudonym_key=PSEUDONYM_KEY.encode())
        )
        opened.append((desk, store))
        return desk

    yield build
    for desk, store in opened:
        await desk.wired.stop()
        await desk.whatsapp.aclose()
        await desk.sandbox.stop()
        await store.close()


async def test_email_attaches_the_stripped_photo_and_the_document(
    case_desk: Any, smtp: Mailbox
) -> None:
    desk: CaseDesk = await case_desk(mail_table(smtp, include_media=True))
    await desk.customer_sends(phone_photo(), "image/jpeg", MessageKind.IMAGE, caption="Schaden")
    await desk.customer_sends(
        PDF, "application/pdf", MessageKind.DOCUMENT, filename=f"Rechnung_{CUSTOMER}.pdf"
    )
    await desk.settle()

    attachments = [
        (part.get_filename(), part.get_content_type(), part.get_content())
        for message in smtp.messages
        for part in message.iter_attachments()
    ]
    (photo_name, photo_type, photo), (pdf_name, pdf_type, pdf) = attachments
    assert photo_type == "image/jpeg" and metadata_left(photo) == [] and upright(photo)
    assert pdf_type == "application/pdf"
    assert hashlib.sha256(pdf).digest() == hashlib.sha256(PDF).digest()
    assert CUSTOMER[-6:] not in str(pdf_name) and str(pdf_name).endswith(".pdf")
    assert str(photo_name).endswith(".jpg")
    assert any("media" in categories.split(",") for categories in await desk.ledger_categories())


async def test_zammad_article_attachments(case_desk: Any, zammad: FakeZammad) -> None:
    table = {
        "type": "zammad",
        "name": "helpdesk",
        "url": zammad.url,
        "token": zammad.token,
        "include_media": True,
    }
    desk: CaseDesk = await case_desk(table)
    await desk.customer_sends(phone_photo(), "image/jpeg", MessageKind.IMAGE)
    await desk.settle()
    files = [file for article_files in zammad.files.values() for file in article_files]
    (photo,) = files
    assert photo.mime_type == "image/jpeg" and metadata_left(photo.content) == []
    with Image.open(io.BytesIO(photo.content)) as picture:
        assert picture.size == (32, 64)  # upright
    assert "media" in (await desk.ledger_categories())[-1].split(",")


async def test_without_include_media_only_the_line_goes(case_desk: Any, smtp: Mailbox) -> None:
    desk: CaseDesk = await case_desk(mail_table(smtp))
    await desk.customer_sends(PDF, "application/pdf", MessageKind.DOCUMENT, filename="a.pdf")
    await desk.settle()
    assert smtp.messages and all(not list(m.iter_attachments()) for m in smtp.messages)
    assert all("media" not in c.split(",") for c in await desk.ledger_categories())


def test_include_media_only_where_files_can_go(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="include_media is for e-mail and Zammad sinks only"):
        Settings.model_validate(
            {
                "cases": [
                    {"type": "jsonl", "name": "log", "path": str(tmp_path), "include_media": True}
                ]
            }
        )
