"""Removing a thread on Slack (``SlackPlatform.remove_thread``) against the fake Slack: the
bot's replies are deleted with ``chat.delete``, the root's card becomes the notice, agents'
replies stay and are counted (a bot token deletes only the bot's own messages) without the
bot's delivery mark, a repeat finds nothing more to delete."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import DeliveryStatus
from bot.ids import ChatMessageId
from bot.ports import AgentEvent, Removal, ThreadRoot
from bot.texts import ENGLISH
from tests.fakes.slack import BOT_TOKEN, CHANNEL, FakeSlack
from tests.privacy.retention_chat import AGENT, slack_with_agent

NOTICE = ENGLISH.thread_removed_retention


async def ignore(event: AgentEvent) -> None:
    return None


async def test_the_bots_posts_go_agents_replies_stay_and_are_counted() -> None:
    async with FakeSlack(rate=50.0, burst=20) as fake:
        platform = slack_with_agent(fake)
        await platform.start(ignore)
        try:
            root = ThreadRoot(conversation_id=7, title="K-7ABCDE · +49 ••• ••••••78")
            thread = await platform.open_thread(root, key="root-7")
            await platform.post(thread, "Kunde: Hallo, meine Bestellung", key="in-1")
            await platform.alert("SLA: waiting 10 min", thread_id=thread, key="sla-1")
            agent_ts = await fake.agent_reply(thread, AGENT, "Antwort von Anna")
            marked = await platform.set_status(
                thread, ChatMessageId(agent_ts), DeliveryStatus.READ, previous=None, key="s-1"
            )
            other = await platform.open_thread(
                ThreadRoot(conversation_id=8, title="K-8FGHIJ"), key="root-8"
            )
            await platform.post(other, "Kunde B", key="in-2")

            removal = await platform.remove_thread(thread, NOTICE, key="remove-7")
            again = await platform.remove_thread(thread, NOTICE, key="remove-7")
            lone = await platform.open_thread(ThreadRoot(conversation_id=9, title="K-9"), key="r9")
            await AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_base).chat_delete(
                channel=CHANNEL, ts=lone
            )
            gone = await platform.remove_thread(lone, NOTICE, key="remove-9")
        finally:
            await platform.stop()

        assert removal == Removal(removed=3, kept=1), "two replies and the root's card"
        assert again == Removal(removed=1, kept=1), "only the root is rewritten again"
        assert gone == Removal(), "a thread deleted by hand counts as done, not as a failure"
        assert [m["user"] for m in fake.thread(thread)] == [AGENT]
        assert marked is not None and fake.reactions(agent_ts) == [], "the bot's mark goes"
        shown = fake.message(thread)
        assert shown["text"] == NOTICE
        assert "K-7ABCDE" not in json.dumps(shown, ensure_ascii=False)
        assert not [b for b in shown["blocks"] if b["type"] == "actions"], "no buttons left"
        assert fake.bot_texts(other) == ["Kunde B"], "another thread untouched"
        deletes = [r for r in fake.calls("chat.delete") if not r.error]
        assert len(deletes) == 3, "the bot's two replies, and the lone root deleted by hand"

        # Slack's rule, as the fake enforces it: a bot token cannot delete an agent's message.
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_base)
        with pytest.raises(SlackApiError) as refused:
            await client.chat_delete(channel=CHANNEL, ts=agent_ts)
        assert refused.value.response["error"] == "cant_delete_message"
        assert [m["ts"] for m in fake.thread(thread)] == [agent_ts]
