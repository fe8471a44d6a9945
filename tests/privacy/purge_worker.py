"""A purge process for the kill -9 test: ``python -m tests.privacy.purge_worker DB MODE``.

MODE ``slow``: the production purge, each batch after a pause (so it can be killed mid-run).
MODE ``finish``: the production purge until its run is audited (at most 30 s).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.config import RetentionSection
from bot.job_catalog import RETENTION_PURGE
from bot.jobs import JobHandler, WorkerPool
from bot.retention import RetentionPurge
from bot.store import Store
from bot.store.jobs import Job
from tests.cases.doubles import RecordingChat

BATCH = 100


async def main(db: Path, mode: str) -> None:
    store = await Store.open(db)
    purge = RetentionPurge(store, RetentionSection(), RecordingChat(), batch=BATCH)
    name, run_batch = RETENTION_PURGE.bind(purge.run_batch)

    async def slow(job: Job) -> None:
        await asyncio.sleep(0.2)
        await run_batch(job)

    handler: JobHandler = slow if mode == "slow" else run_batch
    pool = WorkerPool(store, {name: handler}, workers=1, lease_seconds=1.0, idle_poll_seconds=0.05)
    await purge.ensure_scheduled()
    pool.start()
    for _ in range(300):
        async with store.transaction() as tx:
            if await tx.audit.where("action", "retention.purge"):
                break
        await asyncio.sleep(0.1)
    await pool.stop()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
