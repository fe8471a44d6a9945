"""Agents' reactions → the business's one reaction per message on WhatsApp, on the
production relay and job queue (``wire_relay``) with recording ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain import OutboundReaction
from bot.dpo.erase import erase_subject
from bot.dpo.export import Subject
from bot.errors import ProviderError
from bot.ids import ChatMessageId, ProviderMessageId, StatusRef, WaId
from bot.ports import AgentReaction
from bot.store import Store
from bot.store.mirror import MirrorRows
from tests.cases.conftest import Desk
from tests.numbers import CUSTOMER


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock())
    yield Desk(store)
    await store.close()


def reaction(
    target: str, emoji: str | None, *, by: str = "@alice:x", removed: bool = False
) -> AgentReaction:
    return AgentReaction(
        reaction_id=f"{target}:{by}:{emoji}",
        target_id=ChatMessageId(target),
        emoji=emoji,
        name=emoji or ":partyparrot:",
        removed=removed,
        author_id=by,
        author_name=by,
    )


async def customer_line(desk: Desk) -> tuple[str, str]:
    """The customer writes; the chat id of their line and its wamid."""
    await desk.customer_says("Ist das Paket unterwegs?")
    await desk.drain()
    [(chat_id, wamid)] = await desk.sql(
        "SELECT chat_id, provider_id FROM messages WHERE direction = 'in'"
    )
    return str(chat_id), str(wamid)


async def test_whatsapp_shows_the_latest_reaction_still_there_and_none_at_the_end(
    desk: Desk,
) -> None:
    line, _ = await customer_line(desk)
    await desk.relay.on_agent_event(reaction(line, "👍"))
    await desk.relay.on_agent_event(reaction(line, "❤️", by="@bob:x"))
    await desk.drain()
    await desk.relay.on_agent_event(reaction(line, "❤️", by="@bob:x", removed=True))
    await desk.drain()
    await desk.relay.on_agent_event(reaction(line, "👍", removed=True))
    await desk.relay.on_agent_event(reaction(line, "👍", removed=True))  # delivered twice
    await desk.drain()
    emoji = [text for _, text in desk.whatsapp.sent]
    assert emoji == ["❤️", "👍", ""], "two added at once cost one send; the last removal clears"


async def test_a_refused_reaction_is_told_in_the_thread(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    line, _ = await customer_line(desk)

    async def refuse(to: WaId, sent: OutboundReaction) -> ProviderMessageId:
        raise ProviderError("reactions are not supported", retryable=False)

    monkeypatch.setattr(desk.whatsapp, "send_reaction", refuse)
    await desk.relay.on_agent_event(reaction(line, "👍"))
    await desk.relay.on_agent_event(reaction(line, None))
    await desk.drain()
    posts = desk.chat.posts[await desk.thread_of()]
    assert any("reactions are not supported" in post for post in posts)
    assert any(":partyparrot: was not sent" in post for post in posts)


async def test_erasure_takes_everything_mirroring_kept_about_the_person(desk: Desk) -> None:
    line, wamid = await customer_line(desk)
    await desk.relay.on_agent_event(reaction(line, "👍"))
    await desk.agent_says("!buttons Passt Dienstag? | Ja | Nein")
    await desk.drain()
    [(message_id,)] = await desk.sql("SELECT id FROM messages WHERE provider_id = ?", (wamid,))
    async with desk.store.transaction() as tx:  # as a customer's reaction on their line leaves it
        await MirrorRows(tx.conn).show_reaction(message_id, "😮", StatusRef("ref"))
    tables = ("agent_reactions", "sent_reactions", "outbound_extras", "shown_reactions")
    assert all([await desk.sql(f"SELECT * FROM {table}") for table in tables])

    async with desk.store.transaction() as tx:
        await erase_subject(tx, Subject(wa_id=CUSTOMER), "dpo", "Art. 17", {})
    assert [await desk.sql(f"SELECT * FROM {table}") for table in tables] == [[], [], [], []]
