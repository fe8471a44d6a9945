"""Group commit: concurrent webhooks share transactions, and one bad item fails alone."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.group_commit import GroupCommitter
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.job_catalog import MessageJob, contact_order_key
from bot.store import Store


async def test_waiting_items_share_one_commit_and_each_gets_its_result() -> None:
    groups: list[list[int]] = []

    async def many(items: list[int]) -> list[int]:
        groups.append(items)
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    async def one(item: int) -> int:
        return item * 10

    committer: GroupCommitter[int, int] = GroupCommitter(many, one)
    results = await asyncio.gather(*(committer.submit(n) for n in range(50)))
    assert results == [n * 10 for n in range(50)]
    assert len(groups) < 50 and sorted(n for group in groups for n in group) == list(range(50))


async def test_a_failing_item_fails_alone() -> None:
    async def many(items: list[int]) -> list[int]:
        if 3 in items:
            raise ValueError("group contains a bad item")
        return items

    async def one(item: int) -> int:
        if item == 3:
            raise ValueError("bad item")
        return item

    committer: GroupCommitter[int, int] = GroupCommitter(many, one)
    results = await asyncio.gather(*(committer.submit(n) for n in range(6)), return_exceptions=True)
    assert results[:3] == [0, 1, 2] and results[4:] == [4, 5]
    assert isinstance(results[3], ValueError)


SECOND_NUMBER = "106540352249999"


def batch(n: int, sender: str, *, user_id: str | None = None, number: str = "") -> WebhookBatch:
    return WebhookBatch(
        messages=(
            InboundMessage(
                provider_id=ProviderMessageId(f"wamid.g{n}"),
                sender=Sender(wa_id=WaId(sender), user_id=user_id, profile_name=f"P{n}"),
                timestamp=1,
                kind=MessageKind.TEXT,
                text=f"m{n}",
                number_id=number,
            ),
        )
    )


async def rows(store: Store, query: str) -> list[tuple[Any, ...]]:
    async with store.transaction() as tx:
        return [tuple(row) for row in await tx.conn.fetchall(query)]


async def jobs_with_messages(store: Store) -> list[tuple[str, str, str]]:
    """(order key, the message's provider id, the order key expected) per job, in job
    order: the payload must be what ``bot.job_catalog`` writes for the message (compact
    JSON), and the key that of the customer at the number written to."""
    messages = {
        int(m_id): (str(provider_id), int(contact_id), InboundMessage.model_validate_json(body))
        for m_id, provider_id, contact_id, body in await rows(
            store, "SELECT id, provider_id, contact_id, body FROM messages"
        )
    }
    found = []
    for payload, order_key in await rows(store, "SELECT payload, order_key FROM jobs ORDER BY id"):
        message_id = json.loads(payload)["message_id"]
        provider_id, contact_id, message = messages[message_id]
        job = MessageJob(message_id=message_id, contact_id=contact_id, number_id=message.number_id)
        assert payload == job.model_dump_json()
        found.append(
            (str(order_key), provider_id, contact_order_key(contact_id, message.number_id))
        )
    return found


async def test_concurrent_deliveries_are_all_stored_once_with_one_job_each(
    store_target: Path | str,
) -> None:
    store = await Store.open(store_target)
    intake = Intake(store, pseudonym_key=b"group-commit-test-key-123")
    senders = [f"49151000000{n % 7:02d}" for n in range(200)]
    # Every customer writes to both numbers: a job queue per customer and number.
    deliveries = [batch(n, senders[n], number=SECOND_NUMBER * (n % 2)) for n in range(200)]
    deliveries += deliveries[:50]  # Meta redelivers some
    deliveries.append(batch(999, "4915100000099", user_id="US.1"))  # a BSUID user
    try:
        results = await asyncio.gather(*(intake.accept(b) for b in deliveries))
        assert sum(r.new_messages for r in results) == 201
        assert sum(r.duplicates for r in results) == 50
        assert await rows(store, "SELECT count(*) FROM messages") == [(201,)]
        assert await rows(store, "SELECT count(*) FROM contacts") == [(8,)]
        jobs = await jobs_with_messages(store)
    finally:
        await store.close()
    assert len(jobs) == 201
    assert all(order_key == expected for order_key, _, expected in jobs)
    assert len({order_key for order_key, _, _ in jobs}) == 7 * 2 + 1


def named(n: int, name: str | None) -> WebhookBatch:
    message = batch(n, "4915100000001").messages[0]
    sender = Sender(wa_id=WaId("4915100000001"), profile_name=name)
    return WebhookBatch(messages=(message.model_copy(update={"sender": sender}),))


async def test_a_known_customers_profile_name_follows_the_latest_message(
    store_target: Path | str,
) -> None:
    store = await Store.open(store_target)
    intake = Intake(store, pseudonym_key=b"group-commit-test-key-123")
    names = []
    try:
        for n, name in enumerate(["Anna", None, "Anna B.", "Anna B."]):
            await intake.accept(named(n, name))
            names.append((await rows(store, "SELECT profile_name FROM contacts"))[0][0])
    finally:
        await store.close()
    assert names == ["Anna", "Anna", "Anna B.", "Anna B."]


async def test_the_same_message_twice_in_one_group_is_stored_once(store_target: Path | str) -> None:
    store = await Store.open(store_target)
    intake = Intake(store, pseudonym_key=b"group-commit-test-key-123")
    try:
        await intake.accept(batch(0, "4915100000001"))  # an earlier delivery
        group = [batch(1, "4915100000001"), batch(1, "4915100000001"), batch(0, "4915100000001")]
        results = await asyncio.gather(*(intake.accept(b) for b in group))
        assert sum(r.new_messages for r in results) == 1
        assert sum(r.duplicates for r in results) == 2
        assert await rows(store, "SELECT count(*) FROM messages") == [(2,)]
        assert await rows(store, "SELECT count(*) FROM jobs") == [(2,)]
    finally:
        await store.close()


@pytest.mark.parametrize("concurrent", [1, 32])
async def test_per_customer_order_of_jobs_follows_arrival(
    store_target: Path | str, concurrent: int
) -> None:
    store = await Store.open(store_target)
    intake = Intake(store, pseudonym_key=b"group-commit-test-key-123")
    try:
        for start in range(0, 64, concurrent):
            await asyncio.gather(
                *(
                    intake.accept(batch(n, "4915100000001"))
                    for n in range(start, start + concurrent)
                )
            )
        order = [provider_id for _, provider_id, _ in await jobs_with_messages(store)]
    finally:
        await store.close()
    assert order == [f"wamid.g{n}" for n in range(64)]


async def test_a_cancelled_caller_neither_stops_its_commit_nor_the_others() -> None:
    committed: list[int] = []
    release = asyncio.Event()

    async def many(items: list[int]) -> list[int]:
        await release.wait()
        committed.extend(items)
        return items

    async def one(item: int) -> int:
        return item

    committer: GroupCommitter[int, int] = GroupCommitter(many, one)
    first = asyncio.create_task(committer.submit(0))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(committer.submit(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    waiting[1].cancel()
    release.set()
    assert await first == 0
    assert await waiting[0] == 1 and await waiting[2] == 3
    assert waiting[1].cancelled()
    assert sorted(committed) == [0, 1, 2, 3]


async def test_texts_come_back_from_the_bulk_path_exactly(store_target: Path | str) -> None:
    texts = ["Grüße 🙂 𝄞", 'quote " backslash \\ tab \t', "nul \x00 inside", "\u202e rtl"]
    store = await Store.open(store_target)
    intake = Intake(store, pseudonym_key=b"group-commit-test-key-123")
    deliveries = []
    for n, text in enumerate(texts):
        message = batch(n, "4915100000001").messages[0].model_copy(update={"text": text})
        deliveries.append(WebhookBatch(messages=(message,)))
    await asyncio.gather(*(intake.accept(d) for d in deliveries))
    async with store.transaction() as tx:
        rows = [
            await tx.messages.by_provider_id(ProviderMessageId(f"wamid.g{n}"))
            for n in range(len(texts))
        ]
    await store.close()
    sender = Sender(wa_id=WaId("4915100000001"))
    assert [row.inbound(sender).text for row in rows if row is not None] == texts
