"""Soak and memory: many conversations through intake and relay, on the zero-latency fakes.

The bot (``bot.app.Empfang``, its own process, fresh SQLite file, ``synchronous = full``)
relays into the fake Matrix homeserver (``bench/fake_matrix.py``; the soak uses one chat
platform). The driver sends ``--per-conversation`` messages from each of
``--conversations`` customers, open loop at ``--rate`` msgs/s, in blocks of 1,000
conversations (each customer's messages about a second apart). At each milestone
(``--milestones``, plus the last conversation) it stops sending, waits until the relay has
worked off the queue, lets the bot idle and reads its resident memory.

Figures: RSS after start, at each milestone (idle, queue drained); the webhook's ack
latency (slot → 200) over every 60 s of sending, p50/p99/p99.9/max, with the worst window;
how long the relay took to catch up. SLA reminders are set to a day, so the timers of
thousands of unanswered conversations do not fire during the run (they would post real
reminders: another benchmark).

    .venv/bin/python bench/soak.py [--conversations 100000] [--per-conversation 3]
        [--rate 1000] [--milestones 10000]

With ``EMPFANG_BENCH_TRACEMALLOC=PREFIX`` in the environment the bot traces its allocations
and writes a snapshot at every RSS reading (``PREFIX.1.snap`` after start, then one per
milestone; see ``bot_process.py``): ``bench/heap_diff.py`` lists what grew between two.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import rig

BLOCK = 1_000
WINDOW_SECONDS = 60.0
IDLE_SECONDS = 5.0
RSS_IDLE_TARGET_MIB = 70.0
RSS_GROWTH_TARGET_MIB = 10.0
ACK_P999_TARGET_MS = 10.0


def messages(first: int, last: int, per_conversation: int) -> Iterator[tuple[int, str]]:
    """``(index, sender)`` for conversations ``first`` … ``last - 1``: block by block, each
    customer once per round, so a customer's messages are one block's time apart."""
    for block in range(first, last, BLOCK):
        members = range(block, min(block + BLOCK, last))
        for round_ in range(per_conversation):
            for conversation in members:
                yield conversation * per_conversation + round_, rig.customer(conversation)


def read_memory(pid: int, label: str, memory: list[tuple[str, float]]) -> None:
    """Note the bot's RSS under ``label``; with tracemalloc on, have it write a snapshot."""
    memory.append((label, rig.rss_mib(pid)))
    if os.environ.get("EMPFANG_BENCH_TRACEMALLOC"):
        os.kill(pid, signal.SIGUSR1)


def ack_stats(latencies: list[float]) -> str:
    return (
        f"p50 {rig.percentile(latencies, 0.5):6.2f}  p99 {rig.percentile(latencies, 0.99):6.2f}"
        f"  p99.9 {rig.percentile(latencies, 0.999):6.2f}  max {max(latencies, default=0):7.1f}"
    )


def windows(traffic: rig.Traffic) -> list[list[float]]:
    """Ack latencies grouped by the minute of sending they were scheduled in (pauses for
    draining are left out: a window is 60 s of sending)."""
    slots = sorted(traffic.scheduled.items(), key=lambda item: item[1])
    groups: list[list[float]] = [[]]
    sending, last = 0.0, None
    for index, slot in slots:
        gap = 0.0 if last is None else slot - last
        sending += gap if gap < 1.0 else 0.0
        last = slot
        if sending >= WINDOW_SECONDS * len(groups):
            groups.append([])
        if index in traffic.acked:
            groups[-1].append((traffic.acked[index] - slot) * 1000)
    return [group for group in groups if group]


async def soak(args: argparse.Namespace) -> int:
    milestones = sorted(
        {m for m in args.milestones if m < args.conversations} | {args.conversations}
    )
    traffic = rig.Traffic()
    memory: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="empfang-soak-") as workdir:
        sections = {"alerts": {"unanswered_after": "24h", "escalate_after": "48h"}}
        async with rig.running("matrix", Path(workdir), **sections) as stack:
            await asyncio.sleep(IDLE_SECONDS)
            read_memory(stack.bot.pid, "after start (idle)", memory)
            print(f"{memory[-1][0]}: {memory[-1][1]:.1f} MiB", flush=True)
            done = 0
            async with rig.Sender(stack.bot.url, traffic) as sender:
                for milestone in milestones:
                    started = time.monotonic()
                    await sender.send(messages(done, milestone, args.per_conversation), args.rate)
                    await sender.drain()
                    sent_for = time.monotonic() - started
                    caught_up = await rig.drained(stack.bot.store, within=args.drain_limit)
                    await asyncio.sleep(IDLE_SECONDS)
                    label = f"after {milestone:,} conversations (idle, queue drained)"
                    read_memory(stack.bot.pid, label, memory)
                    segment = range(done * args.per_conversation, milestone * args.per_conversation)
                    print(
                        f"{label}: {memory[-1][1]:.1f} MiB; sent {len(segment):,} msgs in "
                        f"{sent_for:.0f} s, relay caught up {caught_up:.0f} s later; acks "
                        f"{ack_stats(traffic.ack_ms(segment))}",
                        flush=True,
                    )
                    done = milestone
            left = rig.queued_jobs(stack.bot.store)
            store_mib = stack.bot.store.stat().st_size / 2**20
    return report(args, traffic, memory, left, store_mib)


def report(
    args: argparse.Namespace,
    traffic: rig.Traffic,
    memory: list[tuple[str, float]],
    left: dict[str, int],
    store_mib: float,
) -> int:
    every = traffic.ack_ms()
    per_window = windows(traffic)
    worst = max((rig.percentile(w, 0.999) for w in per_window), default=float("nan"))
    print(f"\nsent {sum(traffic.statuses.values()):,}, answers {dict(traffic.statuses)}, "
          f"late sends {traffic.late:,}")  # fmt: skip
    print(f"ack latency (slot → 200) over the whole soak: {ack_stats(every)}")
    print(
        f"ack p99.9 per 60 s of sending: worst {worst:.2f} ms over {len(per_window)} windows; "
        f"first window {ack_stats(per_window[0]) if per_window else '-'}"
    )
    for label, mib in memory:
        print(f"RSS {label}: {mib:.1f} MiB")
    idle, first, last = memory[0][1], memory[1][1], memory[-1][1]
    print(
        f"RSS idle after start {idle:.1f} MiB (target ≤ {RSS_IDLE_TARGET_MIB:g}); growth "
        f"start → end {last - idle:+.1f} MiB, first milestone → end {last - first:+.1f} MiB "
        f"(target ≤ {RSS_GROWTH_TARGET_MIB:g})"
    )
    print(f"store file {store_mib:.0f} MiB; jobs left: {left or 'none'}")
    return 0 if not any("dead" in key for key in left) else 1


async def main(args: argparse.Namespace) -> int:
    print(rig.machine())
    print(
        f"soak: {args.conversations:,} conversations × {args.per_conversation} messages at "
        f"{args.rate:g} msgs/s, Matrix (zero-latency fake)"
    )
    return await soak(args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--per-conversation", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1000.0, help="msgs/s while sending")
    parser.add_argument(
        "--milestones",
        type=lambda text: [int(part) for part in text.split(",") if part],
        default=[10_000],
        help="conversations after which memory is read (the last one always is)",
    )
    parser.add_argument("--drain-limit", type=float, default=3600.0, help="seconds")
    sys.exit(asyncio.run(main(parser.parse_args())))
