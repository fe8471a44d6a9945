"""Helpers for the fault tests: the bot as its own process, many customers, threads by customer.

``EMPFANG_FAULT_SECONDS`` sets how long the outages of ``test_faults.py`` last. CI uses the
default of 10 s to stay inside its time budget; ``EMPFANG_FAULT_SECONDS=60`` runs the
minute-long outages of the issue (about two minutes more).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr

from bot.config import Settings
from bot.demo.stack import RoomView, wait_for
from tests.e2e.matrix_world import thread_of

ROOT = Path(__file__).parents[2]
FAULT_SECONDS = float(os.environ.get("EMPFANG_FAULT_SECONDS", "10"))
LINE = re.compile(r"\bc(\d+) m(\d+)\b")
"""Each test message is ``c<customer> m<number>``; a body may carry more (e.g. a late marker)."""


def customer_number(index: int) -> str:
    """Distinct customers in the shape of German mobile numbers (+49 151 200000xx)."""
    return f"+49151200000{index:02d}"


def line(customer: int, number: int) -> str:
    return f"c{customer} m{number:03d}"


def _toml_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Path):
        value = str(value)
    return json.dumps(value)  # strings, numbers, booleans and flat lists are valid TOML too


def config_toml(settings: Settings, *sections: str) -> str:
    """The non-default keys of ``sections`` as a TOML file for ``empfang run``."""
    lines = []
    for name in sections:
        section = getattr(settings, name)
        assert isinstance(section, BaseModel)
        lines.extend(_table(name, section))
    return "\n".join(lines) + "\n"


def _table(name: str, section: BaseModel) -> list[str]:
    """The non-default keys of ``section`` as the TOML table ``name``, a nested section
    (``[alerts.oncall]``) as a table of its own after it."""
    keys, nested = [f"[{name}]"], []
    for key in section.model_fields_set:
        value = getattr(section, key)
        if isinstance(value, BaseModel):
            nested.extend(_table(f"{name}.{key}", value))
        else:
            keys.append(f"{key} = {_toml_value(value)}")
    return keys + nested


class BotProcess:
    """``empfang run`` in its own process, so it can be killed -9 and started again."""

    def __init__(self, settings: Settings, config: Path) -> None:
        config.write_text(
            config_toml(
                settings, "server", "store", "whatsapp", "chat", "matrix", "privacy", "jobs"
            ),
            encoding="utf-8",
        )
        self.config = config
        self.ready_url = f"http://127.0.0.1:{settings.server.port}/readyz"
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(self.config), cwd=ROOT
        )

        async def ready() -> bool:
            assert self.process is not None and self.process.returncode is None, "bot exited"
            try:
                async with httpx.AsyncClient(trust_env=False) as client:
                    return (await client.get(self.ready_url)).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_for(ready, within=30)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, whatever the bot was doing is cut off."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)


async def lines_by_customer(view: RoomView) -> dict[int, list[int]]:
    """Every test line in the room, grouped by customer, in room order (thread by thread)."""
    found: dict[int, list[int]] = defaultdict(list)
    threads: dict[str, set[int]] = defaultdict(set)
    for event in await view.events(limit=10_000):
        if event.get("type") != "m.room.message":
            continue
        match = LINE.search(str(event["content"].get("body", "")))
        if match and thread_of(event):
            customer, number = int(match[1]), int(match[2])
            threads[thread_of(event)].add(customer)
            found[customer].append(number)
    mixed = [customers for customers in threads.values() if len(customers) > 1]
    assert not mixed, f"threads holding several customers: {mixed}"
    return found


LATE_MARK = "⏱"
"""What the relay appends to a line posted below lines the customer wrote after it."""


async def late_marked(view: RoomView) -> dict[int, set[int]]:
    """The test lines that carry the relay's late marker, by customer."""
    marked: dict[int, set[int]] = defaultdict(set)
    for event in await view.events(limit=10_000):
        body = str(event.get("content", {}).get("body", ""))
        match = LINE.search(body)
        if event.get("type") == "m.room.message" and match and LATE_MARK in body:
            marked[int(match[1])].add(int(match[2]))
    return marked


async def wait_for_lines(
    view: RoomView, customers: int, per_customer: int, within: float
) -> dict[int, list[int]]:
    """Wait until each customer has ``per_customer`` distinct lines in the room."""

    async def probe() -> dict[int, list[int]] | None:
        found = await lines_by_customer(view)
        done = all(len(set(found.get(c, []))) >= per_customer for c in range(customers))
        return found if done else None

    try:
        return await wait_for(probe, within=within, interval=0.5)
    except TimeoutError:
        found = await lines_by_customer(view)
        missing = {
            c: sorted(set(range(per_customer)) - set(found.get(c, []))) for c in range(customers)
        }
        raise AssertionError(
            f"lines missing per customer after {within:.0f} s: {missing}"
        ) from None
