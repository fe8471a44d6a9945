"""Message bodies blanked for age leave the chat too, on Slack (the fake enforces Slack's
rules): the retention purge queues ``chat.remove_posts`` jobs that delete the bot's posts
of due customer lines with ``chat.delete`` while the conversation's thread stays; an
agent's reply cannot be deleted with a bot token, so it stays without the bot's reactions
(its delivery mark, the customer's reaction it mirrored) and is counted; a post combining
several customer lines goes once the newest of them is due. The relay, the purge and the
jobs are the production wiring around the real ``SlackPlatform``; the store's clock is a
manual one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from bot.ids import ChatMessageId
from bot.ports import PostRef, Removal
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import wire_relay
from tests.cases.doubles import RecordingWhatsApp
from tests.fakes.slack import FakeSlack
from tests.numbers import CUSTOMER
from tests.privacy.retention_chat import (
    AGENT,
    DAY,
    KEY,
    audit,
    chat_ids,
    customer_reacts,
    customer_says,
    purge_now,
    slack_with_agent,
)

START = 1_800_000_000.0


async def test_due_posts_leave_the_thread_agents_replies_stay_counted_combined_posts_last(
    tmp_path: Path,
) -> None:
    db = tmp_path / "empfang.sqlite3"
    clock = ManualClock(START)
    store = await Store.open(db, clock=clock)
    async with FakeSlack(rate=50.0, burst=20) as fake:
        platform = slack_with_agent(fake)
        settings = Settings.model_validate({"privacy": {"pseudonym_key": KEY}})
        wired = wire_relay(
            store, settings, chat=platform, whatsapp=RecordingWhatsApp(), texts=ENGLISH
        )
        await platform.start(wired.relay.on_agent_event)
        try:
            await customer_says(store, CUSTOMER, "Alte Frage zur Rechnung")
            await wired.workers.run_until_idle()
            (alone,) = chat_ids(db)
            assert alone is not None
            thread = fake.roots()[0]["ts"]
            agent_ts = await fake.agent_reply(thread, AGENT, "Wir schauen nach")
            await wired.workers.run_until_idle()
            with sqlite3.connect(db) as conn:
                (sent,) = conn.execute("SELECT provider_id FROM messages WHERE direction = 'out'")
            await customer_reacts(store, CUSTOMER, sent[0], "👍")
            await wired.workers.run_until_idle()
            assert len(fake.reactions(agent_ts)) == 2, "the delivery mark and the customer's 👍"

            # Two lines that wait together share one post; the second is ten days younger.
            await customer_says(store, CUSTOMER, "Noch etwas")
            clock.advance(10 * DAY)
            await customer_says(store, CUSTOMER, "Und noch etwas")
            await wired.workers.run_until_idle()
            *_, combined, rider = chat_ids(db)
            assert combined is not None
            assert rider == f"{combined}#1", "the two lines share one post"

            clock.advance(85 * DAY)  # the first three are 95 days old, the last one 85
            await purge_now(wired)
            first_run = [m["ts"] for m in fake.thread(thread)]
            root_after = fake.message(thread)["text"]
            agent_marks = fake.reactions(agent_ts)

            clock.advance(10 * DAY)  # now the combined post's newest line is due too
            await wired.workers.run_until_idle()
            second_run = [m["ts"] for m in fake.thread(thread)]

            again = await platform.remove_posts(
                [PostRef(chat_id=ChatMessageId(alone), by_bot=True)], reason="", key="repeat"
            )
        finally:
            await wired.workers.stop(1.0)
            await platform.stop()
            await store.close()

    assert alone not in first_run, "the due customer line is deleted"
    assert "K-" in root_after, "the thread's root stays: the conversation is open"
    assert agent_ts in first_run and combined in first_run
    assert agent_marks == [], "the agent's reply stays, without the bot's reactions on it"
    assert combined not in second_run and agent_ts in second_run
    assert again == Removal(removed=1), "a repeat counts the deleted post as removed"

    first, second = audit(db, "retention.purge")
    assert first["message_bodies"] == 4 and first["chat_posts_queued"] == 1
    assert first["chat_posts_kept"] == 1, "the agent's reply: Slack does not let the bot"
    assert second["message_bodies"] == 1 and second["chat_posts_queued"] == 1
    assert second["chat_posts_kept"] == 0
    removed = audit(db, "chat.posts_removed")
    assert [(r["posts_removed"], r["posts_kept"]) for r in removed] == [(1, 1), (1, 0)]
    assert {r["platform"] for r in removed} == {"slack"}
