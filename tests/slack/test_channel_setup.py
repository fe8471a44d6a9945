"""The Slack adapter with several channels, against the fake Slack: start checks every
channel, one receiver serves them all, events from a channel no number routes to are
ignored, and ``check-config --online`` checks each number's channel under its key."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from adapters.slack.online import check_online
from adapters.slack.pacing import ChannelPacer
from adapters.slack.platform import SlackPlatform
from bot.config import SlackSection
from bot.domain import DeliveryStatus
from bot.errors import PlatformError
from bot.ids import ChatMessageId
from bot.ports import (
    AgentAction,
    AgentEvent,
    AgentMessage,
    AgentReaction,
    TemplateRequest,
    ThreadRoot,
)
from bot.routing import chatting_in
from bot.templates.model import MessageTemplate
from bot.texts import ENGLISH
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack
from tests.fakes.slack_reactions import agent_reacts
from tests.slack.stack import AGENT, OUTSIDER, wait_for

EPOCH = 1_700_000_000.0
SALES = "C0SALES001"
PRIVATE = "C0PRIVATE1"
ELSEWHERE = "C0RANDOM01"


def section(fake: FakeSlack) -> SlackSection:
    return SlackSection(
        bot_token=SecretStr(BOT_TOKEN),
        app_token=SecretStr(APP_TOKEN),
        channel_id=CHANNEL,
        api_base=fake.api_base,
    )


async def ignore(event: AgentEvent) -> None:
    return None


def ts(chat_id: str) -> str:
    """The Slack ``ts`` of an id the core keeps (``<channel>:<ts>`` outside the home
    channel ``[slack] channel_id``, ``adapters.slack.chat_ids``)."""
    return chat_id.rpartition(":")[2]


async def test_start_names_every_channel_the_bot_is_not_in() -> None:
    async with FakeSlack(private=True) as fake:
        fake.add_channel(SALES, "sales")  # public, the bot not invited
        fake.add_channel(PRIVATE, "vip", private=True)  # private: Slack hides it from the bot
        platform = SlackPlatform(section(fake), texts=ENGLISH, channels=[CHANNEL, SALES, PRIVATE])
        with pytest.raises(PlatformError) as refused:
            await platform.start(ignore)
        assert str(refused.value) == (
            f"Slack: the bot is not a member of channel {SALES}, {PRIVATE}; "
            "invite it there with /invite @<bot name>"
        )
        assert refused.value.retryable is False and fake.sockets_open == 0
        await platform.stop()


async def test_a_thread_with_the_same_ts_in_another_channel_is_a_thread_of_its_own() -> None:
    """Slack ``ts`` are unique per channel only. A retried post into the sales thread
    must look for its earlier attempt there, although the support thread with the same
    ts is one this process opened (and so knows completely); marks and removal stay in
    the sales channel."""
    async with FakeSlack(private=True, rate=50, ts_epoch=EPOCH) as fake:
        fake.add_channel(SALES, "sales", private=True, bot_member=True)
        root = ThreadRoot(conversation_id=1, title="K-1")
        earlier = SlackPlatform(section(fake), texts=ENGLISH, channels=[SALES])
        await earlier.start(ignore)
        with chatting_in(SALES):
            thread = await earlier.open_thread(root, key="root-1")
            line = await earlier.post(thread, "Ist der Kombi noch da?", key="line-1")
        await earlier.stop()  # the process ends before the job recorded the post

        platform = SlackPlatform(
            section(fake), texts=ENGLISH, channels=[SALES], pacer=ChannelPacer(0.02)
        )
        await platform.start(ignore)
        try:
            with chatting_in(CHANNEL):
                support = await platform.open_thread(
                    root.model_copy(update={"title": "K-2"}), key="root-2"
                )
            # The core keeps ids unique across channels: outside the home channel they
            # name their channel.
            assert thread == f"{SALES}:{support}" and line.startswith(f"{SALES}:")
            with chatting_in(SALES):
                again = await platform.post(thread, "Ist der Kombi noch da?", key="line-1")
                await platform.set_status(
                    thread, again, DeliveryStatus.SENT, previous=None, key="mark-1"
                )
            assert again == line
            assert fake.bot_texts(support, SALES) == ["Ist der Kombi noch da?"]
            assert fake.reactions(ts(line), SALES) == ["heavy_check_mark"]

            with chatting_in(CHANNEL):  # the id says where the thread is, whatever is scoped
                removal = await platform.remove_thread(thread, "removed", key="remove-1")
            assert removal.removed == 2 and fake.bot_texts(support, SALES) == []
            assert "K-2" in fake.message(support, CHANNEL)["text"]  # untouched
        finally:
            await platform.stop()


async def test_one_connection_serves_every_channel_and_others_are_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Slack hands a Socket Mode app's events to one of its connections at random: one
    connection for all channels. The bot sits in a channel no number routes to (invited
    there by someone): what is written there reaches nobody, and is logged once, without
    its content."""
    events: list[AgentEvent] = []

    async def record(event: AgentEvent) -> None:
        events.append(event)

    async with FakeSlack(private=True, ts_epoch=1_700_000_000.0) as fake:
        fake.add_user(AGENT, "anna")
        fake.add_channel(SALES, "sales", private=True, bot_member=True)
        fake.add_channel(ELSEWHERE, "random", private=True, bot_member=True)
        platform = SlackPlatform(section(fake), texts=ENGLISH, channels=[SALES])
        await platform.start(record)
        try:
            assert len(fake.calls("apps.connections.open")) == 1 and fake.sockets_open == 1
            support = await fake.agent_reply(None, AGENT, "top level", channel_id=CHANNEL)
            sales = await fake.agent_reply(None, AGENT, "top level", channel_id=SALES)
            assert support == sales  # the same ts in both channels
            with caplog.at_level(logging.INFO, logger="empfang.slack"):
                for text in ("geheim 1", "geheim 2"):
                    await fake.agent_reply(None, AGENT, text, channel_id=ELSEWHERE)
            await wait_for(lambda: len(events) == 2)
            await fake.idle()
        finally:
            await platform.stop()
    assert [(e.room_id, e.chat_id) for e in events if isinstance(e, AgentMessage)] == [
        (CHANNEL, support),
        (SALES, f"{SALES}:{sales}"),
    ]
    ignored = [r.getMessage() for r in caplog.records if ELSEWHERE in r.getMessage()]
    assert ignored == [f"slack: events from channel {ELSEWHERE} ignored: no number is routed there"]
    assert "geheim" not in caplog.text


async def test_online_check_reports_each_numbers_channel_under_its_key() -> None:
    async with FakeSlack(private=True) as fake:
        fake.add_channel(SALES, "sales", private=True)  # the bot not invited: not found
        fake.add_channel(ELSEWHERE, "werkstatt", bot_member=True)  # public
        numbers = [("numbers[0].room", CHANNEL), ("numbers[1].room", SALES)]
        numbers.append(("numbers[2].room", ELSEWHERE))
        report = await check_online(section(fake), channels=numbers)
    assert report.problems == [
        "numbers[1].room: Slack conversations.info failed: channel_not_found",
        "numbers[2].room: #werkstatt is a public channel: everyone in the workspace can read "
        "customer conversations; use a private channel",
    ]


async def test_online_check_asks_about_a_shared_channel_once() -> None:
    async with FakeSlack(private=True) as fake:
        report = await check_online(
            section(fake), channels=[("numbers[0].room", CHANNEL), ("numbers[1].room", CHANNEL)]
        )
        assert report.problems == []
        assert len(fake.calls("conversations.info")) == 1


async def test_online_check_reports_each_numbers_alerts_channel() -> None:
    """On-call channels carry no customer content: public is the team's choice, but the
    bot must be in them to post."""
    async with FakeSlack(private=True) as fake:
        fake.add_channel("C0ONCALL01", "werkstatt-oncall", bot_member=True)
        fake.add_channel("C0ONCALL02", "verkauf-oncall")
        report = await check_online(
            section(fake),
            alerts_channel="C0ONCALL01",
            alert_channels=[
                ("numbers[0].alerts_room", "C0ONCALL01"),
                ("numbers[1].alerts_room", "C0ONCALL02"),
            ],
        )
    assert report.problems == [
        "numbers[1].alerts_room: the bot is not a member of #verkauf-oncall; invite it there "
        "with /invite @Empfang"
    ]


class OneTemplate:
    """What the form offers: one approved template with one parameter."""

    async def sendable(self) -> list[MessageTemplate]:
        return [MessageTemplate(name="rueckruf", language="de", body="Hallo {{1}}")]


async def test_buttons_reactions_and_the_form_name_their_channel_and_judge_its_members() -> None:
    """Each number's team may be different people: who pressed a button or reacted is
    judged by membership of the channel it happened in."""
    events: list[AgentEvent] = []

    async def record(event: AgentEvent) -> None:
        events.append(event)

    async with FakeSlack(private=True, rate=50, ts_epoch=EPOCH) as fake:
        fake.add_user(AGENT, "anna")
        fake.add_user(OUTSIDER, "olaf", member=False)
        fake.add_channel(SALES, "sales", private=True, bot_member=True)  # with Olaf
        platform = SlackPlatform(
            section(fake),
            texts=ENGLISH,
            channels=[SALES],
            pacer=ChannelPacer(0.02),
            templates=OneTemplate(),
        )
        await platform.start(record)
        try:
            root = ThreadRoot(conversation_id=1, title="K-1")
            with chatting_in(CHANNEL):
                support = await platform.open_thread(root, key="root-1")
            with chatting_in(SALES):
                sales = await platform.open_thread(root, key="root-2")
            assert sales == f"{SALES}:{support}"
            for channel in (CHANNEL, SALES):
                await fake.press_button(support, OUTSIDER, "claim", channel_id=channel)
            await agent_reacts(fake, support, OUTSIDER, "thumbsup", channel_id=SALES)
            await fake.press_button(support, OUTSIDER, "send_template", channel_id=SALES)
            [opened] = await wait_for(lambda: list(fake.views.open_views.values()), 5)
            await fake.views.choose(opened.view_id, "template_choice", "rueckruf|de")
            await wait_for(lambda: len(opened.view["blocks"]) > 2)
            fake.views.type_text(opened.view_id, "parameter-1", "value", "Olaf")
            await fake.views.submit(opened.view_id)
            await fake.idle()
        finally:
            await platform.stop()
    presses = [
        (e.room_id, e.thread_id, e.author_is_member) for e in events if isinstance(e, AgentAction)
    ]
    assert presses == [(CHANNEL, support, False), (SALES, sales, True)]
    [reaction] = [e for e in events if isinstance(e, AgentReaction)]
    assert reaction.room_id == SALES and reaction.author_is_member
    assert reaction.target_id == ChatMessageId(sales)
    assert reaction.reaction_id == f"{SALES}:{support}:{OUTSIDER}:thumbsup"  # as its message
    [request] = [e for e in events if isinstance(e, TemplateRequest)]
    assert (request.room_id, request.thread_id, request.parameters) == (SALES, sales, ("Olaf",))
    assert request.author_is_member


async def test_a_rate_limit_in_one_channel_holds_only_that_channel() -> None:
    """Slack paces posts per channel: a 429 in the sales channel (another app posted a
    lot there) makes the sales posts wait, the workshop's go on."""
    async with FakeSlack(private=True, rate=50) as fake:
        fake.add_channel(SALES, "sales", private=True, bot_member=True)
        platform = SlackPlatform(
            section(fake), texts=ENGLISH, channels=[SALES], pacer=ChannelPacer(0.02)
        )
        await platform.start(ignore)
        try:
            root = ThreadRoot(conversation_id=1, title="K-1")
            fake.throttle(2, SALES)
            with chatting_in(SALES), pytest.raises(PlatformError) as limited:
                await platform.open_thread(root, key="root-sales")
            assert limited.value.code == "ratelimited" and limited.value.retry_after
            with chatting_in(CHANNEL):
                await platform.open_thread(root, key="root-support")
            with chatting_in(SALES), pytest.raises(PlatformError) as held:
                platform.pacer.max_wait = 0.5  # a job would leave the wait to the queue
                await platform.open_thread(root, key="root-sales")
            assert held.value.code == "paced"
        finally:
            await platform.stop()
    assert [hit.channel for hit in fake.rate_limited] == [SALES]
    assert fake.early_posts == [] and len(fake.roots(CHANNEL)) == 1
    assert fake.roots(SALES) == []


async def test_on_call_channels_are_checked_for_membership_and_take_alerts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Alerts carry no customer content: an on-call channel may be public (no warning),
    and one the bot is not in is warned about, not refused (customers are still served)."""
    async with FakeSlack(private=True, rate=50) as fake:
        fake.add_channel("C0ALERTS01", "alerts", bot_member=True)  # public
        fake.add_channel("C0ONCALL02", "sales-oncall")
        platform = SlackPlatform(
            section(fake),
            texts=ENGLISH,
            alerts_channel="C0ALERTS01",
            alerts_channels=["C0ALERTS01", "C0ONCALL02"],
            pacer=ChannelPacer(0.02),
        )
        with caplog.at_level(logging.INFO, logger="empfang.slack"):
            await platform.start(ignore)
        try:
            await platform.alert("SLA: 1 conversation waiting", thread_id=None, key="a-1")
            with chatting_in("C0ONCALL02"), pytest.raises(PlatformError) as refused:
                await platform.alert("SLA: 1 conversation waiting", thread_id=None, key="a-2")
            assert refused.value.code == "not_in_channel"
            await fake.idle()  # the alert's own message event acked before the socket closes
        finally:
            await platform.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "slack: alerts go to channel C0ONCALL02, but the bot is not a member; invite it there "
        "with /invite @<bot name>"
    ]
    assert [m["text"] for m in fake.roots("C0ALERTS01")] == ["SLA: 1 conversation waiting"]
