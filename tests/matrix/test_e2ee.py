"""An encrypted room: the bot's posts leave encrypted, an agent's encrypted reply is read.

The agent is a second nio client with its own crypto store, i.e. a real other device; nothing
is shared with the bot except the homeserver.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from nio import AsyncClient, AsyncClientConfig, MatrixRoom, RoomMessageText, RoomSendResponse

from bot.demo.synapse import LocalSynapse, MatrixAccount
from bot.ports import ThreadRoot
from tests.matrix.conftest import StartPlatform
from tests.matrix.helpers import RoomReader, section, thread_reply
from tests.support.synapse_fixture import NewMatrixUser


class Agent:
    """A nio client with E2EE, syncing in the background and keeping what it decrypted."""

    def __init__(self, hs: LocalSynapse, account: MatrixAccount, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            hs.base_url,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, pickle_key="agent-pickle-key"),
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.received: dict[str, RoomMessageText] = {}
        self._arrived = asyncio.Event()
        self.client.add_event_callback(self._on_message, RoomMessageText)
        self._task: asyncio.Task[None] | None = None

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        self.received[event.event_id] = event
        self._arrived.set()

    async def start(self) -> None:
        await self.client.keys_upload()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=1000, full_state=True))
        await asyncio.wait_for(self.client.synced.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def wait_for(self, event_id: str, within: float = 15) -> RoomMessageText:
        async def poll() -> RoomMessageText:
            while event_id not in self.received:
                self._arrived.clear()
                await self._arrived.wait()
            return self.received[event_id]

        return await asyncio.wait_for(poll(), within)


@pytest_asyncio.fixture(loop_scope="session")
async def agent_and_room(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> AsyncIterator[tuple[Agent, MatrixAccount, MatrixAccount, str]]:
    account = await new_matrix_user("agent")
    bot = await new_matrix_user("empfang")
    room_id = await synapse.create_room(
        account, name="Encrypted support", invite=[bot.user_id], encrypted=True
    )
    agent = Agent(synapse, account, tmp_path / "agent-store")
    await agent.start()
    yield agent, account, bot, room_id
    await agent.stop()


async def test_encrypted_room_round_trip(
    synapse: LocalSynapse,
    agent_and_room: tuple[Agent, MatrixAccount, MatrixAccount, str],
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
