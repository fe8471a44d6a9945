"""MatrixPlatform against a real Synapse: what lands in the room, and what agents' events become."""

from __future__ import annotations

import asyncio
import stat
import time

import pytest

from adapters.matrix import MatrixPlatform
from adapters.matrix.state import STATE_FILE
from bot.domain import DeliveryStatus
from bot.errors import PlatformError
from bot.ids import ChatMessageId
from bot.ports import AgentEvent, AgentMessage, ThreadRoot
from tests.matrix.conftest import StartPlatform, Team
from tests.matrix.helpers import RoomReader, thread_reply

ROOT = ThreadRoot(conversation_id=7, title="K-7F3A2Q · +49 ••• ••42", lines=("First contact",))


async def test_root_and_thread_post_land_with_the_right_relations(
    team: Team, start_platform: StartPlatform
) -> None:
    platform, _ = await start_platform(team.section())

    root_id = await platform.open_thread(ROOT, key="conv-7-root")
    post_id = await platform.post(root_id, "Hallo, ich brauche Hilfe", key="msg-1")

    root = await team.reader.event(root_id)
    assert root["sender"] == team.bot.user_id
    assert root["content"]["msgtype"] == "m.text"
    assert root["content"]["body"] == "K-7F3A2Q · +49 ••• ••42\nFirst contact"
    assert root["content"]["formatted_body"].startswith("<b>K-7F3A2Q")
    assert "m.relates_to" not in root["content"]

    post = await team.reader.event(post_id)
    assert post["content"]["body"] == "Hallo, ich brauche Hilfe"
    assert post["content"]["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": root_id,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": root_id},
    }
    # The server aggregates it as a thread of the root.
    root_again = await team.reader.event(root_id)
    assert root_again["unsigned"]["m.relations"]["m.thread"]["count"] == 1


async def test_agent_reply_in_thread_is_delivered(
    team: Team, start_platform: StartPlatform
) -> None:
    platform, inbox = await start_platform(team.section())
    root_id = await platform.open_thread(ROOT, key="root")

    reply_id = await team.say(thread_reply(root_id, "Wir rufen morgen an."))
    message = await inbox.wait_for(lambda m: m.chat_id == reply_id)

    assert message.thread_id == root_id
    assert message.author_id == team.agent.user_id
    assert message.author_name == team.agent.user_id[1:].split(":")[0]  # Synapse's default name
    assert message.text == "Wir rufen morgen an."
    assert (message.author_is_self, message.author_is_bot, message.author_is_member) == (
        False,
        False,
        True,
    )
    assert message.edit_of is None


async def test_history_own_posts_and_notices(team: Team, start_platform: StartPlatform) -> None:
    await team.say("before the bot existed")
    platform, inbox = await start_platform(team.section())

    root_id = await platform.open_thread(ROOT, key="root")
    await platform.post(root_id, "from the customer", key="p1")
    await platform.alert("SLA warning", thread_id=None, key="a1")
    notice_id = await team.say({"msgtype": "m.notice", "body": "integration output"})
    emote_id = await team.say({"msgtype": "m.emote", "body": "is off for lunch"})
    outside_id = await team.say("general question, no thread")

    outside = await inbox.wait_for(lambda m: m.chat_id == outside_id)
    assert outside.thread_id is None
    notice = next(m for m in inbox.messages if m.chat_id == notice_id)
    assert notice.author_is_bot
    # Everything before ``outside`` was processed: no history, no own posts, no emote.
    assert [m.chat_id for m in inbox.messages] == [notice_id, outside_id]
    assert emote_id not in {m.chat_id for m in inbox.messages}


async def test_edit_and_quote_reply(team: Team, start_platform: StartPlatform) -> None:
    platform, inbox = await start_platform(team.section())
    root_id = await platform.open_thread(ROOT, key="root")
    original_id = await team.say(thread_reply(root_id, "Termin am Montag"))
    edit_id = await team.say(
        {
            "msgtype": "m.text",
            "body": "* Termin am Dienstag",
            "m.new_content": {"msgtype": "m.text", "body": "Termin am Dienstag"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original_id},
        }
    )
    quoted = thread_reply(root_id, "> <@someone:localhost> Termin?\n\nJa, Dienstag.")
    quoted["m.relates_to"]["is_falling_back"] = False
    quote_id = await team.say(quoted)

    edit = await inbox.wait_for(lambda m: m.chat_id == edit_id)
    assert edit.edit_of == original_id
    assert edit.thread_id == root_id
    assert edit.text == "Termin am Dienstag"
    quote = await inbox.wait_for(lambda m: m.chat_id == quote_id)
    assert quote.text == "Ja, Dienstag."
    assert quote.thread_id == root_id


async def test_same_key_gives_one_event(team: Team, start_platform: StartPlatform) -> None:
    platform, _ = await start_platform(team.section())
    root_id = await platform.open_thread(ROOT, key="root-once")
    assert await platform.open_thread(ROOT, key="root-once") == root_id

    first = await platform.post(root_id, "nur einmal", key="job-42")
    second = await platform.post(root_id, "nur einmal", key="job-42")
    other = await platform.post(root_id, "nur einmal", key="job-43")

    assert first == second != other
    bodies = [e["content"].get("body") for e in await team.reader.messages()]
    assert bodies.count("nur einmal") == 2  # job-42 once, job-43 once
    assert bodies.count(ROOT.title + "\nFirst contact") == 1


async def test_set_status_replaces_the_reaction(team: Team, start_platform: StartPlatform) -> None:
    platform, _ = await start_platform(team.section())
    root_id = await platform.open_thread(ROOT, key="root")
    reply_id = ChatMessageId(await team.say(thread_reply(root_id, "Antwort")))

    queued = await platform.set_status(
        root_id, reply_id, DeliveryStatus.QUEUED, previous=None, key="s1"
    )
    assert queued is not None
    sent = await platform.set_status(
        root_id, reply_id, DeliveryStatus.SENT, previous=queued, key="s2"
    )
    assert sent is not None and sent != queued
    # A retry of the same step is a no-op, not a second reaction or an error.
    assert (
        await platform.set_status(root_id, reply_id, DeliveryStatus.SENT, previous=queued, key="s2")
        == sent
    )

    new = await team.reader.event(sent)
    assert new["type"] == "m.reaction"
    assert new["content"]["m.relates_to"] == {
        "rel_type": "m.annotation",
        "event_id": reply_id,
        "key": "✓",
    }
    old = await team.reader.event(queued)
    assert "redacted_because" in old["unsigned"]
    assert old["content"] == {}

    # The same mark again under a new key (e.g. a status replayed): reuse, don't fail.
    again = await platform.set_status(
        root_id, reply_id, DeliveryStatus.SENT, previous=sent, key="s3"
    )
    assert again == sent


async def test_alert_and_root_update(team: Team, start_platform: StartPlatform) -> None:
    platform, _ = await start_platform(team.section())
    root_id = await platform.open_thread(ROOT, key="root")
    in_thread = await platform.alert("Unbeantwortet seit 15 min", thread_id=root_id, key="a1")
    in_room = await platform.alert("Webhook-Fehler", thread_id=None, key="a2")
    await platform.update_root(
        root_id,
        ROOT.model_copy(
            update={"state": "closed", "claimed_by": "Anna", "lines": ("Status: geschlossen",)}
        ),
        key="u1",
    )

    notice = await team.reader.event(in_thread)
    assert notice["content"]["msgtype"] == "m.notice"
    assert notice["content"]["m.relates_to"]["event_id"] == root_id
    room_notice = await team.reader.event(in_room)
    assert room_notice["content"] == {"msgtype": "m.notice", "body": "Webhook-Fehler"}

    edits = [
        e
        for e in await team.reader.messages()
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
    ]
    assert len(edits) == 1
    new_content = edits[0]["content"]["m.new_content"]
    assert edits[0]["content"]["m.relates_to"]["event_id"] == root_id
    assert new_content["body"] == f"{ROOT.title}\nStatus: geschlossen"
    assert "m.relates_to" not in new_content


async def test_forbidden_send_is_not_retryable(team: Team, start_platform: StartPlatform) -> None:
    platform, _ = await start_platform(team.section())
    levels = await team.reader.get_state("m.room.power_levels")
    await team.reader.put_state("m.room.power_levels", {**levels, "events_default": 50})

    with pytest.raises(PlatformError) as caught:
        await platform.alert("x", thread_id=None, key="denied")
    assert caught.value.retryable is False
    assert caught.value.code == "M_FORBIDDEN"


async def test_password_login_once_then_restart_resumes(
    team: Team, start_platform: StartPlatform
) -> None:
    config = team.section(use_token=False)
    platform, inbox = await start_platform(config)
    state_file = config.store_path / STATE_FILE
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert platform.device_id == "EMPFANG"
    seen_id = await team.say("before restart")
    await inbox.wait_for(lambda m: m.chat_id == seen_id)
    await platform.stop()

    missed = [await team.say(f"while stopped {n}") for n in range(5)]
    platform2, inbox2 = await start_platform(config, timeline_limit=2)
    after_id = await team.say("after restart")

    await inbox2.wait_for(lambda m: m.chat_id == after_id)
    assert [m.chat_id for m in inbox2.messages] == [*missed, after_id]
    assert platform2.device_id == "EMPFANG"
    # One login, one device: the saved token was reused (registration made the first one).
    bot_reader = RoomReader(team.hs, team.bot, team.room_id)
    try:
        devices = {d["device_id"] for d in await bot_reader.devices()}
    finally:
        await bot_reader.aclose()
    assert devices == {team.bot.device_id, "EMPFANG"}


async def test_bot_started_at_hides_older_backlog(
    team: Team, start_platform: StartPlatform
) -> None:
    platform, inbox = await start_platform(team.section())
    first_id = await team.say("first")
    await inbox.wait_for(lambda m: m.chat_id == first_id)
    await platform.stop()
    await team.say("in the backlog, but older than the bot's recorded start")
    await asyncio.sleep(0.05)

    _, inbox2 = await start_platform(team.section(), bot_started_at=time.time())
    marker = await team.say("marker")
    await inbox2.wait_for(lambda m: m.chat_id == marker)
    assert [m.chat_id for m in inbox2.messages] == [marker]


async def test_failing_handler_is_logged_without_content_and_sync_goes_on(
    team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[AgentEvent] = []
    both = asyncio.Event()

    async def handler(event: AgentEvent) -> None:
        received.append(event)
        if len(received) == 2:
            both.set()
        if len(received) == 1:
            raise RuntimeError("relay broke on: geheimer Inhalt")

    platform = MatrixPlatform(team.section())
    await platform.start(handler)
    try:
        first = await team.say("geheimer Inhalt")
        second = await team.say("next one")
        await asyncio.wait_for(both.wait(), 15)
    finally:
        await platform.stop()
    assert [e.chat_id for e in received if isinstance(e, AgentMessage)] == [first, second]
    assert f"handler failed for event {first} (RuntimeError at" in caplog.text
    assert "geheimer" not in caplog.text
