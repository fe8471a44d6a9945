"""A worker killed -9 while holding a job: a new process on the same database finishes it."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.crash_worker", *args, cwd=ROOT
    )


async def test_killed_worker_job_resumes_after_restart(tmp_path: Path) -> None:
    db, log = tmp_path / "crash.sqlite3", tmp_path / "worker.log"
    first = await spawn(str(db), str(log), "hang")
    for _ in range(200):
        if log.exists() and log.read_text().startswith("started"):
            break
        await asyncio.sleep(0.05)
    else:
        first.kill()
        raise AssertionError("worker never started the job")
    first.send_signal(signal.SIGKILL)
    await first.wait()
    job_id = log.read_text().split()[1]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (1,), "job survived"

    second = await spawn(str(db), str(log), "finish")
    assert await asyncio.wait_for(second.wait(), 30) == 0
    assert f"done {job_id} attempt 2" in log.read_text()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
