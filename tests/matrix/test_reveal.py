"""``!reveal <reason>`` on a real Synapse: the number goes into a new invite-only direct
room holding only the bot and the agent, and is redacted when ``privacy.reveal_ttl`` is over
(the delayed ``chat.withdraw`` job, driven by a manual clock). Relay, jobs and audit are the
production wiring (``bot.wiring``) around the real ``MatrixPlatform``."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

from bot.clock import ManualClock
from bot.store import Store
from tests.e2e.matrix_world import leaks
from tests.matrix.conftest import StartPlatform, Team
from tests.matrix.helpers import RoomReader
from tests.matrix.reveal_desk import TTL, client_get, reveal_asked, wired
from tests.numbers import CUSTOMER


async def test_reveal_in_a_direct_room_redacted_after_the_ttl(
    team: Team, start_platform: StartPlatform, tmp_path: Path
) -> None:
    platform, _ = await start_platform(team.section())
    clock = ManualClock(time.time())
    store = await Store.open(tmp_path / "reveal.sqlite3", clock=clock)
    stack = wired(store, platform, team)
    await reveal_asked(stack, store, team)

    invites = (await client_get(team, team.agent, "/_matrix/client/v3/sync"))["rooms"]["invite"]
    (dm_room,) = invites
    invite_state = invites[dm_room]["invite_state"]["events"]
    mine = next(e for e in invite_state if e.get("state_key") == team.agent.user_id)
    assert mine["content"].get("is_direct") is True
    await team.hs.join_room(team.agent, dm_room)
    room = quote(dm_room, safe="")
    joined = await client_get(team, team.agent, f"/_matrix/client/v3/rooms/{room}/joined_members")
    assert set(joined["joined"]) == {team.bot.user_id, team.agent.user_id}
    reader = RoomReader(team.hs, team.agent, dm_room)
    try:
        assert (await reader.get_state("m.room.join_rules"))["join_rule"] == "invite"
        (shown,) = [e for e in await reader.messages() if e["type"] == "m.room.message"]
        assert "+" + CUSTOMER in shown["content"]["body"]
        support = await team.reader.messages()
        assert any("revealed the number: Rückruf erbeten" in str(e["content"]) for e in support)
        assert leaks(support, CUSTOMER) == []

        clock.advance(TTL - 1)
        await stack.workers.run_until_idle()
        assert (await reader.event(shown["event_id"]))["content"], "not before the TTL"
        clock.advance(2)
        await stack.workers.run_until_idle()
        assert (await reader.event(shown["event_id"]))["content"] == {}
    finally:
        await reader.aclose()

    async with store.transaction() as tx:
        rows = await tx.audit.rows()
    (reveal,) = [row for row in rows if row.action == "number.reveal"]
    assert reveal.actor == team.agent.user_id and reveal.subject is not None
    assert reveal.reason == "Rückruf erbeten" and CUSTOMER not in reveal.details
    await store.close()
