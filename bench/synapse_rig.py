"""The bot against a throwaway local Synapse, with the agent's client watching the room:
what ``bench/matrix_latency.py`` and ``bench/matrix_sweep.py`` share.

The bot runs as its own process (``rig.BotProcess``), Synapse as its own (``LocalSynapse``),
and the agent's ``/sync`` long-poll in the driver notes when each benchmark message becomes
visible in the room (``time.monotonic()``, comparable with the driver's send times).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import rig

from bot.demo.stack import (
    SupportRoom,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse


@dataclass
class SynapseBench:
    """The running set-up; ``seen`` maps a message index to when the agent saw it."""

    room: SupportRoom
    bot: rig.BotProcess
    seen: dict[int, float]

    @property
    def synapse_pid(self) -> int:
        pid: int | None = self.room.homeserver.pid
        assert pid is not None
        return pid

    async def wait_seen(self, indices: range, within: float) -> int:
        """Wait up to ``within`` s until the agent saw every one of ``indices``; how many."""

        async def all_seen() -> bool:
            return all(i in self.seen for i in indices)

        with contextlib.suppress(TimeoutError):
            await wait_for(all_seen, within=within, interval=0.2)
        return sum(1 for i in indices if i in self.seen)


async def room_events(
    room: SupportRoom, stop: asyncio.Event
) -> AsyncIterator[tuple[dict[str, Any], float]]:
    """The agent's client: long-poll ``/sync`` and yield each new event of the room with
    when it was seen (``time.monotonic()``), until ``stop`` is set."""
    base = room.homeserver.base_url
    headers = {"Authorization": f"Bearer {room.agent.access_token}"}
    async with httpx.AsyncClient(trust_env=False, timeout=40) as client:
        first = await client.get(f"{base}/_matrix/client/v3/sync", headers=headers)
        since = first.json()["next_batch"]
        while not stop.is_set():
            response = await client.get(
                f"{base}/_matrix/client/v3/sync",
                params={"since": since, "timeout": "1000"},
                headers=headers,
            )
            body = response.json()
            since = body["next_batch"]
            now = time.monotonic()
            timeline = body.get("rooms", {}).get("join", {}).get(room.room_id, {})
            for event in timeline.get("timeline", {}).get("events", []):
                yield event, now


async def watch(room: SupportRoom, seen: dict[int, float], stop: asyncio.Event) -> None:
    """Note the first sight of each benchmark message in the room."""
    async for event, now in room_events(room, stop):
        for index in rig.untag(str(event.get("content", {}).get("body", ""))):
            seen.setdefault(index, now)


@contextlib.asynccontextmanager
async def synapse_bench(workdir: Path) -> AsyncIterator[SynapseBench]:
    """Synapse with a support room, the bot in it (fresh store), the agent watching."""
    async with LocalSynapse(workdir / "synapse") as homeserver:
        room = await create_support_room(homeserver, tag="bench")
        settings = stack_settings(
            workdir,
            room,
            bot_port=free_port(),
            whatsapp={"app_secret": rig.SECRET},
            logging={"level": "WARNING"},
        )
        bot = rig.BotProcess(settings)
        await bot.start()
        seen: dict[int, float] = {}
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(room, seen, stop))
        try:
            await asyncio.sleep(1.0)  # let the bot's first sync settle
            yield SynapseBench(room, bot, seen)
        finally:
            stop.set()
            await asyncio.gather(watcher, return_exceptions=True)
            await bot.stop()
