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
from bot.errors import PlatformError
from bot.ids import ThreadId
from bot.ports import PrivateRef
from bot.store import Store
from tests.matrix.conftest import StartPlatform, Team
from tests.matrix.helpers import Inbox, RoomReader
from tests.matrix.reveal_desk import TTL, client_get, reveal_asked, wired
from tests.numbers import CUSTOMER


class DiesAfterShowing(MatrixPlatform):
    """The real platform, in a process that dies right after the number went out (before
    its job could record the withdrawal)."""

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef:
        await super().show_privately(thread_id, user_id, text, room_id=room_id, key=key)
        raise PlatformError("the process died here", retryable=True)


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
        await reveal_asked(first, store, team)
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
