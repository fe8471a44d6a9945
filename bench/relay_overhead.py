"""Relay overhead: webhook sent → chat post received by a zero-latency Matrix or Slack fake.

The bot is ``bot.app.Empfang`` as ``empfang run`` composes it, in its own process, on a fresh
SQLite file (``synchronous = full``). The chat platform is a fake in a second process that
answers at once: ``bench/fake_matrix.py`` (the real Matrix adapter and matrix-nio against
it) or ``bench/fake_slack.py`` (HTTP mode, each post echoed to the bot as Slack does, no
rate limit, and the adapter's one-post-per-second pacing set to 0, so this measures the
relay rather than Slack's limit).
The driver (a third process) sends signed webhooks open loop: each at its slot, whatever
earlier answers took, and times every message from its slot to the post that carries it.

1. **Fixed rate** (run second): ``--rate`` msgs/s spread round-robin over
   ``--conversations`` customers for ``--seconds``; posts are awaited ``--drain`` s after.
2. **Ramp** (run first): ``--ramp`` rates, ``--step-seconds`` each, the queue drained
   between steps; the saturation point is the highest rate whose posts still follow the
   offered rate (≥ 95 % of it posted within the step and a second after).

    .venv/bin/python bench/relay_overhead.py [--platform matrix|slack|both] [--rate 200]
        [--seconds 60] [--conversations 1000] [--ramp 25,50,100,150,200,300,400] [--step-seconds 10]
        [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import rig
from procstat import process_cpu_seconds

FOLLOWING = 0.95
"""Share of the offered rate that must be posted for a ramp step to count as keeping up."""


@dataclass
class Step:
    rate: float
    seconds: float
    sent: int
    acked: int
    posted_in_time: int
    latencies_ms: list[float]
    bot_cpu: float
    fake_cpu: float
    late: int
    cpu_ms_per_message: float
    """The bot's CPU time from the first send until the last post, per message: what a
    relayed message costs, and less disturbed by other load than the latencies."""
    steal: float
    """Percent of the machine's CPU time the hypervisor gave to other guests meanwhile."""

    @property
    def posted_rate(self) -> float:
        return self.posted_in_time / self.seconds

    @property
    def follows(self) -> bool:
        return self.posted_in_time >= FOLLOWING * self.sent and self.acked == self.sent

    def row(self) -> str:
        lat = self.latencies_ms
        return (
            f"{self.rate:8.0f} {self.sent / self.seconds:8.0f} {self.posted_rate:8.0f} "
            f"{rig.percentile(lat, 0.5):8.1f} {rig.percentile(lat, 0.99):8.1f} "
            f"{max(lat, default=float('nan')):8.0f} {self.bot_cpu:6.0f}% {self.fake_cpu:5.0f}% "
            f"{self.late:6d} {self.cpu_ms_per_message:8.2f} {self.steal:6.1f}%"
        )


HEADER = (
    "    rate   sent/s posted/s   p50 ms   p99 ms   max ms    bot   fake   late  CPU ms   steal\n"
    "                 (in step)   (slot → post received)       CPU of one core     /msg"
)


async def step(
    stack: rig.Stack,
    first_index: int,
    rate: float,
    seconds: float,
    conversations: int,
    drain: float,
) -> Step:
    """Send ``rate`` msgs/s for ``seconds``, then wait up to ``drain`` s for the posts."""
    traffic = rig.Traffic()
    count = round(rate * seconds)
    indices = range(first_index, first_index + count)
    messages = ((i, rig.customer(i % conversations)) for i in indices)
    cpu_before = process_cpu_seconds(stack.bot.pid), process_cpu_seconds(stack.fake.pid)
    steal = rig.Steal()
    started = time.monotonic()
    async with rig.Sender(stack.bot.url, traffic) as sender:
        await sender.send(messages, rate)
    window = time.monotonic() - started
    bot_cpu = 100 * (process_cpu_seconds(stack.bot.pid) - cpu_before[0]) / window
    fake_cpu = 100 * (process_cpu_seconds(stack.fake.pid) - cpu_before[1]) / window
    posted = await stack.posted(indices, within=drain)
    cpu_per_message = 1000 * (process_cpu_seconds(stack.bot.pid) - cpu_before[0]) / max(count, 1)
    in_time = sum(1 for at in posted.values() if at <= started + seconds + 1.0)
    latencies = [(posted[i] - traffic.scheduled[i]) * 1000 for i in posted]
    return Step(
        rate, seconds, count, len(traffic.acked), in_time, latencies, bot_cpu, fake_cpu,
        traffic.late, cpu_per_message, steal.percent(),
    )  # fmt: skip


async def bench_platform(platform: rig.Platform, args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="empfang-relay-") as workdir:
        jobs = {"workers": args.workers} if args.workers else {}
        async with rig.running(platform, Path(workdir), jobs=jobs) as stack:
            print(f"\n{platform}: ramp ({args.step_seconds:g} s per step, queue drained between)")
            print(HEADER, flush=True)
            first = 0
            saturation = None
            for rate in args.ramp:
                ramp = await step(stack, first, rate, args.step_seconds, args.conversations, 60.0)
                first += ramp.sent
                print(ramp.row(), flush=True)
                await rig.drained(stack.bot.store, within=300.0)
                if not ramp.follows:
                    break
                saturation = rate
            ceiling = "below the first step" if saturation is None else f"{saturation:g} msgs/s"
            print(f"{platform}: saturation point (last step followed): {ceiling}")
            print(f"\n{platform}: fixed rate ({args.seconds:g} s)")
            probed = rig.speed_probe()
            fixed = await step(
                stack, first, args.rate, args.seconds, args.conversations, args.drain
            )
            after = rig.speed_probe()
            print(HEADER)
            print(fixed.row(), flush=True)
            print(f"host speed probe: {probed:.1f} ms of CPU before, {after:.1f} after")
            print(f"posted {len(fixed.latencies_ms)}/{fixed.sent} within {args.drain:g} s after")
            left = rig.queued_jobs(stack.bot.store)
        print(f"{platform}: jobs left in the queue after the run: {left or 'none'}")
        ok = not any("dead" in k for k in left)
    return 0 if ok else 1


async def main(args: argparse.Namespace) -> int:
    print(rig.machine())
    platforms: list[rig.Platform] = (
        ["matrix", "slack"] if args.platform == "both" else [args.platform]
    )
    print(
        f"relay overhead: {args.rate:g} msgs/s over {args.conversations} conversations for "
        f"{args.seconds:g} s, then the ramp {','.join(f'{r:g}' for r in args.ramp)}"
    )
    status = 0
    for platform in platforms:
        status |= await bench_platform(platform, args)
    return status


def rates(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--platform", choices=["matrix", "slack", "both"], default="both")
    parser.add_argument("--rate", type=float, default=200.0, help="msgs/s of the fixed run")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the fixed run")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--ramp", type=rates, default=rates("25,50,100,150,200,300,400"))
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--drain", type=float, default=120.0, help="s to wait for posts")
    parser.add_argument("--workers", type=int, default=0, help="jobs.workers (0: the default)")
    sys.exit(asyncio.run(main(parser.parse_args())))
