"""Cost of one ``Store.run_sync`` hand-off (event loop → store thread → event loop).

The intake makes one or two per commit group, so this is the store's share of the hot path
that does not depend on SQLite. Work is a trivial ``SELECT 1``: what is measured is the
hand-off itself, in CPU µs (robust to a busy machine) and wall µs, best of five rounds.

Usage: ``.venv/bin/python bench/store_handoff.py [--calls 20000]``
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from bot.store import Store


def _select_one(conn: sqlite3.Connection) -> object:
    return conn.execute("SELECT 1").fetchone()


async def measure(calls: int, rounds: int = 5) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="empfang-handoff-") as workdir:
        store = await Store.open(Path(workdir) / "handoff.sqlite3", synchronous="normal")
        try:
            for _ in range(calls // 10):  # warm-up
                await store.run_sync(_select_one, transaction=False)
            cpu, wall = [], []
            for _ in range(rounds):
                cpu_start, wall_start = time.process_time(), time.perf_counter()
                for _ in range(calls):
                    await store.run_sync(_select_one, transaction=False)
                cpu.append((time.process_time() - cpu_start) / calls * 1e6)
                wall.append((time.perf_counter() - wall_start) / calls * 1e6)
        finally:
            await store.close()
    return min(cpu), min(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000, help="hand-offs per round")
    args = parser.parse_args()
    cpu, wall = asyncio.run(measure(args.calls))
    print(f"Store.run_sync hand-off: {cpu:.1f} µs CPU, {wall:.1f} µs wall (best of 5)")


if __name__ == "__main__":
    main()
