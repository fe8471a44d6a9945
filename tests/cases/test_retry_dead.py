"""``empfang jobs retry`` on a case transfer that failed for good: once the case system is
back, the transfer arrives, and the ledger keeps both outcomes (first dead, then delivered)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import cli
from bot.store import Store
from tests.cases.conftest import Desk, Receiver, sinks_from
from tests.cases.test_outage import webhook
from tests.support.store import store_toml


async def test_a_retried_dead_transfer_is_delivered_and_ledgered_again(
    store: Store, receiver: Receiver, tmp_path: Path, store_target: Path | str
) -> None:
    desk = Desk(store, sinks_from(webhook(receiver)), max_attempts=3, outage_patience=60)
    receiver.down = True
    await desk.customer_says("Hallo")
    await desk.settle(step=60)
    assert [job.state for job in await desk.jobs()] == ["dead", "dead"]
    receiver.down = False
    config = tmp_path / "empfang.toml"
    config.write_text(store_toml(store_target))
    assert (
        await asyncio.to_thread(cli.main, ["jobs", "retry", "--all-dead", "--config", str(config)])
        == 0
    )
    await desk.settle()
    await desk.close()
    assert await desk.jobs() == []
    assert [e["event"] for e in receiver.events] == ["opened", "message_in"]
    ledger = await desk.ledger()
    assert [(row.event, row.outcome) for row in ledger] == [
        ("opened", "dead_lettered"),
        ("message_in", "dead_lettered"),
        ("opened", "delivered"),
        ("message_in", "delivered"),
    ]
    assert len({row.transfer_id for row in ledger}) == 4, "a retried transfer is a new one"
