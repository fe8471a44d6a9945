"""End to end on a real Synapse: customer on the sandbox ↔ bot ↔ agent in a Matrix thread."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo.stack import (
    RoomView,
    Stack,
    SupportRoom,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse
from tests.e2e.matrix_world import (
    leaks,
    reactions_on,
    roots,
    thread_bodies,
    wait_for_thread_bodies,
)
from tests.numbers import CUSTOMER, THIRD_PARTY

CUSTOMER_PLUS = "+" + CUSTOMER
StackFactory = Callable[..., Any]


@pytest.fixture
async def make_stack(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    started: list[Stack] = []

    async def build(**sections: dict[str, Any]) -> tuple[Stack, SupportRoom, RoomView]:
        room = await create_support_room(synapse)
        settings = stack_settings(tmp_path, room, bot_port=free_port(), **sections)
        stack = Stack(settings)
        await stack.start()
        started.append(stack)
        return stack, room, RoomView(synapse, room.agent, room.room_id)

    yield build
    for stack in started:
        await stack.stop()


async def first_thread(view: RoomView, room: SupportRoom, count: int = 1) -> tuple[str, list[str]]:
    async def probe() -> list[dict[str, Any]] | None:
        return await roots(view, room.bot.user_id) or None

    root = (await wait_for(probe, within=30))[0]["event_id"]
    return root, await wait_for_thread_bodies(view, root, count)


async def sent_texts(stack: Stack, count: int) -> list[str]:
    async def probe() -> list[str] | None:
        texts = [str(m["text"]) for m in stack.sandbox.inbox(CUSTOMER)["messages"]]
        return texts if len(texts) >= count else None

    return await wait_for(probe, within=30)


async def test_customer_messages_form_one_masked_thread_in_order(make_stack: StackFactory) -> None:
    stack, room, view = await make_stack(privacy={"show_profile_name": True})
    lines = [
        "Guten Tag, ich habe eine Frage.",
        f"Meine Nummer ist {CUSTOMER_PLUS}, alternativ 0151 12345678.",
        f"Oder meine Frau: +{THIRD_PARTY}",
        "Bestellung 4711-2023 vom 12.03.2024, Betrag 49,90 €.",
    ]
    for line in lines:
        stack.sandbox.say(CUSTOMER_PLUS, line, name=f"Erika {CUSTOMER}")
        await stack.sandbox.idle()
    stack.sandbox.send_message(
        {
            "from": CUSTOMER_PLUS,
            "type": "contacts",
            "contacts": [
                {"name": {"formatted_name": "Max Muster"}, "phones": [{"phone": f"+{THIRD_PARTY}"}]}
            ],
        }
    )
    root, bodies = await first_thread(view, room, count=5)
    assert bodies[0] == lines[0]
    assert "+49 ••• ••••••78" in bodies[1] and "0151" not in bodies[1]
    assert bodies[3] == lines[3], "dates, order numbers and amounts stay"
    assert bodies[4].startswith("👤 Contact card: M. M.")
    root_event = next(e for e in await view.messages() if e["event_id"] == root)
    assert (
        "K-" in root_event["content"]["body"]
        and "+49 ••• ••••••78" in root_event["content"]["body"]
    )
    assert len(await roots(view, room.bot.user_id)) == 1
    events = await view.events()
    assert leaks(events, CUSTOMER) == []
    assert leaks(events, THIRD_PARTY) == []


async def test_agent_reply_reaches_the_customer_and_ticks_follow(make_stack: StackFactory) -> None:
    stack, room, view = await make_stack()
    stack.sandbox.say(CUSTOMER_PLUS, "Hallo")
    root, _ = await first_thread(view, room)
    reply = await view.reply_in_thread(root, "Guten Tag, wie können wir helfen?")
    assert await sent_texts(stack, 1) == ["Guten Tag, wie können wir helfen?"]

    async def read_tick() -> list[str] | None:
        shown = reactions_on(await view.events(), reply)
        return shown if shown == ["👁"] else None

    assert await wait_for(read_tick, within=30) == ["👁"]


async def test_window_closed_is_explained_in_the_thread(make_stack: StackFactory) -> None:
    stack, room, view = await make_stack()
    stack.sandbox.say(CUSTOMER_PLUS, "Hallo")
    root, _ = await first_thread(view, room)
    stack.sandbox.advance_clock(25 * 3600)
    reply = await view.reply_in_thread(root, "Sorry for the late answer")
    bodies = await wait_for_thread_bodies(view, root, 3)
    assert "24-hour window is closed" in bodies[-1]

    async def failed_tick() -> list[str] | None:
        shown = reactions_on(await view.events(), reply)
        return shown if shown == ["❌"] else None

    await wait_for(failed_tick)


async def test_notes_commands_and_foreign_senders_send_nothing(
    make_stack: StackFactory, synapse: LocalSynapse
) -> None:
    stack, room, view = await make_stack()
    stack.sandbox.say(CUSTOMER_PLUS, "Hallo")
    root, _ = await first_thread(view, room)
    other_bot = await synapse.register_user(f"otherbot{free_port()}", "pw-otherbot")
    await synapse.join_room(other_bot, await _invite(synapse, room, other_bot.user_id))
    await view.reply_in_thread(root, "!note customer sounds upset")
    await view.reply_in_thread(root, "!help")
    await synapse.send_message(  # another bot's output is an m.notice
        other_bot,
        room.room_id,
        {
            "msgtype": "m.notice",
            "body": "automatic summary",
            "m.relates_to": {"rel_type": "m.thread", "event_id": root},
        },
    )
    await synapse.send_message(
        room.agent, room.room_id, {"msgtype": "m.text", "body": "not in a thread"}
    )
    await view.reply_in_thread(root, "actual answer")
    assert await sent_texts(stack, 1) == ["actual answer"]
    bodies = await thread_bodies(view, root)
    assert any(b.startswith("Reply in this thread") for b in bodies), "help was posted"
    assert len(stack.sandbox.inbox(CUSTOMER)["messages"]) == 1


async def _invite(synapse: LocalSynapse, room: SupportRoom, user_id: str) -> str:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.post(
            f"{synapse.base_url}/_matrix/client/v3/rooms/{room.room_id}/invite",
            json={"user_id": user_id},
            headers={"Authorization": f"Bearer {room.agent.access_token}"},
        )
    response.raise_for_status()
    return room.room_id


async def test_explicit_mode_sends_only_bang_send(make_stack: StackFactory) -> None:
    stack, room, view = await make_stack(privacy={"reply_mode": "explicit"})
    stack.sandbox.say(CUSTOMER_PLUS, "Hallo")
    root, _ = await first_thread(view, room)
    await view.reply_in_thread(root, "internal: who takes this?")
    await view.reply_in_thread(root, "!send Wir melden uns gleich.")
    assert await sent_texts(stack, 1) == ["Wir melden uns gleich."]


async def test_not_allowed_member_is_told_and_nothing_is_sent(
    make_stack: StackFactory, synapse: LocalSynapse
) -> None:
    intern = await synapse.register_user(f"intern{free_port()}", "pw-intern")
    stack, room, view = await make_stack(matrix={"allowed_users": ["@nobody:localhost"]})
    await synapse.join_room(intern, await _invite(synapse, room, intern.user_id))
    stack.sandbox.say(CUSTOMER_PLUS, "Hallo")
    root, _ = await first_thread(view, room)
    await view.reply_in_thread(root, "I am not on the list")
    bodies = await wait_for_thread_bodies(view, root, 3)
    assert "not allowed to answer customers" in bodies[-1]
    assert stack.sandbox.inbox(CUSTOMER)["messages"] == []


async def test_close_then_next_message_opens_a_new_thread(make_stack: StackFactory) -> None:
    stack, room, view = await make_stack()
    stack.sandbox.say(CUSTOMER_PLUS, "Erste Frage")
    first_root, _ = await first_thread(view, room)
    await view.reply_in_thread(first_root, "!close")
    bodies = await wait_for_thread_bodies(view, first_root, 3)
    assert bodies[-1].startswith("🔒 Closed by")
    await view.reply_in_thread(first_root, "late reply after closing")
    stack.sandbox.say(CUSTOMER_PLUS, "Zweite Frage")

    async def two_roots() -> list[dict[str, Any]] | None:
        found = await roots(view, room.bot.user_id)
        return found if len(found) == 2 else None

    second_root = (await wait_for(two_roots))[1]["event_id"]
    assert await wait_for_thread_bodies(view, second_root, 1) == ["Zweite Frage"]
    assert stack.sandbox.inbox(CUSTOMER)["messages"] == []


async def test_restart_continues_the_thread_without_replay(make_stack: StackFactory) -> None:
    stack, room, view = await make_stack()
    stack.sandbox.say(CUSTOMER_PLUS, "vor dem Neustart")
    root, _ = await first_thread(view, room)
    await view.reply_in_thread(root, "answer before restart")
    await sent_texts(stack, 1)
    await stack.stop_bot()
    stack.sandbox.say(CUSTOMER_PLUS, "während der Bot weg ist")  # redelivered until it is back
    await view.reply_in_thread(root, "answer while the bot is down")
    await stack.start_bot()
    await wait_for_thread_bodies(view, root, 4)
    texts = await sent_texts(stack, 2)
    assert texts == ["answer before restart", "answer while the bot is down"]
    bodies = await thread_bodies(view, root)
    assert bodies.count("vor dem Neustart") == 1
    assert bodies.count("während der Bot weg ist") == 1
    assert len(await roots(view, room.bot.user_id)) == 1


async def test_homeserver_down_then_up_delivers_everything_once_in_order(
    private_synapse: LocalSynapse, tmp_path: Path
) -> None:
    room = await create_support_room(private_synapse)
    settings = stack_settings(tmp_path, room, bot_port=free_port())
    view = RoomView(private_synapse, room.agent, room.room_id)
    async with Stack(settings) as stack:
        stack.sandbox.say(CUSTOMER_PLUS, "eins")
        root, _ = await first_thread(view, room)
        await private_synapse.stop()
        for text in ("zwei", "drei", "vier"):
            stack.sandbox.say(CUSTOMER_PLUS, text)
        await stack.sandbox.idle()  # acknowledged by the bot while Matrix is down
        await private_synapse.start()
        bodies = await wait_for_thread_bodies(view, root, 4)
        assert bodies == ["eins", "zwei", "drei", "vier"]


async def test_demo_runs_to_completion() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0
    rows = [line.split(" | ", 1) for line in out.decode().splitlines() if " | " in line]
    customer_side = " ".join(left for left, _ in rows)
    agent_side = " ".join(right for _, right in rows)
    assert "0176 98765432" in customer_side and "Guten Tag!" in customer_side
    assert "••••••32" in agent_side and "Guten Tag!" in agent_side
    assert "98765432" not in agent_side and "12345678" not in agent_side


async def test_edit_of_a_sent_reply_is_noticed_and_reactions_show(
    make_stack: StackFactory, synapse: LocalSynapse
) -> None:
    stack, room, view = await make_stack()
    first = stack.sandbox.say(CUSTOMER_PLUS, "Hallo")
    root, _ = await first_thread(view, room)
    reply = await view.reply_in_thread(root, "Hi, wie heißen Sie?")
    await sent_texts(stack, 1)
    await synapse.send_message(
        room.agent,
        room.room_id,
        {
            "msgtype": "m.text",
            "body": "* Hi, wie heißt Ihre Firma?",
            "m.new_content": {"msgtype": "m.text", "body": "Hi, wie heißt Ihre Firma?"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": reply},
        },
    )
    stack.sandbox.send_message(
        {"from": CUSTOMER_PLUS, "type": "reaction", "message_id": first, "emoji": "👍"}
    )
    bodies = await wait_for_thread_bodies(view, root, 3)
    assert any("can't be edited" in body for body in bodies)
    hallo = next(
        e["event_id"] for e in await view.messages() if e["content"].get("body") == "Hallo"
    )

    async def thumbs_up() -> list[str] | None:  # on the customer's line (bot.mirror)
        shown = reactions_on(await view.events(), hallo)
        return shown if shown == ["👍"] else None

    await wait_for(thumbs_up)
    assert await sent_texts(stack, 1) == ["Hi, wie heißen Sie?"], "the edit was not sent"


async def test_empfang_run_stops_cleanly_on_sigterm(synapse: LocalSynapse, tmp_path: Path) -> None:
    room = await create_support_room(synapse)
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[server]
port = {port}
[store]
path = "{tmp_path / "run.sqlite3"}"
[whatsapp]
provider = "sandbox"
phone_number_id = "106540352242922"
access_token = "run-access-token"
app_secret = "run-app-secret"
verify_token = "run-verify-token"
[matrix]
homeserver = "{synapse.base_url}"
user_id = "{room.bot.user_id}"
access_token = "{room.bot.access_token}"
device_id = "{room.bot.device_id}"
room_id = "{room.room_id}"
store_path = "{tmp_path / "matrix-store"}"
[privacy]
pseudonym_key = "run-pseudonym-key-0123456789"
""",
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config)
    )

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(trust_env=False) as client:
                return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(ready, within=30)
    process.terminate()
    assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_unanswered_customer_alerts_oncall_in_thread_and_alerts_room(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    room = await create_support_room(synapse)
    alerts_room = await synapse.create_room(room.agent, name="On-call", invite=[room.bot.user_id])
    settings = stack_settings(
        tmp_path,
        room,
        bot_port=free_port(),
        alerts={
            "unanswered_after": "1s",
            "escalate_after": "1h",
            "room": alerts_room,
            "oncall": {"matrix": [room.agent.user_id]},
        },
    )
    view = RoomView(synapse, room.agent, room.room_id)
    alerts_view = RoomView(synapse, room.agent, alerts_room)
    async with Stack(settings) as stack:
        stack.sandbox.say(CUSTOMER_PLUS, "Hallo, ist jemand da?")
        root, _ = await first_thread(view, room)

        async def reminder_in_alerts_room() -> list[str] | None:
            bodies = [str(e["content"].get("body")) for e in await alerts_view.messages()]
            found = [b for b in bodies if b.startswith("⏰")]
            return found or None

        (reminder,) = await wait_for(reminder_in_alerts_room, within=30)
        assert room.agent.user_id in reminder and "waited" in reminder
        bodies = await wait_for_thread_bodies(view, root, 2)
        assert any(b.startswith("⏰") for b in bodies)
        assert leaks(await alerts_view.events(), CUSTOMER) == []
