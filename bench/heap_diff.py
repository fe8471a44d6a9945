"""What grew in the bot's Python heap between two tracemalloc snapshots of a soak.

    .venv/bin/python bench/heap_diff.py BEFORE.snap AFTER.snap [--top 25] [--depth 6]

Snapshots come from ``EMPFANG_BENCH_TRACEMALLOC=PREFIX bench/soak.py`` (one per RSS
reading). Lines are grouped by the allocating traceback (``--depth`` innermost frames of
the bot's own code and libraries); the largest growth first, with the count of blocks, so a
per-conversation leak shows as a count that follows the number of conversations.
"""

from __future__ import annotations

import argparse
import tracemalloc


def main(args: argparse.Namespace) -> None:
    before = tracemalloc.Snapshot.load(args.before)
    after = tracemalloc.Snapshot.load(args.after)
    total_before = sum(stat.size for stat in before.statistics("filename"))
    total_after = sum(stat.size for stat in after.statistics("filename"))
    print(
        f"traced: {total_before / 2**20:.2f} MiB → {total_after / 2**20:.2f} MiB "
        f"({(total_after - total_before) / 2**20:+.2f} MiB)"
    )
    for diff in after.compare_to(before, "traceback")[: args.top]:
        print(f"\n{diff.size_diff / 1024:+9.1f} KiB {diff.count_diff:+8d} blocks")
        for frame in list(diff.traceback)[-args.depth :]:
            print(f"    {frame.filename.split('site-packages/')[-1]}:{frame.lineno}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--depth", type=int, default=6)
    main(parser.parse_args())
