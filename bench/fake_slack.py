"""A zero-latency Slack for relay benchmarks: the Web API calls the relay makes and the
echo of each post, in Slack's wire format, and nothing else.

The test suite's fake (``tests/fakes/slack.py``) reproduces Slack for correctness: it
records every request with its headers and raw body, validates blocks and metadata, keeps
a token bucket, deep-copies every stored message and finds a thread's parent by scanning
the channel. At 200 posts a second that cost it ~37 % of a core on a two-core machine,
CPU the bot under test then lacked. This one answers at once and keeps only what an
answer needs:

* ``auth.test`` and ``conversations.info`` (the start-up checks), ``conversations.history``
  (the ledger's look for its own roots: the channel's latest top-level posts, newest
  first, metadata only with ``include_all_metadata``) and ``chat.postMessage`` (a new
  ``ts``; a ``thread_ts`` naming a top-level post makes a reply, one naming nothing posts
  at the top level as on Slack); any other method is ``unknown_method``.
* ``Authorization: Bearer`` or a ``token`` argument, ``invalid_auth`` for another token;
  arguments from the query string and a JSON or form body (``tests.fakes.slack_wire``).
* Every post comes back to the bot's ``/slack/events`` as the ``message`` event Slack
  sends for the app's own post (the manifest subscribes to ``message.channels``), signed
  v0 with the current timestamp, one at a time per post, not retried: the bot's work for
  its echo is part of what a relayed message costs.

Each post is kept as ``(time.monotonic(), text)`` in :attr:`FakeSlackApi.received`, the
clock every process on the machine shares, for the driver to compare with its send times.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from urllib.parse import urlsplit

from aiohttp import web

from tests.fakes.slack import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER,
    CHANNEL,
    SIGNING_SECRET,
    TEAM_ID,
    bot_message,
    event_callback,
)
from tests.fakes.slack_wire import JSON, ApiError, merge_arguments, sign, truthy

HISTORY_PAGE = 200
"""Most messages ``conversations.history`` returns at once (the bot asks for 200)."""


class FakeSlackApi:
    """One public channel with the bot in it; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.received: list[tuple[float, str]] = []
        self._roots: dict[str, tuple[JSON, JSON | None]] = {}
        """Top-level posts and their metadata by ``ts``, oldest first (history, threads)."""
        self._last_ts = 0.0
        self._event_ids = itertools.count(1)
        self._events_url: str | None = None
        self._tasks: set[asyncio.Task[int]] = set()
        self._runner: web.AppRunner | None = None
        self._events: EventsLine | None = None

    async def start(self) -> str:
        """Serve the Web API; its base URL (the bot's ``slack.api_base``)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        return f"http://{self.host}:{self._runner.addresses[0][1]}/api/"

    def use_http(self, bot_url: str) -> None:
        """Deliver the posts' echoes to the bot's HTTP Events API endpoint."""
        self._events = EventsLine(f"{bot_url}/slack/events")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._events is not None:
            self._events.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args = merge_arguments(request.query_string, request.content_type, await request.read())
            auth = request.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else args.pop("token", None)
            if token != BOT_TOKEN:
                raise ApiError("invalid_auth" if token else "not_authed")
            body = {"ok": True, **self._call(method, args)}
        except ApiError as error:
            body = error.body()
        return web.json_response(body)

    def _call(self, method: str, args: JSON) -> JSON:
        if method == "chat.postMessage":
            return self._post(args)
        if method == "auth.test":
            return {"team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": BOT_ID}
        if args.get("channel") != CHANNEL and method.startswith("conversations."):
            raise ApiError("channel_not_found")
        if method == "conversations.info":
            return {
                "channel": {"id": CHANNEL, "name": "support", "is_channel": True, "is_member": True}
            }
        if method == "conversations.history":
            return self._history(args)
        raise ApiError("unknown_method")

    def _post(self, args: JSON) -> JSON:
        if args.get("channel") != CHANNEL:
            raise ApiError("channel_not_found")
        text = str(args.get("text") or "")
        if not text and not args.get("blocks"):
            raise ApiError("no_text")
        self.received.append((time.monotonic(), text))
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        message = bot_message(f"{self._last_ts:.6f}", text)
        if args.get("blocks"):
            message["blocks"] = args["blocks"]
        thread_ts = str(args.get("thread_ts"))
        if thread_ts in self._roots:
            message.update(thread_ts=thread_ts, parent_user_id=BOT_USER)
        else:
            self._roots[message["ts"]] = (message, args.get("metadata"))
        self._echo(message)
        return {"channel": CHANNEL, "ts": message["ts"], "message": message}

    def _history(self, args: JSON) -> JSON:
        """The channel's latest top-level posts, newest first, one page."""
        limit = min(int(args.get("limit") or 100), HISTORY_PAGE)
        metadata = truthy(args.get("include_all_metadata"))
        latest = list(self._roots.values())[-limit:][::-1]
        messages = [{**m, "metadata": d} if metadata and d else m for m, d in latest]
        return {"messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _echo(self, message: JSON) -> None:
        if self._events is None:
            return
        event = {
            **message,
            "channel": CHANNEL,
            "event_ts": message["ts"],
            "channel_type": "channel",
        }
        body = json.dumps(event_callback(event, f"Ev0BENCH{next(self._event_ids):08d}")).encode()
        task = asyncio.create_task(self._events.post(body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class EventsLine:
    """Signed events to the bot's endpoint over kept-alive HTTP/1.1 connections, written by
    hand: aiohttp's client cost this process about as much per echo as its server did per
    post. Enough of HTTP for the bot's answers (a status line, headers, a
    ``Content-Length`` body); a connection is reused once its answer is read."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, body: bytes) -> int:
        """POST ``body`` (JSON) signed with the current timestamp; the answer's status."""
        now = int(time.time())
        head = (
            f"{self._head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Slack-Request-Timestamp: {now}\r\n"
            f"X-Slack-Signature: {sign(SIGNING_SECRET, now, body)}\r\n\r\n"
        )
        request = head.encode() + body
        while self._idle:
            # A kept-alive connection the bot closed while it was idle (its keep-alive
            # timeout, e.g. in the pause between the ramp and the fixed run) answers
            # nothing: drop it and try the next, as an HTTP client does.
            reader, writer = self._idle.pop()
            with contextlib.suppress(ConnectionError):
                if (status := await self._exchange(reader, writer, request)) is not None:
                    return status
            writer.close()
        reader, writer = await asyncio.open_connection(self._host, self._port)
        status = await self._exchange(reader, writer, request)
        if status is None:
            raise ConnectionError("the bot closed a new events connection without answering")
        return status

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> int | None:
        """The answer's status, the connection kept for the next post; None if the
        connection was closed before an answer began."""
        writer.write(request)
        status = await reader.readline()
        if not status:
            return None
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        self._idle.append((reader, writer))
        return int(status.split()[1])

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
