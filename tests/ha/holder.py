"""A replica reduced to its leader lease, in a process of its own so a test can SIGKILL it:
``python -m tests.ha.holder URL TAKEOVER_SECONDS REPLICA`` prints ``leading <term>`` when it
leads, ``lost <term>`` when it stops leading, and holds on until killed."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import asyncpg

from bot.ha.leader import LeaderLease
from bot.ha.timing import LeaseTiming

REPO = Path(__file__).parents[2]


class Holder:
    """The process, as a test sees it: what it says, and its pid for signals."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        self.process = process
        self.pid = process.pid
        self._stdout = process.stdout

    async def says(self, within: float) -> str:
        """Its next line (``leading 1``, ``lost 1``)."""
        return (await asyncio.wait_for(self._stdout.readline(), within)).decode().strip()


@asynccontextmanager
async def holding(url: str, takeover_seconds: float, replica: str) -> AsyncIterator[Holder]:
    """A holder process for the duration of the block; killed at its end if still alive."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.ha.holder", url, str(takeover_seconds), replica,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield Holder(process)
    finally:
        if process.returncode is None:
            with suppress(ProcessLookupError):  # died meanwhile
                process.kill()
        await process.wait()


async def hold(url: str, takeover_seconds: float, replica: str) -> None:
    lease = LeaderLease(
        functools.partial(asyncpg.connect, url),
        replica=replica,
        timing=LeaseTiming(takeover_seconds),
    )
    async with lease.running():
        while True:
            term = await lease.acquired()
            print(f"leading {term}", flush=True)
            lost = asyncio.Event()
            unregister = lease.on_lost(lost.set)
            await lost.wait()
            unregister()
            print(f"lost {term}", flush=True)


if __name__ == "__main__":
    asyncio.run(hold(sys.argv[1], float(sys.argv[2]), sys.argv[3]))
