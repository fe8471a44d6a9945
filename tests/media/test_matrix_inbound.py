"""Customers' files in a Matrix thread on a real Synapse: the bytes the homeserver holds
are stripped and upright, names masked, voice notes playable as voice, stickers images;
in an encrypted room the attachment is encrypted and the agent's own client decrypts it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from nio import RoomEncryptedMedia
from nio.crypto.attachments import decrypt_attachment

from bot.demo.stack import (
    RoomView,
    Stack,
    SupportRoom,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse, MatrixAccount
from tests.e2e.matrix_world import leaks, thread_of
from tests.matrix.e2ee_device import E2eeDevice
from tests.media.customer import CAPTION, INVOICE_NAME, OGG, PDF, send_file, sticker
from tests.media.images import HEIGHT, WIDTH, metadata_left, phone_photo, upright
from tests.numbers import CUSTOMER, THIRD_PARTY

FILE_TYPES = ("m.image", "m.video", "m.audio", "m.file")
StackFactory = Callable[..., Any]


@pytest.fixture
async def make_stack(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[StackFactory]:
    started: list[Stack] = []

    async def build(*, encrypted: bool = False, **sections: Any) -> tuple[Stack, SupportRoom]:
        room = await create_support_room(synapse, encrypted=encrypted)
        if encrypted:
            sections["matrix"] = {"encryption": True}
        settings = stack_settings(tmp_path, room, bot_port=free_port(), **sections)
        stack = Stack(settings)
        started.append(stack)
        return stack, room

    yield build
    for stack in started:
        await stack.stop()


async def download(hs: LocalSynapse, account: MatrixAccount, mxc: str) -> bytes:
    """The bytes the homeserver serves for ``mxc`` (authenticated media, as agents fetch)."""
    parts = urlparse(mxc)
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        response = await client.get(
            f"{hs.base_url}/_matrix/client/v1/media/download/{parts.netloc}{parts.path}",
            headers={"Authorization": f"Bearer {account.access_token}"},
        )
    response.raise_for_status()
    return response.content


async def file_events(view: RoomView, count: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = [e for e in await view.messages() if e["content"].get("msgtype") in FILE_TYPES]
        return found if len(found) >= count else None

    return await wait_for(probe, within=30)


async def test_files_reach_the_thread_stripped_masked_and_typed(
    synapse: LocalSynapse, make_stack: StackFactory
) -> None:
    stack, room = await make_stack()
    await stack.start()
    view = RoomView(synapse, room.agent, room.room_id)
    photo = phone_photo()
    send_file(stack.sandbox, "image", photo, "image/jpeg", caption=CAPTION)
    send_file(stack.sandbox, "document", PDF, "application/pdf", filename=INVOICE_NAME)
    send_file(stack.sandbox, "audio", OGG, "audio/ogg; codecs=opus", voice=True)
    send_file(stack.sandbox, "sticker", sticker(), "image/webp")

    image, document, voice, sticker_event = await file_events(view, 4)

    events = await view.messages()
    line = next(e for e in events if "Schaden am Paket" in e["content"].get("body", ""))
    root = thread_of(line)
    assert root and all(thread_of(e) == root for e in (image, document, voice, sticker_event))
    order = [e["event_id"] for e in events]
    assert order.index(line["event_id"]) < order.index(image["event_id"])  # the line first

    content = image["content"]
    assert content["msgtype"] == "m.image" and "file" not in content
    assert content["info"] == {
        "mimetype": "image/jpeg",
        "size": content["info"]["size"],
        "w": HEIGHT,
        "h": WIDTH,
    }
    stored = await download(synapse, room.agent, content["url"])
    assert metadata_left(stored) == [] and upright(stored)
    assert content["info"]["size"] == len(stored)

    assert document["content"]["msgtype"] == "m.file"
    assert await download(synapse, room.agent, document["content"]["url"]) == PDF
    assert document["content"]["body"] == document["content"]["filename"]
    assert document["content"]["body"].startswith("Rechnung_")

    audio = voice["content"]
    assert audio["msgtype"] == "m.audio" and audio["info"]["mimetype"] == "audio/ogg"
    assert "org.matrix.msc3245.voice" in audio and "org.matrix.msc1767.audio" in audio
    assert await download(synapse, room.agent, audio["url"]) == OGG

    assert sticker_event["content"]["msgtype"] == "m.image"
    assert sticker_event["content"]["info"]["mimetype"] == "image/webp"

    for number in (CUSTOMER, THIRD_PARTY):
        assert leaks(events, number) == []


async def test_in_an_encrypted_room_the_file_is_encrypted_and_the_agent_decrypts_it(
    synapse: LocalSynapse, make_stack: StackFactory, tmp_path: Path
) -> None:
    stack, room = await make_stack(encrypted=True)
    agent = E2eeDevice(synapse, room.agent, tmp_path / "agent-store", (RoomEncryptedMedia,))
    await agent.start()
    try:
        await stack.start()
        send_file(stack.sandbox, "image", phone_photo(), "image/jpeg", caption=CAPTION)

        async def decrypted() -> list[RoomEncryptedMedia] | None:
            media = [e for e in agent.received.values() if isinstance(e, RoomEncryptedMedia)]
            return media or None

        event = (await wait_for(decrypted, within=30))[0]
        assert event.source["content"]["msgtype"] == "m.image"
        assert "url" not in event.source["content"]  # only the encrypted file's own url
        ciphertext = await download(synapse, room.agent, event.url)
        assert not ciphertext.startswith(b"\xff\xd8")  # the homeserver holds no JPEG
        plain = decrypt_attachment(ciphertext, event.key["k"], event.hashes["sha256"], event.iv)
        assert metadata_left(plain) == [] and upright(plain)
        raw = await RoomView(synapse, room.agent, room.room_id).events()
        sent = [e["type"] for e in raw if e.get("sender") == room.bot.user_id]
        assert "m.room.encrypted" in sent and "m.room.message" not in sent
    finally:
        await agent.stop()
