"""Objection (Art. 21): a stop keyword silences everything Empfang sends on its own, START
lifts it; through the production wiring on a manual clock (``tests.alerts.desk``)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.clock import ManualClock
from bot.config import PrivacySection
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.store import Store
from tests.alerts.desk import Desk, at

FRIDAY_EVENING = at("2026-11-27 20:00")
OFFICE = {"weekly": {day: ["08:00-18:00"] for day in ("monday", "tuesday", "wednesday")}}
AWAY = "Wir sind ab Montag 8 Uhr wieder da."
NOTICE = "Datenschutzhinweis: https://example.com/datenschutz"
CONFIRMATION = "Sie erhalten keine automatischen Nachrichten mehr. START hebt das auf."
CUSTOMER = "4915112345678"
_ids = itertools.count(1)


async def open_desk(target: Path | str, start: float, **privacy: object) -> Desk:
    store = await Store.open(target, clock=ManualClock(start))
    return Desk(
        store,
        "",
        hours={**OFFICE, "out_of_hours_reply": AWAY},
        first_contact_notice=NOTICE,
        privacy=dict(privacy),
    )


def sent(desk: Desk) -> list[str]:
    return [text for _, text in desk.whatsapp.sent]


async def audit_actions(desk: Desk) -> list[tuple[str, str, str | None]]:
    async with desk.store.transaction() as tx:
        rows = await tx.audit.rows()
    return [(r.action, r.actor, r.subject) for r in rows if r.action.startswith("privacy.")]


async def test_stop_blocks_first_contact_notice_and_out_of_hours_reply(
    store_target: Path | str,
) -> None:
    desk = await open_desk(store_target, FRIDAY_EVENING, stop_confirmation=CONFIRMATION)
    await desk.customer_says("  stopp ")  # any case, trimmed
    await desk.customer_says("Wann haben Sie geöffnet?")
    assert sent(desk) == [CONFIRMATION], "neither the notice nor the out-of-hours reply"
    thread = await desk.thread()
    root = desk.chat.roots[thread]
    assert any(line.startswith("🛑 Objected on 27.11. 20:00") for line in root.lines)
    assert any("wrote “stopp” and so objected" in post for post in desk.chat.posts[thread])
    async with desk.store.transaction() as tx:
        contact = await tx.contacts.get(1)
    assert contact is not None and contact.objected_at == FRIDAY_EVENING
    assert await audit_actions(desk) == [("privacy.objection", "customer", contact.pseudonym)]
    await desk.customer_says("STOP")  # objected already: no second confirmation or row
    assert sent(desk) == [CONFIRMATION]
    assert len(await audit_actions(desk)) == 1
    await desk.store.close()


async def test_start_lifts_the_objection(store_target: Path | str) -> None:
    desk = await open_desk(store_target, FRIDAY_EVENING)
    await desk.customer_says("Abmelden")
    (confirmation,) = sent(desk)
    assert confirmation.startswith("You will receive no more automatic messages")
    await desk.advance_to(at("2026-11-28 20:00"))  # Saturday: an auto-reply would be due
    await desk.customer_says("start")  # the notice owed since the first contact, the reply
    assert sent(desk) == [confirmation, NOTICE, AWAY]
    thread = await desk.thread()
    assert any("the objection is lifted" in post for post in desk.chat.posts[thread])
    assert not any(line.startswith("🛑") for line in desk.chat.roots[thread].lines)
    await desk.customer_says("Hallo?")
    assert sent(desk) == [confirmation, NOTICE, AWAY], "one out-of-hours reply a day"
    actions = [action for action, _, _ in await audit_actions(desk)]
    assert actions == ["privacy.objection", "privacy.objection_lifted"]
    await desk.store.close()


async def test_an_auto_reply_queued_before_the_stop_is_withheld(store_target: Path | str) -> None:
    """Two messages in one webhook: the out-of-hours reply for the first is queued behind
    the STOP and must not reach the customer who has objected meanwhile."""
    desk = await open_desk(store_target, FRIDAY_EVENING, stop_confirmation=CONFIRMATION)
    now = int(desk.clock.now())
    messages = tuple(
        InboundMessage(
            provider_id=ProviderMessageId(f"wamid.objection{next(_ids)}"),
            sender=Sender(wa_id=WaId(CUSTOMER)),
            timestamp=now + offset,
            kind=MessageKind.TEXT,
            text=text,
        )
        for offset, text in enumerate(["Hallo", "STOP"])
    )
    await desk.intake.accept(WebhookBatch(messages=messages))
    await desk.pool.run_until_idle()
    assert sent(desk) == [CONFIRMATION]
    await desk.store.close()


async def test_an_agent_may_answer_and_is_told_what_the_objection_means(
    store_target: Path | str,
) -> None:
    desk = await open_desk(store_target, at("2026-11-30 10:00"), stop_confirmation=CONFIRMATION)
    await desk.customer_says("STOP")
    await desk.customer_says("Ist meine Bestellung unterwegs?")
    await desk.agent_says("Ja, sie kommt morgen.")
    await desk.agent_says("Die Sendungsnummer folgt.")
    assert sent(desk) == [CONFIRMATION, "Ja, sie kommt morgen.", "Die Sendungsnummer folgt."]
    posts = desk.chat.posts[await desk.thread()]
    notes = [post for post in posts if "Your reply is sent because it answers" in post]
    assert len(notes) == 1, "explained once, at the first reply after the objection"
    await desk.store.close()


def test_a_word_cannot_both_stop_and_start() -> None:
    with pytest.raises(ValidationError, match="share"):
        PrivacySection(stop_keywords=["STOP", "Start"], start_keywords=["START"])
