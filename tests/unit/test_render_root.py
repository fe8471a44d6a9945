"""The thread root: masked identity, state, and when the 24-hour window closes."""

from __future__ import annotations

from dataclasses import replace

from pydantic import SecretStr

from bot.config import PrivacySection
from bot.render import thread_root
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow
from bot.texts import ENGLISH, GERMAN
from tests.numbers import CUSTOMER

CONTACT = ContactRow(1, CUSTOMER, None, "K-ABCDEFGH", f"Erika {CUSTOMER}", "DE", None)
PRIVACY = PrivacySection(pseudonym_key=SecretStr("x" * 20), show_profile_name=True)
MONDAY_10_BERLIN = 1_796_029_200.0  # 2026-11-30 10:00 CET


def conversation(**changes: object) -> ConversationRow:
    fields: dict[str, object] = {
        "id": 7,
        "contact_id": 1,
        "state": "open",
        "thread_id": "$root",
        "opened_at": MONDAY_10_BERLIN,
        "closed_at": None,
        "claimed_by": None,
        "last_customer_at": MONDAY_10_BERLIN,
        "last_agent_at": None,
    }
    fields.update(changes)
    return ConversationRow(**fields)  # type: ignore[arg-type]


def test_root_is_masked_and_shows_when_the_window_closes() -> None:
    root = thread_root(conversation(), CONTACT, PRIVACY, ENGLISH, "Europe/Berlin")
    assert root.title == "💬 K-ABCDEFGH · +49 ••• ••••••78"
    assert "WhatsApp window open until 01.12. 10:00 (Europe/Berlin)" in root.lines
    assert all(CUSTOMER not in line for line in (root.title, *root.lines))
    assert "Name on WhatsApp: Erika +49 ••• ••••••78" in root.lines


def test_claimed_then_closed_is_closed() -> None:
    root = thread_root(conversation(claimed_by="Anna", state="closed"), CONTACT, PRIVACY, ENGLISH)
    assert root.state == "closed" and "State: closed" in root.lines
    assert not any(line.startswith("WhatsApp window") for line in root.lines)
    claimed = thread_root(conversation(claimed_by="Anna"), CONTACT, PRIVACY, ENGLISH)
    assert claimed.state == "claimed" and "State: open, handled by Anna" in claimed.lines


def test_root_in_german() -> None:
    root = thread_root(conversation(), CONTACT, PRIVACY, GERMAN, "Europe/Berlin")
    assert root.lines == (
        "Name bei WhatsApp: Erika +49 ••• ••••••78",
        "Status: offen, noch nicht übernommen",
        "WhatsApp-Fenster offen bis 01.12. 10:00 Uhr (Europe/Berlin)",
        "Antworten in diesem Thread gehen per WhatsApp an den Kunden; !help zeigt die Befehle.",
    )
    withheld = replace(CONTACT, wa_id=None)
    assert thread_root(conversation(), withheld, PRIVACY, GERMAN).title == (
        "💬 K-ABCDEFGH · Nummer unterdrückt"
    )
