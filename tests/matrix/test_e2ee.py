"""An encrypted room: the bot's posts leave encrypted, an agent's encrypted reply is read.

The agent is a second nio client with its own crypto store, i.e. a real other device; nothing
is shared with the bot except the homeserver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from nio import RoomMessageText, RoomSendResponse

from bot.demo.synapse import LocalSynapse, MatrixAccount
from bot.ports import ThreadRoot
from tests.matrix.conftest import StartPlatform
from tests.matrix.e2ee_device import E2eeDevice
from tests.matrix.helpers import RoomReader, section, thread_reply
from tests.support.synapse_fixture import NewMatrixUser


@pytest_asyncio.fixture(loop_scope="session")
async def agent_and_room(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> AsyncIterator[tuple[E2eeDevice, MatrixAccount, MatrixAccount, str]]:
    account = await new_matrix_user("agent")
    bot = await new_matrix_user("empfang")
    room_id = await synapse.create_room(
        account, name="Encrypted support", invite=[bot.user_id], encrypted=True
    )
    agent = E2eeDevice(synapse, account, tmp_path / "agent-store", (RoomMessageText,))
    await agent.start()
    yield agent, account, bot, room_id
    await agent.stop()


async def test_encrypted_room_round_trip(
    synapse: LocalSynapse,
    agent_and_room: tuple[E2eeDevice, MatrixAccount, MatrixAccount, str],
    start_platform: StartPlatform,
    tmp_path: Path,
) -> None:
    agent, account, bot, room_id = agent_and_room
    config = section(synapse, bot, room_id, tmp_path / "bot-store", encryption=True)
    platform, inbox = await start_platform(config)

    root_id = await platform.open_thread(ThreadRoot(conversation_id=3, title="K-3"), key="root")
    post_id = await platform.post(root_id, "vertraulich", key="p1")

    reader = RoomReader(synapse, account, room_id)
    try:
        raw = await reader.event(post_id)
    finally:
        await reader.aclose()
    assert raw["type"] == "m.room.encrypted"
    assert "vertraulich" not in str(raw["content"])
    # Relations stay in the clear so the server can aggregate the thread.
    assert raw["content"]["m.relates_to"]["rel_type"] == "m.thread"

    decrypted = await agent.wait_for(post_id)
    assert isinstance(decrypted, RoomMessageText)
    assert decrypted.body == "vertraulich"
    assert decrypted.decrypted

    sent = await agent.client.room_send(
        room_id,
        "m.room.message",
        thread_reply(root_id, "Antwort, verschlüsselt"),
        ignore_unverified_devices=True,
    )
    assert isinstance(sent, RoomSendResponse), sent
    message = await inbox.wait_for(lambda m: m.chat_id == sent.event_id)
    assert message.text == "Antwort, verschlüsselt"
    assert message.thread_id == root_id
    assert message.author_id == account.user_id
    assert message.author_is_member

    # Restart: the crypto store (under store_path, sealed with pickle_key) still holds the
    # agent's session, so a reply sent while the bot was down is decrypted and delivered.
    await platform.stop()
    later = await agent.client.room_send(
        room_id,
        "m.room.message",
        thread_reply(root_id, "während du weg warst"),
        ignore_unverified_devices=True,
    )
    assert isinstance(later, RoomSendResponse), later
    _, inbox2 = await start_platform(config)
    resumed = await inbox2.wait_for(lambda m: m.chat_id == later.event_id)
    assert resumed.text == "während du weg warst"
    assert [m.chat_id for m in inbox2.messages] == [later.event_id]
