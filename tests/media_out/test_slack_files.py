"""An agent's files shared in a Slack thread reach the customer on the sandbox.

The bot fetches ``url_private_download`` from the fake Slack with its token (the fake
answers anyone else with the login page), checks and strips, and sends by media id.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_private_files import agent_shares_file
from tests.media.images import metadata_left, phone_photo, upright
from tests.media_out.conftest import sha256
from tests.media_out.test_matrix_files import PDF
from tests.numbers import CUSTOMER
from tests.slack.conftest import StartStack
from tests.slack.stack import AGENT, SlackStack, leaks, wait_for

CUSTOMER_PLUS = "+" + CUSTOMER


async def thread_with_customer(start_stack: StartStack, **sections: Any) -> tuple[SlackStack, str]:
    stack = await start_stack("socket", **sections)
    stack.say(CUSTOMER_PLUS, "Hallo, meine Rechnung?", name="Erika")
    return stack, await stack.thread_of(CUSTOMER_PLUS)


def media_bytes(stack: SlackStack, message: dict[str, Any]) -> bytes:
    assert stack.sandbox is not None
    item = stack.sandbox.media.get(str(message["media_id"]))
    assert item is not None
    return item.content


async def test_agent_pdf_and_photo_from_slack_reach_the_customer(start_stack: StartStack) -> None:
    stack, thread = await thread_with_customer(start_stack)
    pdf_ts = await agent_shares_file(
        stack.fake,
        thread,
        AGENT,
        filename=f"Rechnung_{CUSTOMER}.pdf",
        content=PDF,
        comment="Ihre Rechnung",
    )
    await agent_shares_file(stack.fake, thread, AGENT, filename="foto.jpg", content=phone_photo())

    inbox = await wait_for(
        lambda: (found := stack.inbox(CUSTOMER)) and len(found) >= 2 and found, 30
    )
    document, image = inbox
    assert document["type"] == "document"
    assert document["content"]["caption"] == "Ihre Rechnung"
    assert CUSTOMER[-6:] not in document["content"]["filename"]
    assert sha256(media_bytes(stack, document)) == sha256(PDF)
    assert image["type"] == "image"
    photo = media_bytes(stack, image)
    assert metadata_left(photo) == [] and upright(photo)

    ticks = {"heavy_check_mark", "white_check_mark", "eyes"}  # sent, delivered, read
    await wait_for(lambda: ticks & set(stack.fake.reactions(pdf_ts)), 15)
    assert leaks(stack.fake.wire_text(), [CUSTOMER]) == []


async def test_a_file_slack_cannot_hand_over_is_explained(start_stack: StartStack) -> None:
    stack, thread = await thread_with_customer(start_stack)
    await agent_shares_file(
        stack.fake, thread, AGENT, filename="drive-link.pdf", content=PDF, mode="external"
    )

    def explained() -> str | None:
        return next((line for line in stack.lines(thread) if line.startswith("❌")), None)

    line = await wait_for(explained, 30)
    assert "drive-link.pdf" in line
    await stack.settled()
    assert stack.inbox(CUSTOMER) == []


async def test_audio_takes_no_caption_so_the_text_follows(start_stack: StartStack) -> None:
    stack, thread = await thread_with_customer(start_stack)
    audio = b"ID3" + bytes(4000)
    await agent_shares_file(
        stack.fake, thread, AGENT, filename="ansage.mp3", content=audio, comment="Hören Sie mal"
    )
    sound, text = await wait_for(
        lambda: len(stack.inbox(CUSTOMER)) >= 2 and stack.inbox(CUSTOMER), 30
    )
    assert sound["type"] == "audio" and "caption" not in sound["content"]
    assert sha256(media_bytes(stack, sound)) == sha256(audio)
    assert (text["type"], text["text"]) == ("text", "Hören Sie mal")


async def test_several_files_in_one_message_go_one_by_one(start_stack: StartStack) -> None:
    stack, thread = await thread_with_customer(start_stack)
    await agent_shares_file(
        stack.fake,
        thread,
        AGENT,
        filename="seite1.pdf",
        content=PDF,
        comment="Beide Seiten",
        more=[("daten.zip", b"PK\x03\x04" + bytes(100)), ("seite2.pdf", PDF[::-1])],
    )

    def refused() -> str | None:
        return next((line for line in stack.lines(thread) if line.startswith("❌")), None)

    assert "daten.zip" in await wait_for(refused, 30)  # no mark of its own: a notice says it
    await stack.settled()
    first, second = stack.inbox(CUSTOMER)
    assert first["content"]["filename"] == "seite1.pdf"
    assert first["content"]["caption"] == "Beide Seiten"
    assert second["content"]["filename"] == "seite2.pdf" and "caption" not in second["content"]


async def test_a_file_stub_is_completed_with_files_info(start_stack: StartStack) -> None:
    stack, thread = await thread_with_customer(start_stack)
    await agent_shares_file(
        stack.fake, thread, AGENT, filename="angebot.pdf", content=PDF, comment="Anbei", stub=True
    )
    await wait_for(lambda: stack.inbox(CUSTOMER), 30)
    (document,) = stack.inbox(CUSTOMER)
    assert document["type"] == "document"
    assert (document["content"]["filename"], document["content"]["caption"]) == (
        "angebot.pdf",
        "Anbei",
    )
    assert sha256(media_bytes(stack, document)) == sha256(PDF)
    assert stack.fake.calls("files.info")
