"""Slack pacing benchmark: customers write faster than Slack lets a channel take posts.

Five customers write into one channel, together ``--rate`` messages per second (default 5),
for ``--seconds`` (default 60), through the WhatsApp sandbox into the real bot
(``bot.app.Empfang``), which posts into the fake Slack (``tests/fakes/slack.py``) limited
like Slack: one post per second per channel, short bursts of 3, HTTP 429 with
``Retry-After`` beyond that. The bot paces itself at Slack's rate and combines the lines
that wait in its queue.

Prints how many posts the bot made, how many 429s it got (and whether it honoured each),
and how long customer lines waited between the customer sending and the line appearing in
Slack (largest, and 50th/95th percentile). No phone number is printed.

Usage: ``.venv/bin/python bench/slack_pacing.py [--seconds 60] [--rate 5] [--mode socket]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.slack import FakeSlack
from tests.slack.stack import SlackStack

CUSTOMERS = ["4915112345678", "436641234567", "41791234567", "4917612345678", "4930901820456"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(seconds: float, rate: float, mode: str) -> int:
    with tempfile.TemporaryDirectory() as workdir:
        fake = FakeSlack(mode="http" if mode == "http" else "socket", rate=1.0, burst=3)
        stack = SlackStack(fake.mode, Path(workdir) / "empfang.sqlite3", fake)
        await stack.start()
        try:
            sent: dict[str, float] = {}
            total = int(seconds * rate)
            started = time.monotonic()
            for n in range(total):
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
                number = CUSTOMERS[n % len(CUSTOMERS)]
                line = f"Kunde {n % len(CUSTOMERS)} Nachricht {n:05d}"
                sent[line] = time.time()
                stack.say("+" + number, line)
            offered = time.monotonic() - started
            print(f"offered {total} customer messages in {offered:.1f}s ({rate:g}/s)")
            arrived = await _wait_for_lines(stack, sent, seconds + 120)
        finally:
            await stack.stop()
    delays = [arrived[line] - at for line, at in sent.items() if line in arrived]
    posts = len(fake.posts())
    lines_per_post = len(delays) / max(posts - len(CUSTOMERS), 1)
    print(f"mode: {mode}; Slack limit 1 post/s per channel, bursts of 3")
    print(f"lines delivered: {len(delays)}/{len(sent)} (each once, in order: {_in_order(fake)})")
    print(f"posts: {posts} ({len(CUSTOMERS)} thread roots, ≈{lines_per_post:.1f} lines per post)")
    print(
        f"429 answers: {len(fake.rate_limited)}; posts before Retry-After: {len(fake.early_posts)}"
    )
    if delays:
        print(
            f"customer line delay: max {max(delays):.1f}s, p95 {percentile(delays, 0.95):.1f}s, "
            f"p50 {percentile(delays, 0.5):.1f}s"
        )
    return 0 if len(delays) == len(sent) else 1


async def _wait_for_lines(
    stack: SlackStack, sent: dict[str, float], seconds: float
) -> dict[str, float]:
    """When each line first appeared at Slack (the post's ``ts`` is Slack's clock)."""
    deadline = time.monotonic() + seconds
    arrived: dict[str, float] = {}
    while time.monotonic() < deadline:
        for message in stack.fake.channel_messages():
            for line in str(message.get("text", "")).split("\n"):
                if line in sent and line not in arrived:
                    arrived[line] = float(message["ts"])
        if len(arrived) == len(sent):
            break
        await asyncio.sleep(0.2)
    return arrived


def _in_order(fake: FakeSlack) -> bool:
    seen: dict[str, list[str]] = {}
    for message in fake.channel_messages():
        for line in str(message.get("text", "")).split("\n"):
            if line.startswith("Kunde "):
                seen.setdefault(line.split(" Nachricht")[0], []).append(line)
    return all(lines == sorted(lines) and len(set(lines)) == len(lines) for lines in seen.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long customers write")
    parser.add_argument("--rate", type=float, default=5.0, help="customer messages per second")
    parser.add_argument("--mode", choices=["socket", "http"], default="socket")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(args.seconds, args.rate, args.mode))


if __name__ == "__main__":
    sys.exit(main())
