"""The retention purge and erasure reach the chat on a real Synapse: once the clock passes
``closed_conversations`` (or ``empfang privacy erase`` ran), the bot's events in the removed
conversation's thread (root, customer lines, notices) come back redacted from the
homeserver, agents' replies too when the bot is a moderator (else they stay and the audit
says so), the thread says why, and the other conversation keeps everything. Relay, purge,
jobs and audit are the production wiring (``bot.wiring``) around the real
``MatrixPlatform``; the clock is a manual one."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.dpo.erase import erase_subject
from bot.dpo.export import Subject
from bot.ids import ChatMessageId, ThreadId
from bot.ports import AgentMessage
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, wire_relay
from tests.cases.doubles import RecordingWhatsApp
from tests.matrix.conftest import StartPlatform, Team
from tests.matrix.helpers import thread_reply
from tests.numbers import CUSTOMER, CUSTOMER_2
from tests.privacy.retention_chat import DAY, KEY, customer_says


async def agent_says(wired: RelayStack, team: Team, thread: ThreadId, text: str) -> None:
    await wired.relay.on_agent_event(
        AgentMessage(
            chat_id=ChatMessageId(f"$cmd-{time.time_ns()}"),
            thread_id=thread,
            author_id=team.agent.user_id,
            author_name="Agent",
            text=text,
        )
    )


@pytest.mark.parametrize(
    ("why", "moderator"),
    [("retention", False), ("retention", True), ("erasure", False)],
    ids=["purge-bot-power-0", "purge-bot-moderator", "erase-bot-power-0"],
)
async def test_purge_or_erasure_redacts_the_thread_and_spares_the_other(
    team: Team, start_platform: StartPlatform, tmp_path: Path, why: str, moderator: bool
) -> None:
    """The purge removes A's closed conversation (B is held); ``empfang privacy erase``
    removes A (B is someone else). Either way the same ``chat.remove`` job reaches Synapse."""
    if moderator:
        levels = await team.reader.get_state("m.room.power_levels")
        levels.setdefault("users", {})[team.bot.user_id] = 50
        await team.reader.put_state("m.room.power_levels", levels)
    platform, _ = await start_platform(team.section())
    assert platform.capabilities.redacts_others is moderator
    clock = ManualClock(time.time())
    store = await Store.open(tmp_path / "retention.sqlite3", clock=clock)
    settings = Settings.model_validate({"privacy": {"pseudonym_key": KEY}})
    wired = wire_relay(store, settings, chat=platform, whatsapp=RecordingWhatsApp(), texts=ENGLISH)
    try:
        await customer_says(store, CUSTOMER, "A: Meine Bestellung 4711 fehlt")
        await customer_says(store, CUSTOMER_2, "B: Reklamation")
        await wired.workers.run_until_idle()
        async with store.transaction() as tx:
            a = await tx.conversations.get(1)
            b = await tx.conversations.get(2)
        assert a is not None and a.thread_id is not None
        assert b is not None and b.thread_id is not None
        agent_reply = await team.say(thread_reply(a.thread_id, "Wir prüfen das"))
        await agent_says(wired, team, a.thread_id, "!close")
        await agent_says(wired, team, b.thread_id, "!hold Klage 2027-3")
        await agent_says(wired, team, b.thread_id, "!close")
        await wired.workers.run_until_idle()

        before = await team.reader.messages(limit=200)
        bot_in_a = [
            e["event_id"]
            for e in before
            if e["sender"] == team.bot.user_id
            and e["type"] == "m.room.message"
            and (
                e["event_id"] == a.thread_id
                or e["content"].get("m.relates_to", {}).get("event_id") == a.thread_id
            )
        ]
        in_b = [
            e["event_id"]
            for e in before
            if e["type"] == "m.room.message"
            and (
                e["event_id"] == b.thread_id
                or e["content"].get("m.relates_to", {}).get("event_id") == b.thread_id
            )
        ]
        assert len(bot_in_a) >= 3, "root, the customer's line, the closing notice"

        if why == "retention":
            clock.advance(100 * DAY)
            await wired.workers.run_until_idle()  # on-call's timers first
            await wired.purge.ensure_scheduled()
        else:
            async with store.transaction() as tx:
                await erase_subject(tx, Subject(wa_id=CUSTOMER), "cli:dpo", "Antrag", {})
        await wired.workers.run_until_idle()

        for event_id in bot_in_a:
            assert (await team.reader.event(event_id))["content"] == {}, event_id
        reply = await team.reader.event(agent_reply)
        assert (reply["content"] == {}) is moderator
        for event_id in in_b:
            assert (await team.reader.event(event_id))["content"], "held: untouched"
        after = await team.reader.messages(limit=200)
        notice = {
            "retention": ENGLISH.thread_removed_retention,
            "erasure": ENGLISH.thread_removed_erasure,
        }[why]
        notices = [
            e
            for e in after
            if e["content"].get("body") == notice
            and e["content"].get("m.relates_to", {}).get("event_id") == a.thread_id
        ]
        assert len(notices) == 1 and notices[0]["sender"] == team.bot.user_id

        async with store.transaction() as tx:
            rows = await tx.audit.rows()
        if why == "retention":
            (purge,) = [json.loads(r.details) for r in rows if r.action == "retention.purge"]
            assert purge["conversations"] == 1 and purge["held_conversations"] == 1
            assert purge["chat_threads_queued"] == 1 and purge["chat_threads_not_redacted"] == 0
            assert purge["agents_replies_removable"] is moderator
        else:
            (erased,) = [json.loads(r.details) for r in rows if r.action == "privacy.erase"]
            assert erased["chat_threads_queued"] == 1 and erased["deleted_contacts"] == 1
        (removed,) = [json.loads(r.details) for r in rows if r.action == "chat.thread_removed"]
        assert removed["why"] == why and removed["platform"] == "matrix"
        assert removed["posts_kept"] == (0 if moderator else 1)
        assert removed["posts_removed"] == len(bot_in_a) + (1 if moderator else 0)
    finally:
        await wired.workers.stop(1.0)
        await store.close()
