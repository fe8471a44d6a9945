"""Agents sending files from a real Synapse room to a customer on the sandbox.

The agent is a nio client with its own device (E2EE on), so in an encrypted room its file
is an encrypted attachment the bot must fetch and decrypt; in a plain room it is a plain
``url``. The bot is the production app (``bot.demo.stack``), WhatsApp is the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    MatrixRoom,
    RoomMessage,
    RoomSendResponse,
    UploadResponse,
)

from bot.demo.stack import (
    Stack,
    SupportRoom,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse
from tests.numbers import CUSTOMER
from tests.slack.conftest import start_stack

__all__ = ["start_stack"]  # the Slack stack fixture, for test_slack_files

CUSTOMER_PLUS = "+" + CUSTOMER


def thread_relation(root_id: str) -> dict[str, Any]:
    return {
        "rel_type": "m.thread",
        "event_id": root_id,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": root_id},
    }


@dataclass
class MatrixDesk:
    """The bot on a stack, one agent (an E2EE nio device) in the support room."""

    stack: Stack
    room: SupportRoom
    client: AsyncClient
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every room message the agent's client saw (decrypted), by event id: its source."""
    task: asyncio.Task[None] | None = None

    async def on_message(self, room: MatrixRoom, event: RoomMessage) -> None:
        self.seen[event.event_id] = event.source

    async def customer_opens_thread(self, text: str = "Hallo, eine Frage") -> str:
        """The customer writes; returns the thread root the bot posted."""
        self.stack.sandbox.say(CUSTOMER_PLUS, text, name="Erika")
        bot_user = self.room.bot.user_id

        async def root() -> str | None:
            for event_id, source in self.seen.items():
                content = source.get("content", {})
                if source.get("sender") == bot_user and "m.relates_to" not in content:
                    return event_id
            return None

        return await wait_for(root, within=30)

    async def send_file(
        self,
        root_id: str,
        content: bytes,
        *,
        name: str,
        mime: str,
        msgtype: str = "m.file",
        caption: str | None = None,
        declared_size: int | None = None,
    ) -> str:
        """Upload ``content`` as the agent (encrypted in an encrypted room) and post it in
        the thread as Element does; ``caption`` as ``body`` beside ``filename``."""
        encrypted = self.stack.settings.matrix.encryption
        response, keys = await self.client.upload(
            io.BytesIO(content),
            content_type=mime,
            filename=name,
            encrypt=encrypted,
            filesize=len(content),
        )
        assert isinstance(response, UploadResponse), response
        uri = response.content_uri
        event: dict[str, Any] = {
            "msgtype": msgtype,
            "body": caption if caption is not None else name,
            "filename": name,
            "info": {"mimetype": mime, "size": declared_size or len(content)},
            "m.relates_to": thread_relation(root_id),
        }
        if encrypted:
            assert keys is not None
            event["file"] = {**keys, "url": uri}
        else:
            event["url"] = uri
        sent = await self.client.room_send(
            self.room.room_id, "m.room.message", event, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)

    async def thread_texts(self, root_id: str) -> list[str]:
        return [
            str(source["content"].get("body"))
            for source in self.seen.values()
            if source.get("content", {}).get("m.relates_to", {}).get("event_id") == root_id
            and source.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.thread"
        ]

    def received(self) -> list[dict[str, Any]]:
        """What the customer's phone got from the business, oldest first."""
        return list(self.stack.sandbox.inbox(CUSTOMER)["messages"])

    def media_bytes(self, media_id: str) -> bytes:
        item = self.stack.sandbox.media.get(media_id)
        assert item is not None, "the sandbox does not have the sent media"
        return item.content


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


MakeDesk = Callable[..., Awaitable[MatrixDesk]]


@pytest.fixture
async def matrix_desk(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[MakeDesk]:
    desks: list[MatrixDesk] = []

    async def build(*, encrypted: bool = False, **sections: dict[str, Any]) -> MatrixDesk:
        room = await create_support_room(synapse, encrypted=encrypted)
        matrix = {"encryption": encrypted, **sections.pop("matrix", {})}
        settings = stack_settings(tmp_path, room, bot_port=free_port(), matrix=matrix, **sections)
        stack = Stack(settings)
        await stack.start()
        agent = room.agent
        store = tmp_path / f"agent-store-{len(desks)}"
        store.mkdir()
        client = AsyncClient(
            synapse.base_url,
            agent.user_id,
            device_id=agent.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, pickle_key="agent-pickle"),
        )
        client.restore_login(agent.user_id, agent.device_id, agent.access_token)
        desk = MatrixDesk(stack, room, client)
        client.add_event_callback(desk.on_message, RoomMessage)
        await client.keys_upload()
        desk.task = asyncio.create_task(client.sync_forever(timeout=500, full_state=True))
        await asyncio.wait_for(client.synced.wait(), 15)
        desks.append(desk)
        return desk

    yield build
    for desk in desks:
        if desk.task is not None:
            desk.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await desk.task
        await desk.client.close()
        await desk.stack.stop()
