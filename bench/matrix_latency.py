"""Webhook acknowledged → event visible in the Matrix room, against a local Synapse.

Starts a throwaway Synapse and the bot as its own process (``bench/synapse_rig.py``), then
sends N signed customer webhooks straight at the bot, one after the other and paced, and
watches the room through the agent's /sync. Prints p50/p99/max of the delay from the bot's
200 to the agent's client seeing the event, and the bot's resident memory after.
``bench/matrix_sweep.py`` is the open-loop counterpart at several rates.

    .venv/bin/python bench/matrix_latency.py [--messages 200] [--rate 10] [--customers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import rig
from synapse_rig import synapse_bench


async def main(messages: int, rate: float, customers: int) -> None:
    acked: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="empfang-bench-") as workdir:
        async with synapse_bench(Path(workdir)) as bench:
            url = rig.webhook_url(bench.bot.url)
            async with aiohttp.ClientSession() as session:
                for index in range(messages):
                    request = rig.SignedWebhook(index, rig.customer(index % customers))
                    status = await request.post(session, url)
                    assert status == 200, status
                    acked[index] = time.monotonic()
                    await asyncio.sleep(1 / rate)
            await bench.wait_seen(range(messages), within=60)
            memory = rig.rss_mib(bench.bot.pid)
            seen = dict(bench.seen)
    delays = [(seen[k] - acked[k]) * 1000 for k in acked if k in seen]
    print(rig.machine())
    print(
        f"messages: {messages} from {customers} customers at {rate:g}/s; "
        f"visible in room: {len(delays)}"
    )
    print(
        f"ack → visible in room (ms): p50 {statistics.median(delays):.1f}, "
        f"p99 {rig.percentile(delays, 0.99):.1f}, max {max(delays):.1f}"
    )
    print(f"bot resident memory after the run: {memory:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="webhooks per second")
    parser.add_argument("--customers", type=int, default=10, help="distinct senders")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.rate, args.customers))
