"""Retention and erasure take along what hangs on a post, on a real Synapse.

Message bodies blanked for age leave the chat while the open conversation's thread stays:
the retention purge's ``chat.remove_posts`` job redacts the bot's post of a due customer
line with the bot's edit of it, the bot's delivery mark on an agent's due reply, and the
reply with the agent's edit where the bot is a moderator (else they stay and are counted);
a younger line and the root are untouched; the homeserver shows the reason. Removing a
whole thread (erasure) takes the marks and edits along too. Relay, purge, jobs and audit
are the production wiring around the real ``MatrixPlatform``; the clock is a manual one."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.matrix import MatrixPlatform
from adapters.matrix.content import edit_content
from bot.clock import ManualClock
from bot.config import Settings
from bot.dpo.erase import erase_subject
from bot.dpo.export import Subject
from bot.ids import ChatMessageId, ThreadId
from bot.ports import AgentMessage, PostRef, Removal
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, wire_relay
from tests.cases.doubles import RecordingWhatsApp
from tests.matrix.conftest import StartPlatform, Team
from tests.matrix.helpers import thread_reply
from tests.numbers import CUSTOMER
from tests.privacy.retention_chat import DAY, KEY, audit, chat_ids, customer_says, purge_now


@dataclass(frozen=True)
class Exchange:
    """Event ids: a customer's line with the bot's edit of it, an agent's reply with the
    bot's delivery mark and the agent's edit of it."""

    thread: str
    line: str
    bot_edit: str
    reply: str
    mark: str
    agent_edit: str


@dataclass(frozen=True)
class Desk:
    team: Team
    platform: MatrixPlatform
    wired: RelayStack
    store: Store
    db: Path

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.store.clock, ManualClock)
        return self.store.clock

    async def exchange(self) -> Exchange:
        team, wired = self.team, self.wired
        await customer_says(self.store, CUSTOMER, "Meine Bestellung 4711 fehlt")
        await wired.workers.run_until_idle()
        (line,) = chat_ids(self.db)
        assert line is not None
        thread = (await team.reader.event(line))["content"]["m.relates_to"]["event_id"]
        edited = edit_content(line, {"msgtype": "m.text", "body": "Bestellung 4711 fehlt!"})
        bot_edit = await team.hs.send_message(team.bot, team.room_id, edited)
        reply = await team.say(thread_reply(thread, "Wir prüfen das"))
        await wired.relay.on_agent_event(
            AgentMessage(
                chat_id=ChatMessageId(reply),
                thread_id=ThreadId(thread),
                author_id=team.agent.user_id,
                author_name="Agent",
                text="Wir prüfen das",
            )
        )
        await wired.workers.run_until_idle()
        with sqlite3.connect(self.db) as conn:
            (mark,) = conn.execute("SELECT status_chat_id FROM messages WHERE direction = 'out'")
        agent_edit = await team.say(
            edit_content(reply, {"msgtype": "m.text", "body": "Wir prüfen das bis morgen"})
        )
        return Exchange(thread, line, bot_edit, reply, str(mark[0]), agent_edit)

    async def redacted(self, event_id: str) -> bool:
        return bool((await self.team.reader.event(event_id))["content"] == {})


@pytest_asyncio.fixture(loop_scope="session", params=[False, True], ids=["power-0", "moderator"])
async def desk(
    request: pytest.FixtureRequest, team: Team, start_platform: StartPlatform, tmp_path: Path
) -> AsyncIterator[Desk]:
    """The bot at power level 0, or a moderator (who may redact agents' events)."""
    if request.param:
        levels = await team.reader.get_state("m.room.power_levels")
        levels.setdefault("users", {})[team.bot.user_id] = 50
        await team.reader.put_state("m.room.power_levels", levels)
    platform, _ = await start_platform(team.section())
    assert platform.capabilities.redacts_others is request.param
    db = tmp_path / "empfang.sqlite3"
    store = await Store.open(db, clock=ManualClock(time.time()))
    settings = Settings.model_validate({"privacy": {"pseudonym_key": KEY}})
    wired = wire_relay(store, settings, chat=platform, whatsapp=RecordingWhatsApp(), texts=ENGLISH)
    yield Desk(team, platform, wired, store, db)
    await wired.workers.stop(1.0)
    await store.close()


async def test_due_posts_and_what_hangs_on_them_are_redacted_the_thread_stays(
    desk: Desk,
) -> None:
    moderator = desk.platform.capabilities.redacts_others
    sent = await desk.exchange()
    desk.clock.advance(50 * DAY)
    await customer_says(desk.store, CUSTOMER, "Neue Frage")
    await desk.wired.workers.run_until_idle()
    young = chat_ids(desk.db)[-1]
    assert young is not None
    desk.clock.advance(45 * DAY)  # the first line and the reply are 95 days old, the last 45

    await purge_now(desk.wired)
    again = await desk.platform.remove_posts(
        [PostRef(chat_id=ChatMessageId(sent.line), by_bot=True)], reason="", key="repeat"
    )

    assert await desk.redacted(sent.line), "the due customer line is redacted"
    line = await desk.team.reader.event(sent.line)
    assert line["unsigned"]["redacted_because"]["content"]["reason"] == (
        ENGLISH.post_removed_retention
    )
    assert await desk.redacted(sent.bot_edit), "the bot's edit of it too"
    assert await desk.redacted(sent.mark), "the bot's delivery mark goes anyway"
    assert await desk.redacted(sent.reply) is moderator
    assert await desk.redacted(sent.agent_edit) is moderator
    assert not await desk.redacted(young), "a younger line stays"
    assert not await desk.redacted(sent.thread), "the thread stays: it is open"
    assert again == Removal(removed=1), "a repeat counts the redacted post as removed"

    (run,) = audit(desk.db, "retention.purge")
    assert run["message_bodies"] == 2
    assert run["chat_posts_queued"] == (2 if moderator else 1)
    assert run["chat_posts_kept"] == (0 if moderator else 1)
    (removed,) = audit(desk.db, "chat.posts_removed")
    assert removed["platform"] == "matrix"
    assert (removed["posts_removed"], removed["posts_kept"]) == ((2, 0) if moderator else (1, 1))


async def test_removing_a_thread_takes_the_marks_and_edits_on_its_posts_along(
    desk: Desk,
) -> None:
    moderator = desk.platform.capabilities.redacts_others
    sent = await desk.exchange()

    async with desk.store.transaction() as tx:
        await erase_subject(tx, Subject(wa_id=CUSTOMER), "cli:dpo", "Antrag", {})
    await desk.wired.workers.run_until_idle()

    for event_id in (sent.thread, sent.line, sent.bot_edit, sent.mark):
        assert await desk.redacted(event_id), event_id
    assert await desk.redacted(sent.reply) is moderator
    assert await desk.redacted(sent.agent_edit) is moderator
    (removed,) = audit(desk.db, "chat.thread_removed")
    assert removed["posts_kept"] == (0 if moderator else 1), "the agent's reply, counted once"
