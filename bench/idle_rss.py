"""Idle resident memory of the bot with one chat platform, and what its imports cost.

Starts the bot as ``bench/soak.py`` does (``bot.app.Empfang`` in its own process, fresh
store, the zero-latency fake of the platform), lets it idle ``--idle`` seconds and reads its
RSS from ``/proc/<pid>/status``, ``--runs`` times (a fresh bot and store each time; the
median decides, the range shows how far one start differs from the next). Then, in fresh
interpreters, the RSS after importing only ``bot.app`` and after also importing the
platform's adapter: what is code, and what the running bot adds (threads, caches, the
platform's client state).

    .venv/bin/python bench/idle_rss.py [--platform matrix|slack|both] [--idle 5] [--runs 3]

Target (issue 16): ≤ 70 MB idle with one platform.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import rig

TARGET_MIB = 70.0
ADAPTERS: dict[rig.Platform, str] = {
    "matrix": "adapters.matrix.platform",
    "slack": "adapters.slack.platform",
}
PROBE = (
    "import {module}\n"
    "print(int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) / 1024)"
)


def imported_mib(*modules: str) -> float:
    """RSS of a fresh interpreter after importing ``modules`` (nothing started)."""
    code = PROBE.format(module=", ".join(modules))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=rig.ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[-1])


async def running_mib(platform: rig.Platform, idle: float) -> float:
    with tempfile.TemporaryDirectory(prefix="empfang-rss-") as workdir:
        async with rig.running(platform, Path(workdir)) as stack:
            await asyncio.sleep(idle)
            return rig.rss_mib(stack.bot.pid)


async def main(args: argparse.Namespace) -> int:
    print(rig.machine())
    platforms: list[rig.Platform] = (
        ["matrix", "slack"] if args.platform == "both" else [args.platform]
    )
    status = 0
    bare = imported_mib("sys")
    app = imported_mib("bot.app")
    print(f"interpreter alone {bare:.1f} MiB; after import bot.app {app:.1f} MiB")
    for platform in platforms:
        code = imported_mib("bot.app", ADAPTERS[platform])
        runs = [await running_mib(platform, args.idle) for _ in range(args.runs)]
        running = statistics.median(runs)
        verdict = "ok" if running <= TARGET_MIB else f"above the {TARGET_MIB:g} MiB target"
        print(
            f"{platform}: import bot.app + adapter {code:.1f} MiB; running, idle {args.idle:g} s:"
            f" median {running:.1f} MiB of {len(runs)} runs, {min(runs):.1f}-{max(runs):.1f}"
            f" ({verdict})"
        )
        status |= running > TARGET_MIB
    return status


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--platform", choices=["matrix", "slack", "both"], default="both")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds before reading RSS")
    parser.add_argument("--runs", type=int, default=3, help="bots started per platform")
    sys.exit(asyncio.run(main(parser.parse_args())))
