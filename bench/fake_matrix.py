"""A zero-latency Matrix homeserver for relay benchmarks: just enough of the client-server
API for the bot's unencrypted Matrix adapter (matrix-nio) — whoami, join, sync, send,
the room's power levels.

It answers at once, so what a benchmark measures is the bot, not a homeserver. Like a real
one it echoes every event the bot sends back through ``/sync`` (the bot's sync loop sees
and skips its own posts, as in production); it ignores the sync filter's timeline limit
(never ``limited``), so no gap is ever filled with ``/messages``. Each received send is
kept as ``(time.monotonic(), body text)``: ``CLOCK_MONOTONIC`` is one clock for every
process on the machine, so a driver in another process can compare it with its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import Any

from aiohttp import web

USER_ID = "@empfang:bench.local"
ROOM_ID = "!support:bench.local"
ACCESS_TOKEN = "bench-matrix-token"
DEVICE_ID = "BENCHDEVICE"
LONG_POLL_CAP_SECONDS = 5.0
"""Longest a /sync is held open here, whatever the client's ``timeout``."""


POWER_LEVELS = {"users": {USER_ID: 100}, "users_default": 0}


def room_state() -> list[dict[str, Any]]:
    """What the bot reads at start to judge the room (``check-config --online``'s
    questions): a private, unfederated, unencrypted room the bot administers."""
    events = {
        "m.room.create": {"creator": USER_ID, "m.federate": False, "room_version": "10"},
        "m.room.power_levels": POWER_LEVELS,
        "m.room.join_rules": {"join_rule": "invite"},
        "m.room.history_visibility": {"history_visibility": "joined"},
    }
    return [
        {
            "type": kind,
            "state_key": "",
            "sender": USER_ID,
            "content": content,
            "event_id": f"$state{n}",
            "origin_server_ts": 0,
        }
        for n, (kind, content) in enumerate(events.items())
    ]


class FakeHomeserver:
    """One room, one user (the bot); :attr:`received` lists every send as it arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []
        self._events: list[dict[str, Any]] = []
        self._base = 0
        """Position of ``_events[0]``: events every sync has seen are dropped (one client)."""
        self._new = asyncio.Condition()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_route("*", "/_matrix/client/{version}/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.Response:
        parts = request.match_info["tail"].split("/")
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return web.json_response({"errcode": "M_UNKNOWN_TOKEN", "error": "?"}, status=401)
        if parts == ["account", "whoami"]:
            return web.json_response({"user_id": USER_ID, "device_id": DEVICE_ID})
        if parts[0] == "join":
            return web.json_response({"room_id": ROOM_ID})
        if parts == ["sync"]:
            return await self._sync(request)
        if parts[:4] == ["rooms", ROOM_ID, "state", "m.room.power_levels"]:
            return web.json_response(POWER_LEVELS)
        if parts == ["rooms", ROOM_ID, "state"]:
            return web.json_response(room_state())
        if request.method == "PUT" and len(parts) == 5 and parts[2] == "send":
            return await self._send(parts[3], await request.json())
        return web.json_response({"errcode": "M_UNRECOGNIZED", "error": "?"}, status=404)

    async def _send(self, event_type: str, content: dict[str, Any]) -> web.Response:
        self.received.append((time.monotonic(), str(content.get("body", ""))))
        event_id = f"$e{next(self._ids)}"
        self._events.append(
            {
                "type": event_type,
                "event_id": event_id,
                "sender": USER_ID,
                "origin_server_ts": int(time.time() * 1000),
                "content": content,
                "unsigned": {},
            }
        )
        async with self._new:
            self._new.notify_all()
        return web.json_response({"event_id": event_id})

    async def _sync(self, request: web.Request) -> web.Response:
        since = max(int(request.query.get("since", "0") or "0"), self._base)
        del self._events[: since - self._base]
        self._base = since
        wait = min(int(request.query.get("timeout", "0")) / 1000, LONG_POLL_CAP_SECONDS)
        if not self._events and wait > 0:
            async with self._new:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new.wait(), wait)
        events = list(self._events)
        end = since + len(events)
        timeline = {"events": events, "limited": False, "prev_batch": str(since)}
        room = {
            "timeline": timeline,
            "state": {"events": []},
            "ephemeral": {"events": []},
            "account_data": {"events": []},
            "summary": {},
            "unread_notifications": {},
        }
        return web.json_response(
            {
                "next_batch": str(end),
                "rooms": {"join": {ROOM_ID: room}, "invite": {}, "leave": {}},
                "to_device": {"events": []},
                "presence": {"events": []},
                "account_data": {"events": []},
                "device_one_time_keys_count": {},
                "device_lists": {"changed": [], "left": []},
            }
        )
