"""On-call in German (``[ui] language = "de"``): reminders, escalation, pages, the window
warning and the thread note about the first-contact notice, through the production wiring."""

from __future__ import annotations

from pathlib import Path

from bot.clock import ManualClock
from bot.store import Store
from bot.texts import GERMAN
from tests.alerts.desk import Desk, PagingReceiver, at

MONDAY_10 = at("2026-11-30 10:00")


async def test_oncall_speaks_german(tmp_path: Path, pager: PagingReceiver) -> None:
    store = await Store.open(tmp_path / "alerts.sqlite3", clock=ManualClock(MONDAY_10))
    notice = "Hinweise zum Datenschutz: https://example.com/datenschutz"
    desk = Desk(
        store,
        pager.url,
        texts=GERMAN,
        first_contact_notice=notice,
        alerts={"unanswered_after": "10m", "escalate_after": "1h30m"},
        hours={"urgent_keywords": ["Notfall"]},
    )
    await desk.customer_says("Notfall! Bitte melden")
    thread = await desk.thread()
    assert f"ℹ️ Datenschutzhinweis gesendet: {notice}" in desk.chat.posts[thread]
    assert [(to, text) for to, text in desk.whatsapp.sent] == [("4915112345678", notice)]
    urgent = desk.alert_texts()[0]
    assert urgent.startswith("🚨 @oncall:example.org Dringende Nachricht von K-")
    assert pager.events[0]["payload"]["summary"].startswith("Dringende WhatsApp-Nachricht von K-")

    await desk.advance_to(MONDAY_10 + 11 * 60)
    assert desk.alert_texts()[-1].endswith(" wartet seit 10 Min. auf eine Antwort.")
    await desk.advance_to(MONDAY_10 + 91 * 60)
    assert "Eskaliert: K-" in desk.alert_texts()[-1]
    assert desk.alert_texts()[-1].endswith(" wartet seit 1 Std. 30 Min. auf eine Antwort.")
    assert pager.events[-1]["payload"]["summary"].endswith(" seit 1 Std. 30 Min. ohne Antwort")

    await desk.advance_to(MONDAY_10 + 23 * 3600 + 60)
    assert desk.alert_texts()[-1].startswith(
        "⌛ @oncall:example.org Das 24-Stunden-Fenster von WhatsApp schließt um 10:00 Uhr "
        "(Europe/Berlin)"
    )
    await store.close()
