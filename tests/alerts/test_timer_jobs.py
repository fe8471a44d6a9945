"""On-call timers are one waiting job per conversation, moved by each customer message:
the queue grows with conversations, not with messages (issue 16, relay overhead)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.store import Store
from tests.alerts.desk import Desk, PagingReceiver, at

MONDAY_10 = at("2026-11-30 10:00")
ANNA, BERND = "4915112345678", "4915187654321"


@pytest.fixture
async def store(store_target: Path | str) -> AsyncIterator[Store]:
    """Closed also when a test fails: an open store keeps the interpreter from exiting."""
    opened = await Store.open(store_target, clock=ManualClock(MONDAY_10))
    yield opened
    await opened.close()


async def waiting_timers(store: Store) -> dict[str, int]:
    async with store.transaction() as tx:
        rows = await tx.conn.fetchall(
            "SELECT kind, count(*) FROM jobs WHERE kind LIKE 'alert.%' AND state = 'pending'"
            " GROUP BY kind"
        )
    return {str(kind): int(n) for kind, n in rows}


async def test_many_messages_leave_one_window_and_one_sla_timer_per_conversation(
    store: Store, pager: PagingReceiver
) -> None:
    desk = Desk(store, pager.url)
    for n in range(12):
        await desk.customer_says(f"Nachricht {n}", wa_id=ANNA)
        await desk.customer_says(f"Message {n}", wa_id=BERND)
        desk.clock.advance(30)
    assert await waiting_timers(store) == {"alert.window": 2, "alert.sla": 2}


async def test_a_later_customer_message_moves_the_window_warning(
    store: Store, pager: PagingReceiver
) -> None:
    desk = Desk(store, pager.url, alerts={"unanswered_after": "30h", "escalate_after": "40h"})
    await desk.customer_says("Bitte um Rückruf")
    await desk.advance_to(MONDAY_10 + 5 * 3600)
    await desk.customer_says("Noch einmal: bitte Rückruf")
    await desk.advance_to(MONDAY_10 + 23 * 3600 + 60)
    assert desk.alert_texts() == [], "the window moved with the second message"
    await desk.advance_to(MONDAY_10 + 28 * 3600 + 60)
    (warning,) = desk.alert_texts()
    assert "24-hour WhatsApp window closes at 15:00" in warning
    assert await waiting_timers(store) == {"alert.sla": 1}


async def test_a_timer_restarted_after_an_answer_reuses_the_waiting_job(
    store: Store, pager: PagingReceiver
) -> None:
    desk = Desk(store, pager.url)
    await desk.customer_says("Hallo")
    await desk.agent_says("Guten Tag!")
    await desk.advance_to(MONDAY_10 + 120)
    await desk.customer_says("Noch eine Frage")
    assert await waiting_timers(store) == {"alert.window": 1, "alert.sla": 1}
    await desk.advance_to(MONDAY_10 + 120 + 11 * 60)
    (reminder,) = desk.alert_texts()
    assert "waited 10 min" in reminder, "the moved timer reminds of the new question"
