"""What the bot keeps per customer is bounded: memory held after many distinct customers
must not grow with their number (issue 16: soak growth ≤ 10 MB over 100,000 conversations).

Measured as what is still held after the work (objects, or bytes allocated by the module
under test), not as time."""

from __future__ import annotations

import gc
import re
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot import privacy
from bot.domain import InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.jobs import WorkerPool
from bot.store import Store
from bot.store.jobs import Job

MiB = 2**20


@contextmanager
def retained_by(*filenames: str) -> Iterator[Callable[[], int]]:
    """Bytes allocated from ``filenames`` (path suffixes) that are still held at the end."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    held = 0

    def result() -> int:
        return held

    try:
        yield result
    finally:
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        held = sum(
            stat.size_diff
            for stat in after.compare_to(before, "filename")
            if stat.traceback[0].filename.endswith(filenames)
        )


def customer(n: int) -> str:
    return f"49151{n:08d}"


def live_patterns() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, re.Pattern))


def test_sender_patterns_stay_bounded_after_thousands_of_customers() -> None:
    """Each customer's own number is found with a pattern compiled for them (~9 KiB each:
    with 4,096 kept, 1,200 customers held ~11 MiB of patterns)."""
    before = live_patterns()
    for n in range(1_200):
        text = f"Meine Nummer ist +{customer(n)}"
        assert privacy.SenderNumberDetector(customer(n)).find(text)
    kept = live_patterns() - before
    assert kept <= 600, f"{kept} compiled patterns still held"


async def test_intake_keeps_few_identities_after_many_customers(tmp_path: Path) -> None:
    """Pseudonym and region of recent senders are cached (~150 bytes each); 20,000 senders
    held 2.6 MiB while 50,000 were kept."""
    senders = 20_000
    store = await Store.open(tmp_path / "identities.sqlite3")
    try:
        taking = Intake(store, pseudonym_key=b"memory-test-pseudonym-key-0123")
        with retained_by("bot/intake.py", "bot/privacy.py") as held:
            for first in range(0, senders, 500):
                batch = WebhookBatch(
                    messages=tuple(
                        InboundMessage(
                            provider_id=ProviderMessageId(f"wamid.memory{n}"),
                            sender=Sender(wa_id=WaId(customer(n)), profile_name="Kunde"),
                            timestamp=1_796_000_000,
                            kind=MessageKind.TEXT,
                            text="Hallo",
                        )
                        for n in range(first, first + 500)
                    )
                )
                assert (await taking.accept(batch)).new_messages == 500
        assert held() < 1.2 * MiB, f"{held() / MiB:.1f} MiB held by the intake"
    finally:
        await store.close()


async def test_jobs_the_worker_completes_are_not_remembered(tmp_path: Path) -> None:
    """The store remembers which jobs a handler completed in its own transaction until the
    worker asks (``Store.completed``). A job the worker completed itself was remembered and
    never asked about: one id per job for as long as the bot ran."""
    store = await Store.open(tmp_path / "jobs.sqlite3")
    ran: list[Job] = []

    async def work(job: Job) -> None:
        ran.append(job)

    try:
        async with store.transaction() as tx:
            for n in range(50):
                await tx.jobs.enqueue("work", "{}", now=tx.clock.now(), order_key=f"c{n}")
        pool = WorkerPool(store, {"work": work}, workers=1)
        assert await pool.run_until_idle() == 50
        remembered = [job.id for job in ran if store.completed(job)]
        assert remembered == []
    finally:
        await store.close()
