"""A worker process for the crash test: ``python -m tests.integration.crash_worker DB LOG MODE``.

MODE ``hang``: enqueue one job, lease it and hang inside the handler (to be killed -9).
MODE ``finish``: run whatever is due, for up to 20 s, logging each job id it completes.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.jobs import WorkerPool
from bot.store import Store
from bot.store.jobs import Job


def _append(path: Path, line: str) -> None:
    with path.open("a") as fh:
        fh.write(line)


async def main(db: Path, log: Path, mode: str) -> None:
    store = await Store.open(db)

    async def hang(job: Job) -> None:
        await asyncio.to_thread(log.write_text, f"started {job.id}\n")
        await asyncio.sleep(3600)

    async def finish(job: Job) -> None:
        await asyncio.to_thread(_append, log, f"done {job.id} attempt {job.attempts}\n")

    if mode == "hang":
        async with store.transaction() as tx:
            await tx.jobs.enqueue("relay", '{"message_id":1}', now=tx.clock.now(), order_key="c:1")
        pool = WorkerPool(store, {"relay": hang}, workers=1, lease_seconds=1.0)
        await pool.run_once()
        return
    pool = WorkerPool(store, {"relay": finish}, workers=1, lease_seconds=1.0, idle_poll_seconds=0.1)
    pool.start()
    for _ in range(200):
        async with store.transaction() as tx:
            if not await tx.jobs.counts():
                break
        await asyncio.sleep(0.1)
    await pool.stop()
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
