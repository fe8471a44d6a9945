"""Takeover time after SIGKILL of the leader, measured: ``python -m tests.ha.takeover_times
[--kills 10] [--takeover 15]`` starts a throwaway PostgreSQL and two lease holders in
processes of their own (``tests.ha.holder``), kills the leader with SIGKILL, measures until
the other prints that it leads, starts a new follower, and so on (each kill at a random
moment of the heartbeat); prints p50 and max."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
from contextlib import AsyncExitStack

from tests.ha.holder import holding
from tests.support.postgres import postgres_cluster


async def measure(url: str, kills: int, takeover: float) -> list[float]:
    loop = asyncio.get_running_loop()
    moments = random.Random(14)  # a random moment in the heartbeat, the same each run
    times = []
    async with AsyncExitStack() as stack:
        leader = await stack.enter_async_context(holding(url, takeover, "r0"))
        assert (await leader.says(within=30)).startswith("leading")
        for n in range(1, kills + 1):
            follower = await stack.enter_async_context(holding(url, takeover, f"r{n}"))
            # the follower started and tried at least once; then anywhere in a heartbeat
            await asyncio.sleep(takeover / 5 * (2 + moments.random()))
            os.kill(leader.pid, signal.SIGKILL)
            killed_at = loop.time()
            assert (await follower.says(within=2 * takeover)).startswith("leading")
            times.append(loop.time() - killed_at)
            print(f"kill {n}: {times[-1]:.2f}s", flush=True)
            leader = follower
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--takeover", type=float, default=15.0)
    args = parser.parse_args()
    with postgres_cluster() as cluster:
        times = asyncio.run(measure(cluster.url(), args.kills, args.takeover))
    print(
        f"takeover_seconds {args.takeover:g}: p50 {statistics.median(times):.2f}s,"
        f" max {max(times):.2f}s over {len(times)} SIGKILLs"
    )


if __name__ == "__main__":
    main()
