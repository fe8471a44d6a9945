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
from bot.demo.synapse import LocalSynapse, MatrixAccount
from bot.ids import ThreadId
from bot.ports import AgentMessage, ThreadRoot
from bot.routing import chatting_in
from tests.matrix.e2ee_device import E2eeDevice
from tests.matrix.helpers import Inbox, RoomReader, section, thread_reply
from tests.support.synapse_fixture import NewMatrixUser


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
