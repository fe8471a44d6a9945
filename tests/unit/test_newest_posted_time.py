"""``Messages.newest_posted_time``: asked at every relayed line (the "sent …" marker of a
line arriving after later ones), answered from the index ``messages_posted_in`` instead of
reading every posted line of the conversation, which grew with the conversation."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

from bot.domain import InboundMessage, MessageKind, Sender
from bot.ids import ChatMessageId, ProviderMessageId, WaId
from bot.store import Store
from bot.store.database import Tx
from bot.store.direct import DirectConnection, run_to_end
from bot.store.messages import Messages
from bot.store.sqlite_backend import DIALECT
from tests.numbers import CUSTOMER

_ids = itertools.count(1)


async def _line(tx: Tx, contact_id: int, conversation_id: int, at: int, *, posted: bool) -> None:
    message = InboundMessage(
        provider_id=ProviderMessageId(f"wamid.posted{next(_ids)}"),
        sender=Sender(wa_id=WaId(CUSTOMER)),
        timestamp=at,
        kind=MessageKind.TEXT,
        text="Hallo",
    )
    message_id = await tx.messages.insert_inbound(contact_id, message, now=1.0)
    assert message_id is not None
    await tx.messages.assign(message_id, conversation_id)
    if posted:
        await tx.messages.set_chat_id(message_id, ChatMessageId(f"$event{message_id}"))


async def test_the_newest_customer_time_among_the_lines_already_in_the_chat(
    store_target: Path | str,
) -> None:
    store = await Store.open(store_target)
    try:
        async with store.transaction() as tx:
            sender = Sender(wa_id=WaId(CUSTOMER))
            contact = await tx.contacts.upsert(sender, pseudonym="K-1", region="DE", now=1.0)
            conversation, _ = await tx.conversations.ensure_open(contact, 1.0)
            assert await tx.messages.newest_posted_time(conversation.id) is None
            await _line(tx, contact, conversation.id, 1_700_000_300, posted=True)
            await _line(tx, contact, conversation.id, 1_700_000_100, posted=True)
            await _line(tx, contact, conversation.id, 1_700_000_900, posted=False)  # queued
            assert await tx.messages.newest_posted_time(conversation.id) == 1_700_000_300
    finally:
        await store.close()


async def test_sqlite_answers_it_from_the_index(tmp_path: Path) -> None:
    path = tmp_path / "empfang.sqlite3"
    await (await Store.open(path)).close()  # the schema, migrated
    asked: list[str] = []
    raw = sqlite3.connect(path)
    try:
        raw.set_trace_callback(asked.append)
        messages = Messages(DirectConnection(raw, DIALECT))
        assert run_to_end(messages.newest_posted_time(1)) is None
        raw.set_trace_callback(None)
        (query,) = asked
        plan = raw.execute(f"EXPLAIN QUERY PLAN {query}").fetchall()
    finally:
        raw.close()
    assert [row[3] for row in plan] == [
        "SEARCH messages USING INDEX messages_posted_in (conversation_id=?)"
    ]
