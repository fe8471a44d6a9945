"""The whole bot in a process of its own, to be killed -9 in the middle of a media relay:
``python -m tests.media.crash_bot STORE SLACK_BASE GRAPH_URL PORT READY_FILE``.

It runs ``bot.app.Empfang`` on the fake Slack and the sandbox that the test process serves,
writes READY_FILE once started, and runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.app import Empfang
from bot.config import Settings
from tests.fakes.slack import FakeSlack
from tests.slack.stack import slack_settings

LEASE_SECONDS = 3.0
"""Short, so the restarted bot takes the killed one's job over soon; longer than a relay."""


def crash_settings(store: Path, slack_base: str, graph_url: str, port: int) -> Settings:
    """The settings both the test's sandbox and the bot process use."""
    fake = FakeSlack()
    fake.base_url = slack_base
    settings = slack_settings(
        "socket",
        fake=fake,
        store=store,
        server={"host": "127.0.0.1", "port": port},
        jobs={"lease_seconds": LEASE_SECONDS},
    )
    settings.whatsapp.api_base = graph_url
    return settings


async def main(store: Path, slack_base: str, graph_url: str, port: int, ready: Path) -> None:
    bot = Empfang(crash_settings(store, slack_base, graph_url, port))
    await bot.start()
    await asyncio.to_thread(ready.write_text, "ready")
    await asyncio.Event().wait()


if __name__ == "__main__":
    store, base, graph, port, ready = sys.argv[1:6]
    asyncio.run(main(Path(store), base, graph, int(port), Path(ready)))
