"""A reveal whose first attempt died after the number was sent, on a real Synapse: after
a restart (a new ``MatrixPlatform``, the same store) the retried job shows the number in
the same direct room, remembered in the store, not in a second one, and the withdrawal
after ``privacy.reveal_ttl`` clears every copy in it. Relay, jobs and audit are the
production wiring around the real platform; the clock is a manual one."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from adapters.matrix import MatrixPlatform
from bot.clock import ManualClock
from bot.config import Settings
from bot.errors import PlatformError
from bot.ids import ChatMessageId, ThreadId
from bot.ports import AgentMessage, PrivateRef
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, wire_relay
from tests.cases.doubles import RecordingWhatsApp
from tests.matrix.conftest import StartPlatform, Team
from tests.matrix.helpers import Inbox, RoomReader
from tests.matrix.test_reveal import client_get
from tests.numbers import CUSTOMER
from tests.privacy.retention_chat import KEY, customer_says

TTL = 30.0


class DiesAfterShowing(MatrixPlatform):
    """The real platform, in a process that dies right after the number went out (before
    its job could record the withdrawal)."""

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef:
        await super().show_privately(thread_id, user_id, text, room_id=room_id, key=key)
        raise PlatformError("the process died here", retryable=True)


def wired(store: Store, chat: MatrixPlatform, team: Team) -> RelayStack:
    settings = Settings.model_validate(
        {
            "privacy": {
                "pseudonym_key": KEY,
                "reveal_users": [team.agent.user_id],
                "reveal_ttl": f"{TTL:.0f}s",
            },
            "jobs": {"backoff_base_seconds": 1.0, "backoff_max_seconds": 8.0},
        }
    )
    return wire_relay(store, settings, chat=chat, whatsapp=RecordingWhatsApp(), texts=ENGLISH)


async def test_a_reveal_retried_after_a_crash_uses_its_room_and_is_withdrawn(
    team: Team, start_platform: StartPlatform, tmp_path: Path
) -> None:
    db = tmp_path / "reveal.sqlite3"
    clock = ManualClock(time.time())
    store = await Store.open(db, clock=clock)
    dying = DiesAfterShowing(team.section())
    await dying.start(Inbox())
    first = wired(store, dying, team)
    try:
        await customer_says(store, CUSTOMER, "Bitte rufen Sie mich an")
        await first.workers.run_until_idle()
        async with store.transaction() as tx:
            conversation = await tx.conversations.get(1)
        assert conversation is not None and conversation.thread_id is not None
        await first.relay.on_agent_event(
            AgentMessage(
                chat_id=ChatMessageId("$reveal-command"),
                thread_id=conversation.thread_id,
                author_id=team.agent.user_id,
                author_name="Agent",
                text="!reveal Rückruf erbeten",
            )
        )
        await first.workers.run_until_idle()
    finally:
        await first.workers.stop(1.0)
        await dying.stop()

    platform, _ = await start_platform(team.section())  # the restart: nothing in memory
    second = wired(store, platform, team)
    try:
        clock.advance(60)  # the failed attempt's backoff
        await second.workers.run_until_idle()
        rooms = (await client_get(team, team.agent, "/_matrix/client/v3/sync"))["rooms"]
        assert len(rooms["invite"]) == 1, "one direct room, not a second one for the retry"
        (dm_room,) = rooms["invite"]
        await team.hs.join_room(team.agent, dm_room)
        reader = RoomReader(team.hs, team.agent, dm_room)
        try:
            shown = [e for e in await reader.messages() if e["type"] == "m.room.message"]
            assert shown and all("+" + CUSTOMER in e["content"]["body"] for e in shown)
            clock.advance(TTL + 1)
            await second.workers.run_until_idle()
            for event in shown:
                assert (await reader.event(event["event_id"]))["content"] == {}
        finally:
            await reader.aclose()
    finally:
        await second.workers.stop(1.0)
        await store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM private_rooms").fetchone() == (0,)
