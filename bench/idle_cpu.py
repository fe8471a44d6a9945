"""Idle CPU benchmark: how much of one core the running bot uses when nothing happens.

Starts the real bot (``bot.app.Empfang``, as ``empfang run`` composes it: Slack in HTTP mode
against the fake Slack from ``tests/fakes/slack.py``, the WhatsApp sandbox as provider,
four job workers) in a child process, and reads that process's CPU time (all threads, from
``/proc/<pid>/stat``) over ``--seconds`` idle seconds: once before any traffic and once
after ``--messages`` customer messages were relayed. The target is below 1 % of one core.

Usage: ``.venv/bin/python bench/idle_cpu.py [--seconds 10] [--messages 20]``
Exit status 1 when an idle figure is above the target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from procstat import process_cpu_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Settings
from bot.sandbox import SandboxServer
from tests.fakes.slack import FakeSlack
from tests.slack.stack import slack_settings, wait_for

TARGET_PERCENT = 1.0
CUSTOMERS = ["4915112345678", "436641234567", "41791234567", "4917612345678"]


def _serve(settings: Settings) -> None:
    """The child process: the bot until SIGTERM, like ``empfang run``."""
    from bot.app import Empfang, run_until_signalled
    from bot.logsetup import configure_logging

    configure_logging("WARNING")
    asyncio.run(run_until_signalled(Empfang(settings)))


async def idle_percent(pid: int, seconds: float) -> float:
    before, started = process_cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (process_cpu_seconds(pid) - before) / (time.monotonic() - started)


async def wait_healthy(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the bot did not answer /healthz within {seconds:.0f}s")


def relayed(store: Path) -> int:
    """Customer messages that reached the chat (combined lines count one each)."""
    with sqlite3.connect(store) as conn:
        query = "SELECT count(*) FROM messages WHERE direction = 'in' AND chat_id IS NOT NULL"
        return int(conn.execute(query).fetchone()[0])


async def wait_relayed(store: Path, count: int, seconds: float = 60.0) -> int:
    with contextlib.suppress(TimeoutError):
        await wait_for(lambda: relayed(store) >= count, seconds, step=0.1)
    return relayed(store)


async def run(seconds: float, messages: int, warmup: float) -> int:
    with tempfile.TemporaryDirectory() as workdir:
        fake = FakeSlack(mode="http", rate=100.0, burst=100)
        await fake.start()
        store = Path(workdir) / "empfang.sqlite3"
        settings = slack_settings("http", fake=fake, store=store)
        sandbox = SandboxServer(settings, port=0)
        await sandbox.start()
        settings.whatsapp.api_base = sandbox.graph_url
        bot = multiprocessing.get_context("spawn").Process(target=_serve, args=(settings,))
        bot.start()
        assert bot.pid is not None
        try:
            url = f"http://{settings.server.host}:{settings.server.port}"
            await wait_healthy(url)
            fake.use_http(url)
            await asyncio.sleep(warmup)
            before = await idle_percent(bot.pid, seconds)
            for n in range(messages):
                sandbox.say("+" + CUSTOMERS[n % len(CUSTOMERS)], f"Nachricht {n}")
            posted = await wait_relayed(store, messages)
            await sandbox.idle()
            await asyncio.sleep(warmup)
            after = await idle_percent(bot.pid, seconds)
        finally:
            os.kill(bot.pid, signal.SIGTERM)
            bot.join(30)
            await sandbox.stop()
            await fake.stop()
    print(
        f"Empfang idle CPU: 4 job workers, Slack (HTTP mode, fake), sandbox; nproc {os.cpu_count()}"
    )
    print(f"idle before traffic: {before:5.2f} % of one core over {seconds:g} s")
    print(f"customer messages relayed between the windows: {posted}/{messages}")
    print(f"idle after traffic:  {after:5.2f} % of one core over {seconds:g} s")
    worst = max(before, after)
    print(f"target below {TARGET_PERCENT:g} %: {'met' if worst < TARGET_PERCENT else 'MISSED'}")
    return 0 if worst < TARGET_PERCENT and posted == messages else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="idle seconds measured")
    parser.add_argument("--messages", type=int, default=20, help="traffic between the windows")
    parser.add_argument("--warmup", type=float, default=2.0, help="quiet seconds before each")
    args = parser.parse_args()
    return asyncio.run(run(args.seconds, args.messages, args.warmup))


if __name__ == "__main__":
    sys.exit(main())
