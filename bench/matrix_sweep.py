"""Matrix saturation: an open-loop rate sweep against a local Synapse.

For each rate (default 10, 25, 50, 100 msgs/s) the driver sends signed webhooks from
``--customers`` customers for ``--seconds``, each at its slot whatever earlier answers took
(``rig.Sender``), and the agent's client watches the room (``bench/synapse_rig.py``). Per
step: webhook slot → visible to the agent, p50/p99, and the CPU of the bot and of Synapse
over the sending window, in % of one core. The step where Synapse's CPU nears a full core
(its main loop is single-threaded) while the bot's does not is where Synapse, not Empfang,
becomes the limit. The queue drains between steps, so each step starts empty.

    .venv/bin/python bench/matrix_sweep.py [--rates 10,25,50,100] [--seconds 20]
        [--customers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import rig
from procstat import process_cpu_seconds
from synapse_rig import SynapseBench, synapse_bench

DRAIN_SECONDS = 120.0


async def sweep_step(
    bench: SynapseBench, first: int, rate: float, seconds: float, customers: int
) -> str:
    traffic = rig.Traffic()
    indices = range(first, first + round(rate * seconds))
    pids = (bench.bot.pid, bench.synapse_pid, os.getpid())
    before = [process_cpu_seconds(pid) for pid in pids]
    started = time.monotonic()
    async with rig.Sender(bench.bot.url, traffic, connections=64) as sender:
        await sender.send(((i, rig.customer(i % customers)) for i in indices), rate)
    window = time.monotonic() - started
    cpu = [
        100 * (process_cpu_seconds(pid) - b) / window for pid, b in zip(pids, before, strict=True)
    ]
    seen = await bench.wait_seen(indices, within=DRAIN_SECONDS)
    drained = time.monotonic() - started
    delays = [(bench.seen[i] - traffic.scheduled[i]) * 1000 for i in indices if i in bench.seen]
    return (
        f"{rate:6g} {len(indices):6d} {seen:6d} {rig.percentile(delays, 0.5):8.0f} "
        f"{rig.percentile(delays, 0.99):8.0f} {max(delays, default=float('nan')):8.0f} "
        f"{drained:7.1f} {cpu[0]:5.0f}% {cpu[1]:6.0f}% {cpu[2]:5.0f}% {traffic.late:5d}"
    )


async def main(args: argparse.Namespace) -> int:
    print(rig.machine())
    print(
        f"matrix sweep: {args.customers} customers, {args.seconds:g} s per rate, "
        "local Synapse (SQLite), bot and Synapse in their own processes"
    )
    print("  rate   sent   seen   p50 ms   p99 ms   max ms  done s   bot synapse driver  late")
    print("                      (slot → visible to the agent)            CPU of one core")
    with tempfile.TemporaryDirectory(prefix="empfang-sweep-") as workdir:
        async with synapse_bench(Path(workdir)) as bench:
            first = 0
            for rate in args.rates:
                print(
                    await sweep_step(bench, first, rate, args.seconds, args.customers), flush=True
                )
                first += round(rate * args.seconds)
            left = rig.queued_jobs(bench.bot.store)
            memory = rig.rss_mib(bench.bot.pid)
    print(f"bot resident memory after the sweep: {memory:.0f} MiB")
    print(f"jobs left in the queue: {left or 'none'}")
    return 1 if any("dead" in key for key in left) else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rates",
        type=lambda text: [float(part) for part in text.split(",") if part],
        default=[10.0, 25.0, 50.0, 100.0],
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="sending time per rate")
    parser.add_argument("--customers", type=int, default=20)
    sys.exit(asyncio.run(main(parser.parse_args())))
