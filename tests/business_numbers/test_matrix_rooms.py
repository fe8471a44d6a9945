"""One Matrix client serves two encrypted rooms (two numbers' threads): the posts of each
leave encrypted into the room the scope names, the agent's encrypted replies come back
naming the room they were written in, and the E2EE device is one (one sync loop, one
crypto store) for both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest_asyncio
from nio import RoomMessageText, RoomSendResponse

from adapters.matrix import MatrixPlatform
from bot.config.numbers import NumberEntry
from bot.demo.stack import (
    RoomView,
    Stack,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse, MatrixAccount
from bot.ids import ThreadId
from bot.ports import AgentMessage, ThreadRoot
from bot.routing import chatting_in
from tests.e2e.matrix_world import roots, wait_for_thread_bodies
from tests.matrix.e2ee_device import E2eeDevice
from tests.matrix.helpers import Inbox, RoomReader, section, thread_reply
from tests.numbers import CUSTOMER
from tests.support.synapse_fixture import NewMatrixUser

ANNA = "+" + CUSTOMER
WORKSHOP = "106540352242922"


def event(event_id: str) -> Callable[[AgentMessage], bool]:
    return lambda message: message.chat_id == event_id


@pytest_asyncio.fixture(loop_scope="session")
async def two_rooms(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> AsyncIterator[tuple[E2eeDevice, MatrixAccount, MatrixAccount, str, str]]:
    account = await new_matrix_user("agent")
    bot = await new_matrix_user("empfang")
    workshop, sales = [
        await synapse.create_room(account, name=name, invite=[bot.user_id], encrypted=True)
        for name in ("Werkstatt", "Verkauf")
    ]
    agent = E2eeDevice(synapse, account, tmp_path / "agent-store", (RoomMessageText,))
    await agent.start()
    yield agent, account, bot, workshop, sales
    await agent.stop()


async def test_one_client_serves_two_encrypted_rooms(
    synapse: LocalSynapse,
    two_rooms: tuple[E2eeDevice, MatrixAccount, MatrixAccount, str, str],
    tmp_path: Path,
) -> None:
    agent, account, bot, workshop, sales = two_rooms
    config = section(synapse, bot, workshop, tmp_path / "bot-store", encryption=True)
    platform = MatrixPlatform(config, rooms=[workshop, sales])
    inbox = Inbox()
    await platform.start(inbox)
    try:
        roots: dict[str, ThreadId] = {}
        for room, text in ((workshop, "Bremsen"), (sales, "Kombi")):
            with chatting_in(room, platform="matrix"):
                roots[room] = await platform.open_thread(
                    ThreadRoot(conversation_id=len(roots) + 1, title=text), key=f"root-{room}"
                )
                post = await platform.post(roots[room], text, key=f"post-{room}")
            reader = RoomReader(synapse, account, room)
            try:
                raw = await reader.event(post)
            finally:
                await reader.aclose()
            assert raw["type"] == "m.room.encrypted" and text not in str(raw["content"])
            decrypted = await agent.wait_for(post)
            assert isinstance(decrypted, RoomMessageText) and decrypted.body == text

        for room, text in ((sales, "29.900 Euro"), (workshop, "Morgen um 8")):
            sent = await agent.client.room_send(
                room,
                "m.room.message",
                thread_reply(roots[room], text),
                ignore_unverified_devices=True,
            )
            assert isinstance(sent, RoomSendResponse), sent
            message = await inbox.wait_for(event(sent.event_id))
            assert (message.text, message.thread_id, message.room_id) == (text, roots[room], room)
    finally:
        await platform.stop()


async def test_a_moved_numbers_open_thread_is_still_answered_in_its_old_room(
    synapse: LocalSynapse, tmp_path: Path
) -> None:
    """The workshop's number moves to a new room while Anna's conversation is open: after
    the restart the bot still serves the old room, so the agent's reply in her thread there
    reaches her; her next conversation would open in the new room."""
    support = await create_support_room(synapse)
    new_room = await synapse.create_room(
        support.agent, name="Werkstatt neu", invite=[support.bot.user_id]
    )
    settings = stack_settings(tmp_path, support, bot_port=free_port())
    settings.numbers = [NumberEntry(phone_number_id=WORKSHOP, room=support.room_id)]
    async with Stack(settings) as stack:
        old = RoomView(synapse, support.agent, support.room_id)
        stack.sandbox.say(ANNA, "Die Bremsen quietschen", to=WORKSHOP)

        async def root() -> str | None:
            found = await roots(old, support.bot.user_id)
            return str(found[0]["event_id"]) if found else None

        thread = await wait_for(root, within=30)
        await wait_for_thread_bodies(old, thread, 1)
        settings.numbers = [NumberEntry(phone_number_id=WORKSHOP, room=new_room)]
        await stack.restart_bot()
        await old.reply_in_thread(thread, "Kommen Sie morgen vorbei")

        async def answered() -> list[str] | None:
            chat = stack.sandbox.inbox(ANNA, WORKSHOP)["messages"]
            return [str(m["text"]) for m in chat] or None

        assert await wait_for(answered, within=30) == ["Kommen Sie morgen vorbei"]
