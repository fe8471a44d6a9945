"""Ids that travel as strings have their own types, so mypy refuses a swap.

Before ``bot.ids`` every id was a bare ``str``: a message id passed as a thread id (or a
provider id as a customer's number) type-checked and failed only at the platform. The test
type-checks a small module of such swaps against the real ports and store.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]

SWAPS = """
from bot.ids import ChatMessageId, ProviderMessageId, StatusRef, ThreadId, WaId
from bot.domain import DeliveryStatus, OutboundText
from bot.ports import ChatPlatform, WhatsAppProvider
from bot.store import Tx


async def swapped(
    chat: ChatPlatform,
    whatsapp: WhatsAppProvider,
    tx: Tx,
    thread: ThreadId,
    message: ChatMessageId,
    provider: ProviderMessageId,
    wa_id: WaId,
    mark: StatusRef,
) -> None:
    await chat.post(message, "text", key="k")  # SWAP
    await chat.set_status(message, thread, DeliveryStatus.SENT, previous=None, key="k")  # SWAP
    await chat.set_status(thread, message, DeliveryStatus.SENT, previous=message, key="k")  # SWAP
    await whatsapp.send_text(provider, OutboundText(text="x"))  # SWAP
    await whatsapp.mark_read(wa_id)  # SWAP
    await tx.conversations.by_thread(message)  # SWAP
    await tx.messages.set_chat_id(1, thread)  # SWAP
    await tx.messages.mark_sent(1, message, 0.0)  # SWAP


async def right(
    chat: ChatPlatform,
    whatsapp: WhatsAppProvider,
    thread: ThreadId,
    message: ChatMessageId,
    mark: StatusRef,
    wa_id: WaId,
) -> None:
    await chat.post(thread, "text", key="k")
    await chat.set_status(thread, message, DeliveryStatus.SENT, previous=mark, key="k")
    await whatsapp.send_text(wa_id, OutboundText(text="x"))
"""


def test_mypy_refuses_every_swapped_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "swaps.py"
    module.write_text(SWAPS)
    monkeypatch.chdir(ROOT)  # mypy finds ``bot`` from the working directory
    report, _, _ = api.run(
        ["--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"), str(module)]
    )
    flagged = {int(line.split(":")[1]) for line in report.splitlines() if "[arg-type]" in line}
    swaps = {n for n, line in enumerate(SWAPS.splitlines(), 1) if line.endswith("# SWAP")}
    assert flagged == swaps, report
