"""A store restored without its pseudonym key: known customers keep their pseudonyms (they are
stored at first contact), only new customers get pseudonyms from the new key (README "Backup
and restore")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot import privacy
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.store import Store
from bot.store.backup import backup_store
from tests.numbers import CUSTOMER, CUSTOMER_2

OLD_KEY = b"old-pseudonym-key-0123456789"
NEW_KEY = b"new-pseudonym-key-9876543210"


async def _write(path: Path, key: bytes, sender: str, message_id: str) -> None:
    store = await Store.open(path)
    try:
        message = InboundMessage(
            provider_id=ProviderMessageId(message_id),
            sender=Sender(wa_id=WaId(sender)),
            timestamp=1_800_000_000,
            kind=MessageKind.TEXT,
            text="Hallo",
        )
        await Intake(store, pseudonym_key=key).accept(WebhookBatch(messages=(message,)))
    finally:
        await store.close()


def _pseudonyms(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT wa_id, pseudonym FROM contacts").fetchall())


async def test_restored_store_with_a_new_key_keeps_known_pseudonyms(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.sqlite3", tmp_path / "backup.sqlite3"
    await _write(live, OLD_KEY, CUSTOMER, "wamid.restore1")
    backup_store(live, copy)

    await _write(copy, NEW_KEY, CUSTOMER, "wamid.restore2")  # restored, started with a new key
    await _write(copy, NEW_KEY, CUSTOMER_2, "wamid.restore3")

    assert _pseudonyms(copy) == {
        CUSTOMER: privacy.pseudonym(OLD_KEY, CUSTOMER),
        CUSTOMER_2: privacy.pseudonym(NEW_KEY, CUSTOMER_2),
    }
