"""Customers' files reach the Slack thread through files v2: stripped, masked, explained.

The whole bot (``bot.app``) runs against the WhatsApp sandbox and the fake Slack; the
customer sends through the sandbox's driver, and what the fake received is checked: the
uploaded bytes, the names, the posts, and every request on the wire.
"""

from __future__ import annotations

import logging

import pytest

from bot.sandbox import payloads
from tests.fakes.slack_files import StoredFile
from tests.masking import leaked_digits
from tests.media.customer import (
    CAPTION,
    INVOICE_NAME,
    OGG,
    PDF,
    send_file,
    sticker,
)
from tests.media.images import metadata_left, phone_photo, upright
from tests.numbers import CUSTOMER, THIRD_PARTY
from tests.slack.conftest import StartStack
from tests.slack.stack import SlackStack, leaks, wait_for

CUSTOMER_PLUS = "+" + CUSTOMER


async def files_in_thread(stack: SlackStack, thread: str, count: int) -> list[StoredFile]:
    def arrived() -> list[StoredFile] | None:
        found = stack.fake.files.in_thread(thread)
        return found if len(found) >= count else None

    found: list[StoredFile] = await wait_for(arrived, 20)
    return found


async def test_customer_files_arrive_stripped_masked_and_in_order(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await start_stack("socket")
    assert stack.sandbox is not None
    photo = phone_photo()
    send_file(stack.sandbox, "image", photo, "image/jpeg", caption=CAPTION)
    send_file(
        stack.sandbox, "document", PDF, "application/pdf", filename=INVOICE_NAME, include_url=True
    )
    send_file(stack.sandbox, "audio", OGG, "audio/ogg; codecs=opus", voice=True)
    send_file(stack.sandbox, "sticker", sticker(), "image/webp")
    card = {"name": "Max Muster", "phone": f"+{THIRD_PARTY}"}
    stack.sandbox.send_message({"from": CUSTOMER_PLUS, "type": "contacts", "contacts": [card]})
    thread = await stack.thread_of(CUSTOMER_PLUS)

    image, document, voice, sticker_file = await files_in_thread(stack, thread, 4)

    assert image.content is not None and metadata_left(image.content) == []
    assert upright(image.content)
    assert image.filename == "photo.jpg"
    assert document.content == PDF  # documents travel unchanged
    assert leaked_digits(document.filename, THIRD_PARTY) is None
    assert document.filename.startswith("Rechnung_") and document.filename.endswith(".pdf")
    assert voice.filename == "voice-note.ogg" and voice.content == OGG
    assert sticker_file.filename == "sticker.webp"
    assert sticker_file.content is not None and metadata_left(sticker_file.content) == []
    lines = stack.lines(thread)
    assert any("Schaden am Paket" in line for line in lines)
    assert not any(THIRD_PARTY[-8:] in line for line in lines), lines
    # Nothing the bot sent to Slack shows a number: captions, names, titles, bodies.
    assert leaks(stack.fake.wire_text(), [CUSTOMER, THIRD_PARTY]) == []
    # The raw uploads carry no token (slack.md §4), and the spool is empty again.
    assert all("Authorization" not in headers for _, headers in stack.fake.files.uploads)
    await stack.settled()
    assert len(stack.fake.files.files) == 4  # the contact card stays text, never a vCard
    assert any(line.startswith("👤 Contact card: M. M. (+49") for line in stack.lines(thread)), (
        stack.lines(thread)
    )
    assert stack.settings is not None
    spool = stack.settings.store.path.resolve().parent / "media-spool"
    assert list(spool.iterdir()) == []
    assert not (spool.parent / "media-kept").exists()  # keep_days = 0: no copy at rest


async def test_refused_files_are_explained_and_nothing_is_uploaded(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await start_stack(
        "socket",
        media={"allowed_types": ["image/jpeg", "application/pdf"], "max_bytes": {"image": "1KB"}},
    )
    assert stack.sandbox is not None
    send_file(stack.sandbox, "image", phone_photo() + b"\x00" * 2000, "image/jpeg")
    send_file(stack.sandbox, "audio", OGG, "audio/ogg; codecs=opus", voice=True)
    thread = await stack.thread_of(CUSTOMER_PLUS)
    await stack.settled()

    notices = [line for line in stack.lines(thread) if "not shown here" in line]
    assert len(notices) == 2, stack.lines(thread)
    too_large, refused = notices
    assert "(image/jpeg, 4 KB)" in too_large and "larger than the 1 KB allowed" in too_large
    assert "(audio/ogg, 1 KB)" in refused and "type of file is not accepted" in refused
    assert stack.fake.files.files == {}
    assert stack.fake.calls("files.getUploadURLExternal") == []


async def test_a_failing_download_is_retried_then_explained_without_blocking_later_texts(
    fast_slack: None, start_stack: StartStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "empfang.jobs")
    stack = await start_stack("socket", jobs={"max_attempts": 3})
    assert stack.sandbox is not None
    send_file(stack.sandbox, "document", PDF, "application/pdf", download_fails=True)
    stack.say(CUSTOMER_PLUS, "Haben Sie meine Rechnung bekommen?")
    thread = await stack.thread_of(CUSTOMER_PLUS)
    await stack.settled()

    lines = stack.lines(thread)
    notice = next(line for line in lines if "not shown here" in line)
    assert "could not be fetched from WhatsApp" in notice
    assert lines.index("Haben Sie meine Rechnung bekommen?") < lines.index(notice)
    retries = [r for r in caplog.records if "kind=relay.media" in r.getMessage()]
    assert len(retries) == 2  # attempts 1 and 2 retried, the third explained (131052)
    assert all("131052" in r.getMessage() for r in retries)
    assert stack.fake.files.files == {}
    assert stack.rows("SELECT count(*) FROM jobs WHERE state = 'dead'") == [(0,)]


@pytest.mark.parametrize(
    ("stored", "digest_of"),
    [(PDF, b"what Meta says it sent"), (b"", b"")],
    ids=["digest-differs", "empty"],
)
async def test_a_damaged_download_is_retried_then_explained(
    fast_slack: None, start_stack: StartStack, stored: bytes, digest_of: bytes
) -> None:
    stack = await start_stack("socket", jobs={"max_attempts": 2})
    sandbox = stack.sandbox
    assert sandbox is not None
    item = sandbox.media.add(stored, "application/pdf", filename="Vertrag.pdf", inbound=True)
    content = payloads.document(
        item.media_id,
        mime_type="application/pdf",
        sha256=payloads.sha256_base64(digest_of),
        filename="Vertrag.pdf",
    )
    message = payloads.inbound_message(
        content,
        sender=CUSTOMER,
        wamid=payloads.new_wamid(CUSTOMER),
        timestamp=str(int(sandbox.clock.now())),
    )
    contact = payloads.contact_profile(CUSTOMER, "Erika")
    sandbox.post_webhook(payloads.messages_webhook(sandbox.business, [contact], [message]))
    thread = await stack.thread_of(CUSTOMER_PLUS)
    await stack.settled()

    notices = [line for line in stack.lines(thread) if "not shown here" in line]
    assert len(notices) == 1 and "«Vertrag.pdf» (application/pdf" in notices[0]
    assert stack.fake.files.files == {}


async def test_an_expired_webhook_url_falls_back_to_a_fresh_lookup(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await start_stack("socket")
    sandbox = stack.sandbox
    assert sandbox is not None
    item = sandbox.media.add(PDF, "application/pdf", filename="Vertrag.pdf", inbound=True)
    stale = sandbox.media.url_for(item, sandbox.base_url)
    sandbox.advance_clock(301)  # the URL the webhook carries is past its five minutes
    content = payloads.document(
        item.media_id,
        mime_type="application/pdf",
        sha256=payloads.sha256_base64(PDF),
        filename="Vertrag.pdf",
        url=stale,
    )
    message = payloads.inbound_message(
        content,
        sender=CUSTOMER,
        wamid=payloads.new_wamid(CUSTOMER),
        timestamp=str(int(sandbox.clock.now())),
    )
    contact = payloads.contact_profile(CUSTOMER, "Erika")
    sandbox.post_webhook(payloads.messages_webhook(sandbox.business, [contact], [message]))
    thread = await stack.thread_of(CUSTOMER_PLUS)

    (shared,) = await files_in_thread(stack, thread, 1)
    assert shared.content == PDF and shared.filename == "Vertrag.pdf"
