"""A case system that is down delays its transfers, never the chat; they arrive later."""

from __future__ import annotations

from bot.job_catalog import CASE_TRANSFER
from bot.store import Store
from tests.cases.conftest import WEBHOOK_SECRET, Desk, Receiver, sinks_from


def webhook(receiver: Receiver) -> dict[str, str]:
    return {"type": "webhook", "name": "crm", "url": receiver.url, "secret": WEBHOOK_SECRET}


async def test_chat_unaffected_while_the_sink_is_down_then_transfers_arrive(
    store: Store, receiver: Receiver
) -> None:
    desk = Desk(store, sinks_from(webhook(receiver)), max_attempts=20)
    receiver.down = True
    await desk.customer_says("Erste")
    await desk.drain()
    desk.clock.advance(5)
    await desk.customer_says("Zweite")
    await desk.drain()
    await desk.agent_says("Antwort")
    await desk.drain()
    desk.clock.advance(5)
    await desk.drain()

    thread = await desk.thread_of()
    assert desk.chat.posts[thread] == ["Erste", "Zweite"]
    assert [text for _, text in desk.whatsapp.sent] == ["Antwort"]
    jobs = await desk.jobs()
    assert [job for job in jobs if job.kind != "case.transfer"] == [], "chat jobs all done"
    transfers = [job for job in jobs if job.kind == "case.transfer"]
    assert len(transfers) == 4 and {job.state for job in transfers} == {"pending"}
    assert transfers[0].attempts > 1, "the head of the line was retried"
    assert receiver.events == [] and await desk.ledger() == []

    receiver.down = False
    await desk.settle()
    await desk.close()
    assert [e["event"] for e in receiver.events] == [
        "opened",
        "message_in",
        "message_in",
        "message_out",
    ]
    ledger = await desk.ledger()
    assert ledger[0].attempts > 2 and all(row.outcome == "delivered" for row in ledger)
    assert desk.alerts == []


async def test_an_outage_longer_than_the_attempts_alerts_once_and_resolves(
    store: Store, receiver: Receiver
) -> None:
    desk = Desk(store, sinks_from(webhook(receiver)), max_attempts=2)
    receiver.down = True
    await desk.customer_says("Hallo")
    for _ in range(6):
        await desk.drain()
        desk.clock.advance(10)
    receiver.down = False
    await desk.settle()
    await desk.close()
    assert [row.outcome for row in await desk.ledger()] == ["delivered", "delivered"]
    outage = [key.split(":", 1)[1] for _, _, key in desk.chat.alerts if ":op-outage-" in key]
    kind = CASE_TRANSFER.name
    assert outage == [f"op-outage-{kind}-up", f"op-outage-{kind}-down"]


async def test_sink_down_for_good_is_waited_out_then_dead_lettered_and_alerted(
    store: Store, receiver: Receiver
) -> None:
    """A sink answering 503 is an outage: its transfers use up no attempts while they wait
    (on-call hears of it once, when the attempts would have run out), and are dead-lettered
    only after ``jobs.outage_patience``."""
    desk = Desk(store, sinks_from(webhook(receiver)), max_attempts=3, outage_patience=600)
    receiver.down = True
    await desk.customer_says("Hallo")
    await desk.settle(step=60)
    await desk.close()
    assert desk.chat.posts[await desk.thread_of()] == ["Hallo"]
    ledger = await desk.ledger()
    assert [(row.event, row.outcome) for row in ledger] == [
        ("opened", "dead_lettered"),
        ("message_in", "dead_lettered"),
    ]
    assert ledger[0].attempts > 3, "an outage used up no attempts"
    outage_alerts = [key for _, _, key in desk.chat.alerts if ":op-outage-" in key]
    assert [key.split(":", 1)[1] for key in outage_alerts] == [f"op-outage-{CASE_TRANSFER.name}-up"]
    assert len(desk.alerts) == 2
    assert {alert.key for alert in desk.alerts} == {
        f"case-dead-{row.transfer_id}" for row in ledger
    }
    assert all(
        "HTTP 503" in alert.text and ledger[0].pseudonym in alert.text for alert in desk.alerts
    )
