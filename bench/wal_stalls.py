"""Where slow webhook acks come from: WAL checkpoints, slow WAL syncs, or something else.

Runs ``empfang run --intake-only`` (fresh store, ``--synchronous``, default full) under
``strace -f --seccomp-bpf`` (only the traced calls stop the process: ``pwrite64``,
``fdatasync``, ``fsync``), sends signed webhooks open loop at ``--rate`` for ``--seconds``
and then lines up every ack slower than ``--slow`` ms with what the store was doing:

- a **checkpoint**: from the first write into the database file to the end of that file's
  sync (SQLite writes the main file only when it checkpoints the WAL into it);
- a **slow WAL sync**: one ``fdatasync`` of the ``-wal`` file longer than ``--slow``;
- **neither**: the event loop, the sender, or the machine.

strace costs some time per traced call, so absolute figures are worse than without it;
the attribution is what this is for (bench/README.md, "WAL stalls"). ``--no-trace`` runs
the bot bare for the ack figures alone.

    .venv/bin/python bench/wal_stalls.py [--rate 1000] [--seconds 30] [--slow 10]
        [--synchronous full|normal] [--no-trace]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import ingest
import rig
from procstat import process_cpu_seconds

CALL = re.compile(
    r"^(?P<tid>\d+)\s+(?P<at>\S+) (?P<call>\w+)"
    r"\(\d+<(?P<path>[^>]+)>(?P<args>.*)<(?P<took>[\d.]+)>$"
)


@dataclass
class Span:
    start: float
    end: float
    pages: int = 0
    tid: int = 0
    committing: bool = False
    """A checkpoint run by a thread that also writes the WAL: inside a COMMIT, under the
    store's lock (SQLite's automatic checkpoint), not on the checkpointer's own thread
    (``bot.store.checkpointer``). The checkpointer's PASSIVE passes sync the database file
    only when they catch up with the WAL, so one of its spans covers several passes and
    is left out of the attribution."""

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000

    def overlaps(self, start: float, end: float) -> bool:
        return self.start <= end and start <= self.end


def parse_trace(trace: Path, day: str) -> tuple[list[Span], list[Span]]:
    """Checkpoints and WAL syncs from strace's output, in wall-clock seconds."""
    checkpoints: list[Span] = []
    syncs: list[Span] = []
    first_write: dict[int, float] = {}
    pages: dict[int, int] = {}
    writers: set[int] = set()
    for line in trace.read_text(errors="replace").splitlines():
        match = CALL.match(line.strip())
        if match is None:
            continue
        at = datetime.strptime(f"{day} {match['at']}", "%Y-%m-%d %H:%M:%S.%f").timestamp()
        took = float(match["took"])
        tid = int(match["tid"])
        wal = match["path"].endswith("-wal")
        if match["call"] == "pwrite64" and wal:
            writers.add(tid)
        elif match["call"] == "pwrite64" and match["path"].endswith(".sqlite3"):
            first_write.setdefault(tid, at)
            pages[tid] = pages.get(tid, 0) + 1
        elif match["call"] in ("fdatasync", "fsync"):
            if wal:
                syncs.append(Span(at, at + took, tid=tid))
            elif tid in first_write:
                checkpoints.append(Span(first_write.pop(tid), at + took, pages.pop(tid), tid))
    for checkpoint in checkpoints:
        checkpoint.committing = checkpoint.tid in writers
    return checkpoints, syncs


async def drive(url: str, rate: float, seconds: float, wal: Path) -> tuple[rig.Traffic, float, int]:
    """Send; returns the traffic, the offset from monotonic to wall-clock time and the
    largest size of the ``-wal`` file seen (it only grows while no checkpoint completes)."""
    traffic = rig.Traffic()
    offset = time.time() - time.monotonic()
    count = round(rate * seconds)
    largest = 0

    async def watch_wal() -> None:
        nonlocal largest
        while True:
            with contextlib.suppress(FileNotFoundError):
                largest = max(largest, os.stat(wal).st_size)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_wal())
    async with rig.Sender(url, traffic) as sender:
        await sender.send(((i, rig.customer(i % 5000)) for i in range(count)), rate)
    watcher.cancel()
    return traffic, offset, largest


class OtherCpu:
    """CPU used by every process but the bot and this sender (tests, other benchmarks on
    the same two cores), from /proc: a run with much of it is disturbed."""

    def __init__(self, bot: int) -> None:
        self._bot = bot
        self._start = self._sample()

    def _sample(self) -> tuple[float, float, float, float]:
        own = os.times()
        busy, _irq = ingest.busy_cpu_seconds()
        return time.monotonic(), busy, process_cpu_seconds(self._bot), own.user + own.system

    def stop(self) -> tuple[float, float]:
        """Other processes' CPU in % of a core, and the bot's CPU seconds meanwhile."""
        end = self._sample()
        at, busy, bot, own = (b - a for a, b in zip(self._start, end, strict=True))
        return 100 * (busy - bot - own) / at, bot


def stop_traced(strace: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the bot (strace's child: strace would only detach), then strace ends."""
    if strace.poll() is None:
        children = Path(f"/proc/{strace.pid}/task/{strace.pid}/children").read_text()
        for pid in children.split():
            os.kill(int(pid), signal.SIGTERM)
        strace.wait(60)


def stop_untraced(bot: subprocess.Popen[bytes]) -> None:
    if bot.poll() is None:
        bot.send_signal(signal.SIGTERM)
        bot.wait(60)


def main(args: argparse.Namespace) -> int:
    print(rig.machine())
    with tempfile.TemporaryDirectory(prefix="empfang-wal-") as workdir:
        work = Path(workdir)
        port = ingest.free_port()
        config = work / "bench.toml"
        db = work / "s.sqlite3"
        ingest.bot_config(config, port=port, db=db, secret=rig.SECRET, synchronous=args.synchronous)
        trace = work / "strace.txt"
        strace = ["strace", "-f", "--seccomp-bpf", "-tt", "-T", "-y", "-o", str(trace)]
        calls = ["-e", "trace=pwrite64,fdatasync,fsync"]
        tracing = [*strace, *calls] if args.trace else []
        bot = subprocess.Popen(
            [*tracing, *ingest.bot_argv(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=ingest.child_env(),
        )
        url = f"http://127.0.0.1:{port}"
        try:
            alive = lambda: bot.poll() is None  # noqa: E731
            asyncio.run(rig.wait_ready(url, 60, alive=alive))
            day = time.strftime("%Y-%m-%d")
            wal = db.with_name(db.name + "-wal")
            probed = rig.speed_probe()
            meter, steal = OtherCpu(bot.pid), rig.Steal()
            traffic, offset, wal_bytes = asyncio.run(drive(url, args.rate, args.seconds, wal))
            other, bot_cpu = meter.stop()
            host = (
                f"host: {steal.percent():.1f} % of the CPU time stolen while sending; speed"
                f" probe {probed:.1f} ms of CPU before, {rig.speed_probe():.1f} after"
            )
            inside = bot_side(url, args.slow)
        finally:
            stop_traced(bot) if args.trace else stop_untraced(bot)
        checkpoints, syncs = parse_trace(trace, day) if args.trace else ([], [])
    print(f"largest WAL file: {wal_bytes / 2**20:.1f} MiB")
    load = f"load average {Path('/proc/loadavg').read_text().strip()}"
    if args.trace:  # strace's own CPU would count as the bot's or as other work
        print(load)
    else:
        per_message = bot_cpu * 1000 / (args.rate * args.seconds)
        print(f"other CPU while sending: {other:.0f} % of a core; bot CPU {per_message:.3f} ms"
              f" per message; {load}")  # fmt: skip
    print(host)
    print(inside)
    return report(args, traffic, offset, checkpoints, syncs)


ACK_BUCKET = re.compile(r'^empfang_webhook_ack_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)


def bot_side(url: str, slow_ms: float) -> str:
    """The bot's own ack histogram (``empfang_webhook_ack_seconds``: body read → answer):
    how many acks the bot itself took longer than ``slow_ms`` for. Set against the
    sender's figures it tells the bot's share of a slow ack from the sender's and the
    kernel's (the sender shares the two cores)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    buckets = {float(le): float(count) for le, count in ACK_BUCKET.findall(text)}
    total = buckets.get(float("inf"), 0.0)
    within = max((count for le, count in buckets.items() if le <= slow_ms / 1000), default=0.0)
    share = 100 * (total - within) / total if total else 0.0
    return (
        f"bot side (its ack histogram): {total - within:,.0f} of {total:,.0f} acks over"
        f" {slow_ms:g} ms ({share:.3f} %; p99.9 under {slow_ms:g} ms needs <= 0.1 %)"
    )


def report(
    args: argparse.Namespace,
    traffic: rig.Traffic,
    offset: float,
    checkpoints: list[Span],
    syncs: list[Span],
) -> int:
    acks = traffic.ack_ms()
    print(
        f"{len(acks):,} acks at {args.rate:g}/s: p50 {rig.percentile(acks, 0.5):.2f}, "
        f"p99 {rig.percentile(acks, 0.99):.2f}, p99.9 {rig.percentile(acks, 0.999):.2f}, "
        f"max {max(acks, default=0):.1f} ms; late sends {traffic.late}"
    )
    slow_syncs = [s for s in syncs if s.ms > args.slow]
    committing = [c for c in checkpoints if c.committing]
    print(
        f"checkpoints: {len(checkpoints)}, {describe([c.ms for c in checkpoints])}, "
        f"pages {describe([float(c.pages) for c in checkpoints], unit='')}; "
        f"inside a COMMIT: {len(committing)}, {describe([c.ms for c in committing])}"
    )
    print(f"WAL syncs: {len(syncs)}, {describe([s.ms for s in syncs])}; > {args.slow:g} ms: "
          f"{len(slow_syncs)}")  # fmt: skip
    causes = {"checkpoint in a COMMIT": 0, "slow WAL sync": 0, "neither": 0}
    for index, ack in traffic.acked.items():
        start = traffic.scheduled[index] + offset
        end = ack + offset
        if (end - start) * 1000 <= args.slow:
            continue
        if any(c.overlaps(start, end) for c in committing):
            causes["checkpoint in a COMMIT"] += 1
        elif any(s.overlaps(start, end) for s in slow_syncs):
            causes["slow WAL sync"] += 1
        else:
            causes["neither"] += 1
    print(f"acks slower than {args.slow:g} ms, by what overlapped them: {causes}")
    return 0


def describe(values: list[float], unit: str = " ms") -> str:
    if not values:
        return "none"
    return (
        f"median {rig.percentile(values, 0.5):.1f}{unit}, "
        f"max {max(values):.1f}{unit}, total {sum(values):.0f}{unit}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--slow", type=float, default=10.0, help="ms; slower acks are examined")
    parser.add_argument(
        "--no-trace",
        dest="trace",
        action="store_false",
        help="without strace: the ack figures undisturbed, no attribution",
    )
    parser.add_argument(
        "--synchronous", choices=["full", "normal"], default="full", help="store.synchronous"
    )
    sys.exit(main(parser.parse_args()))
