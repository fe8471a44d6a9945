"""The floor under ``synchronous = full``: how long one small ``fdatasync`` takes on this disk.

Every acknowledged webhook waits for one sync of the store's ``-wal`` file, so no tuning of
SQLite can make acks faster than the disk's own sync latency. This writes ``--bytes`` per
sync (a commit's WAL frames) at ``--rate`` syncs per second, paced, for ``--seconds``, into
a file next to where the benchmarks put their store (``--dir``, default the temporary
directory), in three ways:

- **grow**: appends to a new file, so each sync also has to commit the file's new size and
  blocks to the filesystem journal (a WAL that was truncated or deleted starts like this);
- **fallocate**: appends into space reserved with ``posix_fallocate``; on ext4 the blocks
  are "unwritten", so the first write to each still changes the extent tree, through the
  journal;
- **overwrite**: rewrites a file already written once with zeros, in place (a WAL that
  SQLite reuses from its start after a checkpoint): only data, no metadata to sync.

Prints p50/p99/p99.9/max and how many syncs took over 10 ms for each.

    .venv/bin/python bench/disk_sync.py [--rate 1000] [--seconds 30] [--bytes 12288]
        [--dir /tmp] [--modes grow,fallocate,overwrite]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import rig

SLOW_MS = 10.0


def prepare(path: Path, mode: str, size: int) -> None:
    """The file as ``mode`` wants it before the first timed sync."""
    with open(path, "wb") as file:
        if mode == "fallocate":
            os.posix_fallocate(file.fileno(), 0, size)
        elif mode == "overwrite":
            chunk = bytes(2**20)
            for _ in range(0, size, len(chunk)):
                file.write(chunk)
        file.flush()
        os.fsync(file.fileno())


def measure(path: Path, *, rate: float, seconds: float, block: bytes, wrap: int) -> list[float]:
    """ms per ``pwrite`` + ``fdatasync``, one per slot of an open-loop schedule; the offset
    starts over at ``wrap`` bytes (only the overwrite file is that large to begin with)."""
    count = round(rate * seconds)
    took: list[float] = []
    fd = os.open(path, os.O_WRONLY)
    try:
        start = time.monotonic()
        offset = 0
        for index in range(count):
            slot = start + index / rate
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            before = time.perf_counter()
            os.pwrite(fd, block, offset)
            os.fdatasync(fd)
            took.append((time.perf_counter() - before) * 1000)
            offset = (offset + len(block)) % wrap
    finally:
        os.close(fd)
    return took


def summary(mode: str, took: list[float]) -> str:
    slow = sum(1 for ms in took if ms > SLOW_MS)
    pct: Callable[[float], float] = lambda q: rig.percentile(took, q)  # noqa: E731
    return (
        f"{mode:<10} {len(took):>7,} {pct(0.5):7.2f} {pct(0.99):7.2f} {pct(0.999):7.2f}"
        f" {max(took):8.1f} {slow:>6} ({slow / len(took) * 1000:.2f} per 1,000)"
    )


def main(args: argparse.Namespace) -> int:
    print(rig.machine())
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    block = os.urandom(args.bytes)
    # Large enough that the appending modes never wrap during the run.
    size = round(args.rate * args.seconds) * args.bytes
    with tempfile.TemporaryDirectory(prefix="empfang-sync-", dir=args.dir) as workdir:
        print(f"{args.bytes} bytes per sync at {args.rate:g}/s for {args.seconds:g} s in {workdir}")
        head = f"{'mode':<10} {'syncs':>7} {'p50':>7} {'p99':>7} {'p99.9':>7} {'max ms':>8}"
        print(f"{head} > {SLOW_MS:g} ms")
        for mode in args.modes.split(","):
            path = Path(workdir) / f"{mode}.bin"
            prepare(path, mode, size)
            took = measure(path, rate=args.rate, seconds=args.seconds, block=block, wrap=size)
            print(summary(mode, took), flush=True)
            path.unlink()
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=1000.0, help="syncs per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--bytes", type=int, default=12288, help="written before each sync")
    parser.add_argument("--dir", default=None, help="default: the temporary directory")
    parser.add_argument("--modes", default="grow,fallocate,overwrite")
    sys.exit(main(parser.parse_args()))
