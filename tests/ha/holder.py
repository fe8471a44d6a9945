"""A replica reduced to its leader lease, in a process of its own so a test can SIGKILL it:
``python -m tests.ha.holder URL TAKEOVER_SECONDS REPLICA`` prints ``leading <term>`` when it
leads, ``lost <term>`` when it stops leading, and holds on until killed."""

from __future__ import annotations

import asyncio
import functools
import sys

import asyncpg

from bot.ha.leader import LeaderLease
from bot.ha.timing import LeaseTiming


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
