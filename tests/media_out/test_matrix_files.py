"""An agent's files from a real Synapse room reach the customer on the sandbox.

Plain rooms carry ``url``, encrypted rooms an encrypted attachment (``file`` with keys)
that the bot must fetch with its token and decrypt; both end as WhatsApp media sent by id.
"""

from __future__ import annotations

import os

import pytest

from bot.demo.stack import RoomView, wait_for
from tests.e2e.matrix_world import leaks, reactions_on
from tests.media.images import metadata_left, phone_photo, upright
from tests.media_out.conftest import MakeDesk, MatrixDesk, sha256
from tests.numbers import CUSTOMER

PDF = b"%PDF-1.4\n" + os.urandom(40_000) + b"\n%%EOF\n"


async def received(desk: MatrixDesk, count: int) -> list[dict[str, object]]:
    async def probe() -> list[dict[str, object]] | None:
        found = desk.received()
        return found if len(found) >= count else None

    return await wait_for(probe, within=40)


async def refusals(desk: MatrixDesk, root: str, count: int) -> list[str]:
    """The thread's "❌ Not sent" notices, once there are ``count``."""

    async def probe() -> list[str] | None:
        found = [text for text in await desk.thread_texts(root) if text.startswith("❌")]
        return found if len(found) >= count else None

    return await wait_for(probe, within=40)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_agent_pdf_and_photo_reach_the_customer(
    matrix_desk: MakeDesk, encrypted: bool
) -> None:
    desk = await matrix_desk(encrypted=encrypted)
    root = await desk.customer_opens_thread()
    pdf_event = await desk.send_file(
        root,
        PDF,
        name=f"Rechnung_{CUSTOMER}.pdf",
        mime="application/pdf",
        caption="Ihre Rechnung",
    )
    await desk.send_file(root, phone_photo(), name="foto.jpg", mime="image/jpeg", msgtype="m.image")

    document, image = await received(desk, 2)
    assert document["type"] == "document"
    content = document["content"]
    assert isinstance(content, dict)
    assert content["caption"] == "Ihre Rechnung"
    assert content["filename"].endswith(".pdf")
    assert CUSTOMER not in content["filename"] and CUSTOMER[-6:] not in content["filename"]
    assert sha256(desk.media_bytes(str(document["media_id"]))) == sha256(PDF)

    assert image["type"] == "image"
    photo = desk.media_bytes(str(image["media_id"]))
    assert metadata_left(photo) == []
    assert upright(photo)
    assert "caption" not in image["content"]  # type: ignore[operator]

    if not encrypted:  # reactions in an encrypted room are encrypted too
        view = RoomView(desk.room.homeserver, desk.room.agent, desk.room.room_id)

        async def ticked() -> list[str] | None:
            marks = reactions_on(await view.events(), pdf_event)
            return marks if {"✓", "✓✓", "👁"} & set(marks) else None

        assert await wait_for(ticked, within=30)
    # The agent named the file after the number; nothing the bot posted repeats it (in an
    # encrypted room: as the agent's client decrypted it).
    bot = desk.room.bot.user_id
    assert leaks([e for e in desk.seen.values() if e.get("sender") == bot], CUSTOMER) == []


async def test_files_whatsapp_cannot_take_are_explained_not_sent(matrix_desk: MakeDesk) -> None:
    desk = await matrix_desk(media={"max_bytes": {"document": "10KB"}})
    root = await desk.customer_opens_thread()
    await desk.send_file(
        root, b"PK\x03\x04" + os.urandom(500), name="daten.zip", mime="application/zip"
    )
    # Declares 2 KB, but has 40 KB: the download stops at the cap, nothing is sent.
    await desk.send_file(root, PDF, name="gross.pdf", mime="application/pdf", declared_size=2_000)
    zip_refused, pdf_refused = await refusals(desk, root, 2)
    assert "daten.zip" in zip_refused and "application/zip" in zip_refused
    assert "gross.pdf" in pdf_refused and "10 KB" in pdf_refused
    assert desk.received() == []


async def test_explicit_mode_sends_a_file_only_with_send(matrix_desk: MakeDesk) -> None:
    desk = await matrix_desk(privacy={"reply_mode": "explicit"})
    root = await desk.customer_opens_thread()
    await desk.send_file(root, PDF, name="intern.pdf", mime="application/pdf")
    await desk.send_file(root, PDF, name="entwurf.pdf", mime="application/pdf", caption="zur Info")
    await desk.send_file(
        root, PDF, name="angebot.pdf", mime="application/pdf", caption="!send Ihr Angebot"
    )
    # Events are handled in order and a customer's sends run in order: had the first two
    # been sent, they would be there before the third.
    (sent,) = await received(desk, 1)
    assert sent["content"]["filename"] == "angebot.pdf"  # type: ignore[index]
    assert sent["content"]["caption"] == "Ihr Angebot"  # type: ignore[index]
