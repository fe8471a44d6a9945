"""The retention purge: due data leaves the store, held conversations stay, counts are audited,
and a batch that runs twice changes nothing (the production wiring, a manual clock)."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.config import RetentionSection
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.job_catalog import RETENTION_PURGE
from bot.retention import RetentionPurge
from bot.store import Store
from tests.cases.conftest import Desk
from tests.numbers import CUSTOMER, CUSTOMER_2, CUSTOMER_3
from tests.support.store import peek

DAY = 86_400.0
START = 1_800_000_000.0


async def purges(db: Path | str) -> list[dict[str, Any]]:
    rows = await peek(
        db, "SELECT details FROM audit_log WHERE action = 'retention.purge' ORDER BY id"
    )
    return [json.loads(row[0]) for row in rows]


async def purge_now(desk: Desk) -> None:
    """What ``empfang run`` does at start, then the workers: timers first, then the purge."""
    await desk.drain()
    await desk.wired.purge.ensure_scheduled()
    await desk.drain()


async def test_due_data_goes_held_and_recent_data_stays(store_target: Path | str) -> None:
    db = store_target
    store = await Store.open(db, clock=ManualClock(START))
    desk = Desk(store)
    try:
        await desk.customer_says("A: alte Anfrage")
        await desk.customer_says("B: Streitfall", number=CUSTOMER_2)
        await desk.settle()
        await desk.agent_says("Antwort an A")
        await desk.agent_says("!close")
        await desk.agent_says("!hold Klage 2027-3", number=CUSTOMER_2)
        await desk.agent_says("!close", number=CUSTOMER_2)
        await desk.settle()
        desk.clock.advance(85 * DAY)
        await desk.customer_says("C: neue Frage", number=CUSTOMER_3)
        await desk.settle()
        desk.clock.advance(15 * DAY)  # day 100: A and B are due, C is not
        await purge_now(desk)
        first = await purges(db)
        contacts = {row[0] for row in await peek(db, "SELECT wa_id FROM contacts")}
        bodies = await peek(
            db,
            "SELECT k.wa_id, m.body IS NOT NULL FROM messages m JOIN contacts k"
            " ON k.id = m.contact_id ORDER BY m.id",
        )
        desk.clock.advance(300 * DAY)  # day 400: A's contact has been inactive for a year
        await desk.drain()
        second = (await purges(db))[1:]
    finally:
        await desk.close()
        await store.close()
    assert first == [
        {
            "message_bodies": 2,
            "media_references": 0,
            "media_copies": 0,
            "messages_deleted": 2,
            "conversations": 1,
            "contacts": 0,
            "chat_threads_queued": 0,
            "chat_threads_not_redacted": 1,
            "chat_posts_queued": 0,
            "chat_posts_kept": 0,
            "agents_replies_removable": False,
            "held_conversations": 1,
            "batches": 5,
        }
    ]
    assert contacts == {CUSTOMER, CUSTOMER_2, CUSTOMER_3}, "A's contact outlives its messages"
    assert bodies == [(CUSTOMER_2, True), (CUSTOMER_3, True)], "A's gone, B held, C recent"
    assert [(p["contacts"], p["message_bodies"], p["conversations"]) for p in second] == [(1, 1, 0)]
    assert {row[0] for row in await peek(db, "SELECT wa_id FROM contacts")} == {
        CUSTOMER_2,
        CUSTOMER_3,
    }
    assert await peek(
        db,
        "SELECT body IS NULL FROM messages m JOIN contacts k ON k.id = m.contact_id"
        f" WHERE k.wa_id = '{CUSTOMER_3}'",
    ) == [(1,)]
    assert await peek(db, "SELECT count(*) FROM jobs WHERE kind = 'retention.purge'") == [(1,)]


async def run_by_hand(purge: RetentionPurge, store: Store) -> int:
    """One run, job by job as a worker would, each batch twice (its lease ran out after
    the commit); returns how many batches it took. Other kinds of jobs are left alone."""
    await purge.ensure_scheduled()
    steps = 0
    while True:
        async with store.transaction() as tx:
            [info] = await tx.jobs.listing(state="pending", kind=RETENTION_PURGE.name)
            job = await tx.jobs.get(info.id)
        assert job is not None
        payload = RETENTION_PURGE.parse(job)
        if payload.step == 0 and steps:
            return steps  # the next day's run: this one is done
        await purge.run_batch(job, payload)
        await purge.run_batch(job, payload)
        async with store.transaction() as tx:
            await tx.jobs.complete(job)
        steps += 1


async def test_a_message_a_job_still_needs_is_kept_until_the_job_is_done(
    store_target: Path | str,
) -> None:
    db = store_target
    store = await Store.open(db, clock=ManualClock(START))
    desk = Desk(store)
    try:
        await desk.customer_says("wartet noch auf den Chat")  # its relay job is still queued
        desk.clock.advance(100 * DAY)
        purge = RetentionPurge(store, RetentionSection(), desk.chat)
        await run_by_hand(purge, store)
        kept = await peek(db, "SELECT body IS NOT NULL FROM messages")
        await desk.drain()  # the chat is back: the message is posted
        desk.clock.advance(DAY)
        await desk.drain()  # and on-call's timers about it have fired
        await run_by_hand(purge, store)
    finally:
        await desk.close()
        await store.close()
    assert kept == [(1,)]
    assert await peek(db, "SELECT body IS NULL FROM messages") == [(1,)]
    counted = [p["message_bodies"] for p in await purges(db)]
    assert counted[0] == 0 and counted[-1] == 1 and sum(counted) == 1


async def test_small_batches_resume_and_a_repeated_batch_changes_nothing(
    store_target: Path | str,
) -> None:
    db = store_target
    store = await Store.open(db, clock=ManualClock(START))
    desk = Desk(store)
    try:
        for n in range(7):
            await desk.customer_says(f"Nachricht {n}")
        await desk.settle()
        desk.clock.advance(91 * DAY)
        await desk.drain()
        steps = await run_by_hand(
            RetentionPurge(store, RetentionSection(), desk.chat, batch=2), store
        )
    finally:
        await desk.close()
        await store.close()
    [audit] = await purges(db)
    assert audit["message_bodies"] == 7 and audit["batches"] == steps
    assert steps == 4 + 1 + 1 + 1, "four message batches of 2, then media, conversations, contacts"
    assert await peek(db, "SELECT count(*) FROM messages WHERE body IS NOT NULL") == [(0,)]


ROOT = Path(__file__).parents[2]
MESSAGES = 1000


async def spawn(db: Path, mode: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.privacy.purge_worker", str(db), mode, cwd=ROOT
    )


async def test_a_purge_killed_mid_run_completes_on_restart(tmp_path: Path) -> None:
    db = tmp_path / "empfang.sqlite3"
    written = time.time() - 200 * DAY  # the workers run on the system clock
    store = await Store.open(db, clock=ManualClock(written))
    intake = Intake(store, pseudonym_key=b"purge-test-pseudonym-key-0123")
    messages = tuple(
        InboundMessage(
            provider_id=ProviderMessageId(f"wamid.purge{n}"),
            sender=Sender(wa_id=WaId(CUSTOMER)),
            timestamp=int(written),
            kind=MessageKind.TEXT,
            text=f"Nachricht {n}",
        )
        for n in range(MESSAGES)
    )
    await intake.accept(WebhookBatch(messages=messages))
    await store.close()
    with sqlite3.connect(db) as conn:  # as if the relay had posted them long ago
        conn.execute("DELETE FROM jobs")
    first = await spawn(db, "slow")
    for _ in range(300):
        if await peek(db, "SELECT step FROM retention_runs WHERE step >= 2"):
            break
        await asyncio.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    [(step, finished)] = await peek(db, "SELECT step, finished_at FROM retention_runs")
    assert 2 <= step < MESSAGES // 100 and finished is None, "killed in the middle"
    assert await purges(db) == []
    second = await spawn(db, "finish")
    assert await asyncio.wait_for(second.wait(), 60) == 0
    [audit] = await purges(db)
    assert audit["message_bodies"] == MESSAGES, "every body once, none twice"
    assert await peek(db, "SELECT count(*) FROM messages WHERE body IS NOT NULL") == [(0,)]
    assert await peek(db, "SELECT count(*) FROM retention_runs WHERE finished_at IS NULL") == [(0,)]
