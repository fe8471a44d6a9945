"""A zero-latency Matrix homeserver for relay benchmarks: just enough of the client-server
API for the bot's unencrypted Matrix adapter — whoami, join, sync, send, the room's state.

It answers at once, so what a benchmark measures is the bot, not a homeserver. Like a real
one it keeps every event the bot sends in the room's timeline, and ``/sync`` applies the
sync filter's timeline part as Synapse does (``senders``/``not_senders``,
``types``/``not_types``, the rooms): a long poll whose filtered answer would be empty keeps
waiting until a matching event arrives or its timeout ends (Synapse's notifier wakes the
poll for every new event in the room and answers only when the filtered result is not
empty), and every answer moves ``next_batch`` to the end of the room. So a bot that filters
out its own events sees no sync for its own posts, and one that does not sees an echo sync
for each, as with Synapse. It ignores the filter's timeline ``limit`` (never ``limited``),
so no gap is ever filled with ``/messages``. ``syncs`` counts the answered syncs that
carried events and ``empty_syncs`` those that timed out empty. Each received send is kept
as ``(time.monotonic(), body text)``: ``CLOCK_MONOTONIC`` is one clock for every process on
the machine, so a driver in another process can compare it with its own.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
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
        self.syncs = 0
        self.empty_syncs = 0

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
        wanted = timeline_filter(request.query.get("filter"))
        deadline = time.monotonic() + min(
            int(request.query.get("timeout", "0")) / 1000, LONG_POLL_CAP_SECONDS
        )
        events = [event for event in self._events if wanted(event)]
        checked = self._base + len(self._events)
        while not events and (left := deadline - time.monotonic()) > 0:
            async with self._new:
                try:
                    await asyncio.wait_for(self._new.wait(), left)
                except TimeoutError:
                    break
            # Only the events that arrived while waiting (the rest did not match).
            new = self._events[max(checked - self._base, 0) :]
            checked += len(new)
            events = [event for event in new if wanted(event)]
        if events:
            self.syncs += 1
        else:
            self.empty_syncs += 1
        end = self._base + len(self._events)
        timeline = {"events": events, "limited": False, "prev_batch": str(since)}
        room = {
            "timeline": timeline,
            "state": {"events": []},
            "ephemeral": {"events": []},
            "account_data": {"events": []},
            "summary": {},
            "unread_notifications": {},
        }
        rooms = {"join": {ROOM_ID: room} if events else {}, "invite": {}, "leave": {}}
        return web.json_response(
            {
                "next_batch": str(end),
                "rooms": rooms,
                "to_device": {"events": []},
                "presence": {"events": []},
                "account_data": {"events": []},
                "device_one_time_keys_count": {},
                "device_lists": {"changed": [], "left": []},
            }
        )


def timeline_filter(raw: str | None) -> Callable[[dict[str, Any]], bool]:
    """Which events an inline sync filter lets into the room's timeline (the spec's
    ``RoomEventFilter``; the ``not_`` lists win, ``*`` at the end of a type is a prefix)."""
    spec: Any = json.loads(raw) if raw else {}
    room = spec.get("room", {}) if isinstance(spec, dict) else {}
    timeline = room.get("timeline", {})
    rooms, not_rooms = room.get("rooms"), room.get("not_rooms", [])
    senders, not_senders = timeline.get("senders"), timeline.get("not_senders", [])
    types, not_types = timeline.get("types"), timeline.get("not_types", [])

    def matches(kind: str, patterns: list[str]) -> bool:
        return any(kind == p or (p.endswith("*") and kind.startswith(p[:-1])) for p in patterns)

    if (rooms is not None and ROOM_ID not in rooms) or ROOM_ID in not_rooms:
        return lambda event: False

    def wanted(event: dict[str, Any]) -> bool:
        sender, kind = event["sender"], event["type"]
        if sender in not_senders or (senders is not None and sender not in senders):
            return False
        return not matches(kind, not_types) and (types is None or matches(kind, types))

    return wanted
