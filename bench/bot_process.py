"""Runs the bot as ``empfang run`` would, from settings pickled by ``rig.BotProcess``.

A separate small program rather than a ``multiprocessing`` child, so the bot's process
imports only what ``empfang run`` imports (its resident memory is a benchmark figure),
not the benchmark's own modules.

    python bench/bot_process.py SETTINGS.pickle [SLACK_POST_INTERVAL]

``SLACK_POST_INTERVAL`` replaces Slack's one post per second per channel (the adapter
reads ``POST_INTERVAL_SECONDS`` when it builds its pacer), to measure the relay itself.

``EMPFANG_BENCH_PROFILE=FILE`` runs the bot's event-loop thread under ``cProfile`` and writes
the statistics to ``FILE`` when it stops (``python -m pstats FILE``): where the CPU per
relayed message goes. Profiling slows the bot down, so its latencies are not figures.

``EMPFANG_BENCH_TRACEMALLOC=PREFIX`` traces Python's allocations from the start; each
SIGUSR1 writes a snapshot to ``PREFIX.N.snap`` (N counts from 1), for comparing what the
bot holds at two points of a soak (``tracemalloc.Snapshot.load(...).compare_to``).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import Empfang, run_until_signalled
from bot.config import Settings
from bot.logsetup import configure_logging


def trace_allocations(prefix: str) -> None:
    """Start tracemalloc; SIGUSR1 writes the next snapshot (see the module's docstring).

    Imported here, as cProfile below: the bot's resident memory is a figure, and a bot not
    traced should not carry them (0.1-0.3 MiB)."""
    import tracemalloc

    tracemalloc.start(10)
    taken = 0

    def snapshot(signum: int, frame: object) -> None:
        nonlocal taken
        taken += 1
        tracemalloc.take_snapshot().dump(f"{prefix}.{taken}.snap")

    signal.signal(signal.SIGUSR1, snapshot)


def main(settings_path: str, slack_post_interval: str | None = None) -> None:
    settings = pickle.loads(Path(settings_path).read_bytes())
    assert isinstance(settings, Settings)
    if slack_post_interval is not None:
        from adapters.slack import pacing

        pacing.POST_INTERVAL_SECONDS = float(slack_post_interval)
    configure_logging(settings.logging.level)
    if trace_to := os.environ.get("EMPFANG_BENCH_TRACEMALLOC"):
        trace_allocations(trace_to)
    profile_to = os.environ.get("EMPFANG_BENCH_PROFILE")
    if not profile_to:
        asyncio.run(run_until_signalled(Empfang(settings)))
        return
    import cProfile

    with cProfile.Profile() as profiler:
        asyncio.run(run_until_signalled(Empfang(settings)))
    profiler.dump_stats(profile_to)


if __name__ == "__main__":
    main(*sys.argv[1:3])
