"""E-mail sink against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import itertools
import re
from typing import Any

from bot.store import Store
from tests.cases.conftest import Desk, Mailbox, sinks_from
from tests.numbers import CUSTOMER

DIGITS_OF_CUSTOMER = re.compile(
    r"1\D{0,3}5\D{0,3}1\D{0,3}1\D{0,3}2\D{0,3}3\D{0,3}4\D{0,3}5\D{0,3}6"
)


def mail_table(mailbox: Mailbox, **keys: Any) -> dict[str, Any]:
    return {
        "type": "email",
        "name": "mail",
        "host": "127.0.0.1",
        "port": mailbox.port,
        "security": "none",
        "from_addr": "empfang@firma.example",
        "to_addr": "support@helpdesk.example",
        **keys,
    }


async def conversation(desk: Desk) -> None:
    await desk.customer_says("Rückruf bitte unter 0151 12345678")
    await desk.settle()
    await desk.agent_says("Wir rufen heute an")
    await desk.settle()
    await desk.agent_says("!close")
    await desk.settle()


async def test_one_thread_per_conversation_by_headers(store: Store, smtp: Mailbox) -> None:
    desk = Desk(store, sinks_from(mail_table(smtp)))
    await conversation(desk)
    await desk.close()
    mails = smtp.messages
    assert len(mails) == 4
    ids = [mail["Message-ID"] for mail in mails]
    assert len(set(ids)) == 4 and all(i.endswith("@firma.example>") for i in ids)
    root = mails[0]
    assert root["In-Reply-To"] is None and root["References"] is None
    pseudonym = (await desk.ledger())[0].pseudonym
    assert root["Subject"] == f"WhatsApp {pseudonym} (conversation 1)"
    for previous, mail in itertools.pairwise(mails):
        assert mail["In-Reply-To"] == previous["Message-ID"]
        references = mail["References"].split()
        assert references[0] == ids[0] and references[-1] == previous["Message-ID"]
        assert mail["Subject"] == f"Re: WhatsApp {pseudonym} (conversation 1)"
    assert {mail["Auto-Submitted"] for mail in mails} == {"auto-generated"}
    assert [mail["X-Empfang-Event"] for mail in mails] == [
        "opened",
        "message_in",
        "message_out",
        "closed",
    ]


async def test_pseudonym_instead_of_number(store: Store, smtp: Mailbox) -> None:
    desk = Desk(store, sinks_from(mail_table(smtp)))
    await conversation(desk)
    await desk.close()
    pseudonym = (await desk.ledger())[0].pseudonym
    for mail in smtp.messages:
        text = mail.as_string()
        assert not DIGITS_OF_CUSTOMER.search(text)
        assert pseudonym in mail.get_content()
    assert "Rückruf bitte unter +49 ••• ••••••78" in smtp.messages[1].get_content()


async def test_include_phone_puts_the_number_in(store: Store, smtp: Mailbox) -> None:
    desk = Desk(store, sinks_from(mail_table(smtp, include_phone=True)))
    await conversation(desk)
    await desk.close()
    body = smtp.messages[1].get_content()
    assert f"Phone: +{CUSTOMER}" in body
    assert "Rückruf bitte unter 0151 12345678" in body
    assert "phone" in (await desk.ledger())[1].categories.split(",")


async def test_temporary_refusal_is_retried_with_the_same_message_id(
    store: Store, smtp: Mailbox
) -> None:
    desk = Desk(store, sinks_from(mail_table(smtp)))
    smtp.temporary_failures = 2
    await desk.customer_says("Hallo")
    await desk.settle()
    await desk.close()
    assert [m["X-Empfang-Event"] for m in smtp.messages] == ["opened", "message_in"]
    assert [(row.event, row.attempts) for row in await desk.ledger()] == [
        ("opened", 3),
        ("message_in", 1),
    ]
    link = await desk.sql("SELECT thread FROM case_links")
    assert smtp.messages[0]["Message-ID"] in link[0][0]


async def test_transcript_is_one_mail(store: Store, smtp: Mailbox) -> None:
    desk = Desk(store, sinks_from(mail_table(smtp, transfer="transcript")))
    await conversation(desk)
    await desk.close()
    (mail,) = smtp.messages
    body = mail.get_content()
    assert body.index("Rückruf bitte") < body.index("Wir rufen heute an")
    assert "Transcript of the closed conversation" in body


async def test_unreachable_server_is_retried(store: Store, smtp: Mailbox) -> None:
    desk = Desk(store, sinks_from(mail_table(smtp, port=1)))  # nothing listens on port 1
    await desk.customer_says("Hallo")
    await desk.drain()
    await desk.close()
    transfers = [job for job in await desk.jobs() if job.kind == "case.transfer"]
    assert transfers[0].state == "pending" and transfers[0].attempts == 1
    assert desk.chat.posts[await desk.thread_of()] == ["Hallo"]
