"""A faithful fake Slack: the Web API the bot calls, Socket Mode, the HTTP Events API and
interactivity, on one local aiohttp server (Slack's documented wire format).

What it reproduces, because the bot's correctness depends on it:

* Web API at ``<base>/api/<method>`` the way ``AsyncWebClient`` calls it: arguments from the
  query string, JSON or form body, merged; ``Authorization: Bearer`` or a ``token`` field;
  HTTP 200 ``{"ok": false, "error": …}`` for API errors; ``missing_scope`` for a scope the
  app manifest (``slack/manifest.yml``) does not request; ``x-oauth-scopes`` header.
* ``chat.postMessage`` limited to ``rate`` posts per second per channel (token bucket,
  ``burst``): beyond it HTTP 429 with an integer ``Retry-After``. Every 429 is counted, and
  so is every post that arrives before a 429's ``Retry-After`` has passed (not honoured).
* Every message kept per channel and thread, with metadata returned only for
  ``include_all_metadata``; reactions per message. A ``ts`` is unique within its channel
  only, as on Slack: two channels may hold messages with the same ``ts`` (``ts_epoch``
  makes every channel count from the same instant, so they do).
* Several channels (:meth:`FakeSlack.add_channel`): history, ``conversations.info`` and
  membership per channel; a call into a channel the bot is not in is answered
  ``not_in_channel`` (``channel_not_found`` for a private one); events come only from
  channels the bot is in.
* Events: the bot's own posts come back as ``message`` events carrying its ``bot_id``,
  ``user``, ``app_id`` and ``bot_profile``; agents' messages, edits (``message_changed``)
  and other bots' posts as Slack sends them. Delivered by Socket Mode (``hello``, envelopes,
  ``{"envelope_id"}`` acks, redelivery with ``retry_attempt``) or HTTP (v0-signed with the
  current timestamp; redelivered with ``X-Slack-Retry-Num`` after a timeout or non-2xx).
* Interactivity: ``block_actions`` built from the button in the stored message, as a form
  ``payload=`` (HTTP) or an ``interactive`` envelope (Socket Mode).

Tests act as agents through :meth:`FakeSlack.agent_reply`, :meth:`FakeSlack.edit`,
:meth:`FakeSlack.press_button` and friends, and inspect what the bot sent through
:attr:`FakeSlack.requests`, :meth:`FakeSlack.thread` and the counters.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from tests.fakes.slack_files import FakeSlackFiles
from tests.fakes.slack_views import FakeViews
from tests.fakes.slack_wire import (
    JSON,
    MAX_TEXT_CHARS,
    STANDARD_EMOJI,
    ApiError,
    manifest_scopes,
    merge_arguments,
    needed_scope,
    rich_text,
    sign,
    truthy,
    user_object,
    validate_blocks,
    validate_metadata,
)

TEAM_ID = "T0FAKETEAM"
BOT_USER = "U0EMPFANG"
BOT_ID = "B0EMPFANG"
APP_ID = "A0EMPFANG"
CHANNEL = "C0SUPPORT1"
BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
APP_TOKEN = "xapp-1-A0EMPFANG-3333-fakeapptoken"
SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
VERIFICATION_TOKEN = "fakeverificationtoken"

Mode = Literal["socket", "http"]


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass
class Request:
    """One Web API call as received: merged arguments and the raw bytes on the wire."""

    method: str
    args: JSON
    headers: dict[str, str]
    raw: str
    at: float
    status: int = 200
    error: str | None = None
    peer: object = None
    """The client's address and port: one per TCP connection the bot opened."""


@dataclass
class RateLimitHit:
    channel: str
    at: float
    retry_after: int


@dataclass
class Fault:
    """Make the next call of ``method`` fail. ``after_effect``: the call takes effect
    first (the bot cannot know it did); ``delay``: seconds before answering."""

    method: str
    status: int = 500
    after_effect: bool = True
    delay: float = 0.0


@dataclass
class Attempt:
    retry_num: int
    outcome: str


@dataclass
class Delivery:
    """An event (or interactive payload) and every attempt to deliver it."""

    kind: str
    body: JSON
    event_id: str | None
    attempts: list[Attempt] = field(default_factory=list)
    acked: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, seconds: float = 10.0) -> Delivery:
        await asyncio.wait_for(self.done.wait(), seconds)
        return self


@dataclass
class Member:
    user_id: str
    name: str
    real_name: str
    display_name: str
    is_bot: bool = False
    bot_id: str | None = None

    def view(self) -> JSON:
        return user_object(
            self.user_id,
            TEAM_ID,
            self.name,
            real_name=self.real_name,
            display_name=self.display_name,
            is_bot=self.is_bot,
            bot_id=self.bot_id,
        )


@dataclass
class Channel:
    channel_id: str
    name: str
    private: bool = False
    ext_shared: bool = False
    """Shared with another organisation (Slack Connect)."""
    members: set[str] = field(default_factory=set)
    messages: list[JSON] = field(default_factory=list)


def bot_message(ts: str, text: str) -> JSON:
    """The bot's own message at ``ts`` as Slack stores it and echoes it back as an event
    (``user``, ``bot_id``, ``app_id``, ``bot_profile``): what the bot must recognise as its own."""
    return {
        "user": BOT_USER,
        "type": "message",
        "ts": ts,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "text": text,
        "team": TEAM_ID,
        "bot_profile": {
            "id": BOT_ID,
            "app_id": APP_ID,
            "user_id": BOT_USER,
            "name": "Empfang",
            "icons": {"image_48": "https://a.slack-edge.com/fake_48.png"},
            "deleted": False,
            "updated": 1700000000,
            "team_id": TEAM_ID,
        },
    }


def event_callback(event: JSON, event_id: str) -> JSON:
    """The Events API envelope around ``event`` as Slack delivers it to the app."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{event_id}",
    }


def _cursor(offset: int) -> str:
    return base64.b64encode(f"next_ts:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise ApiError("invalid_cursor") from exc


class FakeSlack:
    """One workspace, one app (the bot), channels, agents; see the module docstring."""

    def __init__(
        self,
        *,
        mode: Mode = "socket",
        channel_id: str = CHANNEL,
        private: bool = False,
        bot_in_channel: bool = True,
        scopes: Iterable[str] | None = None,
        rate: float = 1.0,
        burst: int = 3,
        ack_timeout: float = 3.0,
        retry_delays: tuple[float, ...] = (0.2, 1.0, 3.0),
        host: str = "127.0.0.1",
        ts_epoch: float | None = None,
    ) -> None:
        """``ts_epoch``: every channel's ``ts`` counts from this instant in steps of one
        millisecond (the n-th message of each channel has the same ``ts``); default: the
        clock, strictly increasing per channel."""
        self.mode: Mode = mode
        self.channel_id = channel_id
        self.scopes = frozenset(manifest_scopes() if scopes is None else scopes)
        self.rate = rate
        self.burst = burst
        self.ack_timeout = ack_timeout
        self.retry_delays = retry_delays
        self.host = host
        self.events_url: str | None = None
        self.interactivity_url: str | None = None
        self.signing_secret = SIGNING_SECRET
        self.latency: dict[str, float] = {}
        self.lose_acks = 0
        """Acks (Socket Mode) or 2xx answers (HTTP) to treat as lost: Slack redelivers."""

        self.requests: list[Request] = []
        self.rate_limited: list[RateLimitHit] = []
        self.early_posts: list[tuple[str, float]] = []
        """Posts that came before an earlier 429's Retry-After had passed: (channel, s early)."""
        self.deliveries: list[Delivery] = []
        self.ephemeral: list[JSON] = []
        self.faults: list[Fault] = []
        self.views = FakeViews(self)
        """Modals: ``views.open`` / ``views.update`` and people using them."""

        self.users: dict[str, Member] = {}
        self.channels: dict[str, Channel] = {}
        self.add_user(BOT_USER, "empfang", real_name="Empfang", is_bot=True, bot_id=BOT_ID)
        self.add_channel(channel_id, "support", private=private)
        if bot_in_channel:
            self.channels[channel_id].members.add(BOT_USER)

        self.ts_epoch = ts_epoch
        self._last_ts: dict[str, float] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self._blocked: dict[str, tuple[float, float]] = {}
        self._arrived = 0.0
        self._event_counter = 0
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.base_url = ""
        self.files = FakeSlackFiles(self, token=BOT_TOKEN, team=TEAM_ID, bot_user=BOT_USER)
        """Files v2 uploads, ``files.info`` and ``url_private`` (``tests.fakes.slack_files``)."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._link)
        app.router.add_get("/link", self._link)
        self.files.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.base_url = f"http://{self.host}:{port}"
        self._http = aiohttp.ClientSession()
        return self.base_url

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for ws in list(self._sockets):
            await ws.close()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        """What the bot uses as ``slack.api_base``."""
        return f"{self.base_url}/api/"

    def use_http(self, bot_url: str) -> None:
        """Deliver events and interactivity to the bot's HTTP endpoints."""
        self.mode = "http"
        self.events_url = f"{bot_url}/slack/events"
        self.interactivity_url = f"{bot_url}/slack/interactivity"

    async def idle(self, seconds: float = 15.0) -> None:
        """Wait until every delivery in flight is finished (acked or given up)."""
        pending = [d.done.wait() for d in self.deliveries if not d.done.is_set()]
        if pending:
            await asyncio.wait_for(asyncio.gather(*pending), seconds)

    @property
    def sockets_open(self) -> int:
        return sum(1 for ws in self._sockets if not ws.closed)

    # -- workspace setup ----------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str = "",
        display_name: str = "",
        is_bot: bool = False,
        bot_id: str | None = None,
        member: bool = True,
    ) -> Member:
        user = Member(user_id, name, real_name or name, display_name, is_bot, bot_id)
        self.users[user_id] = user
        if member:
            for channel in self.channels.values():
                channel.members.add(user_id)
        return user

    def add_channel(
        self, channel_id: str, name: str, *, private: bool = False, bot_member: bool = False
    ) -> Channel:
        """A channel with every person of the workspace in it; the bot only with
        ``bot_member`` (as after ``/invite @Empfang``)."""
        channel = Channel(channel_id, name, private)
        channel.members.update(u for u in self.users if u != BOT_USER)
        if bot_member:
            channel.members.add(BOT_USER)
        self.channels[channel_id] = channel
        return channel

    def throttle(self, seconds: int, channel: str | None = None) -> None:
        """Empty the channel's posting budget for ``seconds`` (another app posted a lot):
        the bot's next post gets a 429 with ``Retry-After``."""
        now = time.monotonic()
        self._buckets[channel or self.channel_id] = (1.0 - seconds * self.rate, now)

    def fail_next(self, method: str, **options: Any) -> None:
        self.faults.append(Fault(method, **options))

    # -- Web API ------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        record = Request(
            method=method,
            args={},
            headers=dict(request.headers),
            raw=request.query_string + "\n" + raw.decode("utf-8", "replace"),
            at=time.monotonic(),
            peer=request.transport.get_extra_info("peername") if request.transport else None,
        )
        self.requests.append(record)
        headers = {"x-oauth-scopes": ",".join(sorted(self.scopes))}
        if self.latency.get(method):
            await asyncio.sleep(self.latency[method])
        self._arrived = record.at  # handlers run synchronously from here on
        fault = next((f for f in self.faults if f.method == method), None)
        if fault is not None:
            self.faults.remove(fault)
        try:
            args = merge_arguments(request.query_string, request.content_type, raw)
            record.args = args
            if fault is not None and not fault.after_effect:
                raise _Fault(fault)
            body = {"ok": True, **self._call(method, args, request.headers)}
        except RateLimited as limited:
            record.status, record.error = 429, "ratelimited"
            headers["Retry-After"] = str(limited.retry_after)
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers=headers
            )
        except ApiError as error:
            record.error = error.code
            body = error.body()
        except _Fault as failure:
            return await self._faulted(record, failure.fault)
        if fault is not None:
            return await self._faulted(record, fault)
        return web.json_response(body, headers=headers)

    async def _faulted(self, record: Request, fault: Fault) -> web.Response:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        record.status, record.error = fault.status, "fault"
        return web.json_response({"ok": False, "error": "internal_error"}, status=fault.status)

    def _call(self, method: str, args: JSON, headers: Any) -> JSON:
        token, in_body = self._token(args, headers)
        if method == "apps.connections.open":
            return self._connections_open(token, in_body)
        if not token:
            raise ApiError("not_authed")
        if token.startswith("xapp-"):
            raise ApiError("not_allowed_token_type")
        if token != BOT_TOKEN:
            raise ApiError("invalid_auth")
        handler = self._methods().get(method)
        if handler is None:
            raise ApiError("unknown_method")
        channel = self.channels.get(str(args.get("channel", "")))
        scope = needed_scope(method, private=channel.private if channel else False)
        if scope is not None and scope not in self.scopes:
            raise ApiError("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))
        return handler(args)

    @staticmethod
    def _token(args: JSON, headers: Any) -> tuple[str | None, bool]:
        auth = str(headers.get("Authorization", ""))
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        token = args.pop("token", None)
        return (str(token), True) if token else (None, False)

    def _methods(self) -> dict[str, Callable[[JSON], JSON]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._post_ephemeral,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            **self.views.methods(),
            **self.files.methods(),
        }

    def _auth_test(self, args: JSON) -> JSON:
        return {
            "url": "https://empfang-test.slack.com/",
            "team": "Empfang Test",
            "user": "empfang",
            "team_id": TEAM_ID,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _connections_open(self, token: str | None, in_body: bool) -> JSON:
        if in_body or not token:
            raise ApiError("not_authed")
        if token.startswith("xoxb-"):
            raise ApiError("not_allowed_token_type")
        if token != APP_TOKEN:
            raise ApiError("invalid_auth")
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        ws_base = self.base_url.replace("http://", "ws://")
        return {"url": f"{ws_base}/link/?ticket={ticket}&app_id={APP_ID}"}

    def _channel(self, args: JSON, *, member: bool = True) -> Channel:
        channel = self.channels.get(str(args.get("channel", "")))
        if channel is None or (channel.private and BOT_USER not in channel.members):
            raise ApiError("channel_not_found")
        if member and BOT_USER not in channel.members:
            raise ApiError("not_in_channel")
        return channel

    @staticmethod
    def _find(channel: Channel, ts: Any) -> JSON:
        for message in channel.messages:
            if message["ts"] == ts:
                return message
        raise ApiError("message_not_found")

    def next_ts(self, channel_id: str | None = None) -> str:
        """The next ``ts`` in the channel (default: :attr:`channel_id`): strictly
        increasing there, independent of every other channel."""
        key = channel_id or self.channel_id
        last = self._last_ts.get(key)
        if self.ts_epoch is not None:
            now = self.ts_epoch if last is None else last + 0.001
        else:
            now = max(time.time(), (last or 0.0) + 0.000001)
        self._last_ts[key] = now
        return f"{now:.6f}"

    def _take_post_token(self, channel_id: str) -> None:
        """Token bucket per channel; a 429 says when the next token is there (integer s).

        A post sent after a 429 was answered but before its ``Retry-After`` passed is
        recorded in ``early_posts`` (sent = arrived, before any ``latency``)."""
        now = time.monotonic()
        answered, blocked = self._blocked.get(channel_id, (0.0, 0.0))
        if answered < self._arrived < blocked:
            self.early_posts.append((channel_id, blocked - self._arrived))
        tokens, last = self._buckets.get(channel_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            retry_after = max(1, math.ceil((1.0 - tokens) / self.rate))
            self._buckets[channel_id] = (tokens, now)
            self._blocked[channel_id] = (now, now + retry_after)
            self.rate_limited.append(RateLimitHit(channel_id, now, retry_after))
            raise RateLimited(retry_after)
        self._buckets[channel_id] = (tokens - 1.0, now)

    def _post_message(self, args: JSON) -> JSON:
        channel = self._channel(args)
        text = args.get("text")
        blocks = validate_blocks(args["blocks"]) if args.get("blocks") else None
        if not text and not blocks and not args.get("attachments"):
            raise ApiError("no_text")
        if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
            raise ApiError("msg_too_long")
        metadata = validate_metadata(args["metadata"]) if args.get("metadata") else None
        parent = None
        if args.get("thread_ts"):
            parent = self._find_or_none(channel, args["thread_ts"])
            if parent is not None and parent.get("parent_user_id"):
                raise ApiError("cannot_reply_to_message")
        self._take_post_token(channel.channel_id)
        message = self._bot_message(channel, str(text or ""), blocks, metadata)
        if parent is not None:
            self._attach_reply(parent, message)
        channel.messages.append(message)
        self._emit(channel, self._event_view(channel, message))
        return {"channel": channel.channel_id, "ts": message["ts"], "message": _public(message)}

    @staticmethod
    def _find_or_none(channel: Channel, ts: Any) -> JSON | None:
        """[unverified] A ``thread_ts`` naming no message posts at the top level."""
        return next((m for m in channel.messages if m["ts"] == ts), None)

    def _bot_message(
        self, channel: Channel, text: str, blocks: list[JSON] | None, metadata: JSON | None
    ) -> JSON:
        message = bot_message(self.next_ts(channel.channel_id), text)
        if blocks is not None:
            message["blocks"] = blocks
        if metadata is not None:
            message["metadata"] = metadata
        return message

    @staticmethod
    def _attach_reply(parent: JSON, message: JSON) -> None:
        message["thread_ts"] = parent["ts"]
        message["parent_user_id"] = parent.get("user") or parent.get("bot_id")
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        users = parent.setdefault("reply_users", [])
        author = message.get("user") or message.get("bot_id")
        if author not in users:
            users.append(author)
        parent["reply_users_count"] = len(users)
        parent["latest_reply"] = message["ts"]

    def _update(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._find(channel, args.get("ts"))
        if message.get("user") != BOT_USER:
            raise ApiError("cant_update_message")
        previous = json.loads(json.dumps(message))
        if args.get("blocks"):
            message["blocks"] = validate_blocks(args["blocks"])
        if "text" in args:
            message["text"] = str(args["text"])
        if args.get("metadata"):
            message["metadata"] = validate_metadata(args["metadata"])
        message["edited"] = {"user": BOT_USER, "ts": self.next_ts(channel.channel_id)}
        self._emit(channel, self._changed_view(channel, message, previous))
        return {
            "channel": channel.channel_id,
            "ts": message["ts"],
            "text": message["text"],
            "message": {"text": message["text"], "user": BOT_USER},
        }

    def _delete(self, args: JSON) -> JSON:
        """docs.slack.dev chat.delete: "When used with a bot token, this method may delete
        only messages posted by that bot" (``cant_delete_message`` otherwise). A thread
        parent with replies left becomes a tombstone [unverified: shape of the tombstone]."""
        channel = self._channel(args)
        message = self._find(channel, args.get("ts"))
        if message.get("user") != BOT_USER or message.get("subtype") == "tombstone":
            raise ApiError("cant_delete_message")
        previous = _public(message, metadata=False)
        parent_ts = message.get("thread_ts")
        if parent_ts == message["ts"] and message.get("reply_count"):
            for key in ("text", "blocks", "metadata", "bot_id", "app_id", "bot_profile"):
                message.pop(key, None)
            message.update(subtype="tombstone", hidden=True, user="USLACKBOT")
            message["text"] = "This message was deleted."
        else:
            channel.messages.remove(message)
            parent = self._find_or_none(channel, parent_ts) if parent_ts else None
            if parent is not None and parent is not message:
                parent["reply_count"] = max(0, parent.get("reply_count", 1) - 1)
        ts = self.next_ts(channel.channel_id)
        self._emit(
            channel,
            {
                "type": "message",
                "subtype": "message_deleted",
                "hidden": True,
                "deleted_ts": previous["ts"],
                "previous_message": previous,
                "channel": channel.channel_id,
                "ts": ts,
                "event_ts": ts,
                "channel_type": "group" if channel.private else "channel",
            },
        )
        return {"channel": channel.channel_id, "ts": previous["ts"]}

    def _post_ephemeral(self, args: JSON) -> JSON:
        channel = self._channel(args)
        user = str(args.get("user", ""))
        if user not in channel.members:
            raise ApiError("user_not_in_channel")
        if not args.get("text") and not args.get("blocks"):
            raise ApiError("no_text")
        ts = self.next_ts(channel.channel_id)
        self.ephemeral.append({"channel": channel.channel_id, "user": user, **args, "ts": ts})
        return {"message_ts": ts}

    def _reactions_add(self, args: JSON) -> JSON:
        channel = self._channel(args)
        if not args.get("timestamp") or not args.get("name"):
            raise ApiError("no_item_specified")
        message = self._find(channel, args["timestamp"])
        name = str(args["name"]).strip(":")
        if name not in STANDARD_EMOJI:
            raise ApiError("invalid_name")
        reactions: list[JSON] = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if BOT_USER in entry["users"]:
            raise ApiError("already_reacted")
        entry["users"].append(BOT_USER)
        entry["count"] = len(entry["users"])
        return {}

    def _reactions_remove(self, args: JSON) -> JSON:
        channel = self._channel(args)
        message = self._find(channel, args.get("timestamp"))
        name = str(args.get("name", "")).strip(":")
        reactions: list[JSON] = message.get("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None or BOT_USER not in entry["users"]:
            raise ApiError("no_reaction")
        entry["users"].remove(BOT_USER)
        entry["count"] = len(entry["users"])
        if not entry["users"]:
            reactions.remove(entry)
        return {}

    def _users_info(self, args: JSON) -> JSON:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user.view()}

    def _conversations_info(self, args: JSON) -> JSON:
        channel = self._channel(args, member=False)
        return {
            "channel": {
                "id": channel.channel_id,
                "name": channel.name,
                "is_channel": not channel.private,
                "is_group": channel.private,
                "is_private": channel.private,
                "is_ext_shared": channel.ext_shared,
                "is_archived": False,
                "is_member": BOT_USER in channel.members,
                "num_members": len(channel.members),
            }
        }

    def _conversations_members(self, args: JSON) -> JSON:
        channel = self._channel(args, member=False)
        return {"members": sorted(channel.members), "response_metadata": {"next_cursor": ""}}

    def _page(self, messages: list[JSON], args: JSON) -> JSON:
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = _offset(args.get("cursor"))
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        metadata = truthy(args.get("include_all_metadata", False))
        return {
            "messages": [_public(m, metadata=metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
        }

    def _conversations_replies(self, args: JSON) -> JSON:
        channel = self._channel(args)
        ts = args.get("ts")
        parent = self._find_or_none(channel, ts)
        if parent is None or parent.get("parent_user_id"):
            raise ApiError("thread_not_found")
        replies = [m for m in channel.messages if m.get("thread_ts") == ts and m["ts"] != ts]
        return self._page([parent, *replies], args)

    def _conversations_history(self, args: JSON) -> JSON:
        channel = self._channel(args)
        top = [m for m in channel.messages if not m.get("parent_user_id")]
        return self._page(list(reversed(top)), args)

    # -- Socket Mode --------------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": self.sockets_open,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    data = json.loads(msg.data)
                    future = self._acks.pop(str(data.get("envelope_id")), None)
                    if future is not None and not future.done():
                        future.set_result(None)
        finally:
            self._sockets.remove(ws)
        return ws

    async def disconnect_socket(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does every few hours."""
        for ws in list(self._sockets):
            await ws.send_json({"type": "disconnect", "reason": reason})

    async def _socket_attempt(self, delivery: Delivery, attempt: int, reason: str) -> str:
        ws = next((w for w in reversed(self._sockets) if not w.closed), None)
        if ws is None:
            return "no_connection"
        envelope_id = str(uuid.uuid4())
        envelope: JSON = {
            "envelope_id": envelope_id,
            "type": delivery.kind,
            "payload": delivery.body,
            "accepts_response_payload": delivery.kind != "events_api",
        }
        if delivery.kind == "events_api":
            envelope["retry_attempt"] = attempt
            envelope["retry_reason"] = reason
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        try:
            await ws.send_str(json.dumps(envelope))
            await asyncio.wait_for(future, self.ack_timeout)
        except (TimeoutError, ConnectionError):
            self._acks.pop(envelope_id, None)
            return "timeout"
        return self._lost_or("acked")

    def _lost_or(self, outcome: str) -> str:
        if self.lose_acks > 0:
            self.lose_acks -= 1
            return "ack_lost"
        return outcome

    # -- HTTP delivery ------------------------------------------------------------------------

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        return {
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(self.signing_secret, ts, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    async def _http_attempt(self, delivery: Delivery, attempt: int, reason: str) -> str:
        assert self._http is not None
        if delivery.kind == "events_api":
            url, body = self.events_url, json.dumps(delivery.body).encode()
            content_type = "application/json"
        else:
            url = self.interactivity_url
            body = urlencode({"payload": json.dumps(delivery.body)}).encode()
            content_type = "application/x-www-form-urlencoded"
        if url is None:
            return "no_url"
        headers = {"Content-Type": content_type, **self.signed_headers(body)}
        if attempt:
            headers["X-Slack-Retry-Num"] = str(attempt)
            headers["X-Slack-Retry-Reason"] = reason
        timeout = aiohttp.ClientTimeout(total=self.ack_timeout)
        try:
            async with self._http.post(url, data=body, headers=headers, timeout=timeout) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return self._lost_or("acked")
                if resp.headers.get("X-Slack-No-Retry") == "1":
                    return "no_retry"
                return f"http_{resp.status}"
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError:
            return "connection_failed"

    # -- delivery -----------------------------------------------------------------------------

    def _deliver(self, kind: str, body: JSON, event_id: str | None) -> Delivery:
        delivery = Delivery(kind, body, event_id)
        self.deliveries.append(delivery)
        task = asyncio.create_task(self._run_delivery(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return delivery

    async def _run_delivery(self, delivery: Delivery) -> None:
        retries = self.retry_delays if delivery.kind == "events_api" else ()
        reason = ""
        try:
            for attempt in range(1 + len(retries)):
                if attempt:
                    await asyncio.sleep(retries[attempt - 1])
                if self.mode == "socket":
                    outcome = await self._socket_attempt(delivery, attempt, reason)
                else:
                    outcome = await self._http_attempt(delivery, attempt, reason)
                delivery.attempts.append(Attempt(attempt, outcome))
                if outcome == "acked":
                    delivery.acked = True
                    return
                if outcome == "no_retry":
                    return
                reason = {
                    "timeout": "http_timeout",
                    "ack_lost": "http_timeout",
                    "connection_failed": "connection_failed",
                    "no_connection": "connection_failed",
                }.get(outcome, "http_error")
        finally:
            delivery.done.set()

    def _emit(self, channel: Channel, event: JSON) -> Delivery | None:
        """Deliver a message event to the app if it is in the channel (as Slack does)."""
        if BOT_USER not in channel.members:
            return None
        self._event_counter += 1
        event_id = f"Ev0FAKE{self._event_counter:06d}"
        body = event_callback(event, event_id)
        return self._deliver("events_api", body, event_id)

    def _event_view(self, channel: Channel, message: JSON) -> JSON:
        event = _public(message, metadata=False)
        for key in ("reactions", "reply_count", "reply_users", "reply_users_count", "latest_reply"):
            event.pop(key, None)
        event["channel"] = channel.channel_id
        event["event_ts"] = message["ts"]
        event["channel_type"] = "group" if channel.private else "channel"
        return event

    def _changed_view(self, channel: Channel, message: JSON, previous: JSON) -> JSON:
        ts = self.next_ts(channel.channel_id)
        return {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "message": _public(message, metadata=False),
            "previous_message": _public(previous, metadata=False),
            "channel": channel.channel_id,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "group" if channel.private else "channel",
        }

    # -- acting as people in the workspace ----------------------------------------------------

    def room(self, channel_id: str | None = None) -> Channel:
        """A channel by id; :attr:`channel_id` (the first channel) by default."""
        return self.channels[channel_id or self.channel_id]

    def _user_message(
        self, user: str, text: str, thread_ts: str | None, channel_id: str | None = None
    ) -> tuple[Channel, JSON]:
        channel = self.room(channel_id)
        if user not in channel.members:
            raise ValueError(f"{user} is not in the channel")
        message: JSON = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": self.next_ts(channel.channel_id),
            "team": TEAM_ID,
            "blocks": rich_text(text),
            "client_msg_id": str(uuid.uuid4()),
        }
        if thread_ts is not None:
            parent = self._find(channel, thread_ts)
            self._attach_reply(parent, message)
        channel.messages.append(message)
        return channel, message

    async def agent_reply(
        self,
        thread_ts: str | None,
        user: str,
        text: str,
        *,
        wait: bool = True,
        channel_id: str | None = None,
    ) -> str:
        """A person writes ``text`` in the thread (``None``: at the top level) of channel
        ``channel_id`` (default :attr:`channel_id`); returns its ts. With ``wait`` this
        returns once the app acknowledged the event (or gave up)."""
        channel, message = self._user_message(user, text, thread_ts, channel_id)
        delivery = self._emit(channel, self._event_view(channel, message))
        if wait and delivery is not None:
            await delivery.wait(self._patience())
        return str(message["ts"])

    async def other_bot_reply(
        self,
        thread_ts: str,
        text: str,
        *,
        classic: bool = True,
        wait: bool = True,
        channel_id: str | None = None,
    ) -> str:
        """Another integration posts in the thread: a classic ``bot_message`` (no user) or
        a modern app bot (``user`` + ``bot_id`` + ``bot_profile``)."""
        channel = self.room(channel_id)
        ts = self.next_ts(channel.channel_id)
        message: JSON = {"type": "message", "text": text, "ts": ts, "team": TEAM_ID}
        if classic:
            message.update(subtype="bot_message", bot_id="B0WEBHOOK", username="Alerts")
        else:
            message.update(
                user="U0OTHERBOT",
                bot_id="B0OTHERBOT",
                app_id="A0OTHERAPP",
                bot_profile={"id": "B0OTHERBOT", "name": "Other", "app_id": "A0OTHERAPP"},
            )
        self._attach_reply(self._find(channel, thread_ts), message)
        channel.messages.append(message)
        delivery = self._emit(channel, self._event_view(channel, message))
        if wait and delivery is not None:
            await delivery.wait(self._patience())
        return str(message["ts"])

    async def edit(
        self, ts: str, user: str, text: str, *, wait: bool = True, channel_id: str | None = None
    ) -> None:
        """The author edits their message: stored text changes, ``message_changed`` sent."""
        channel = self.room(channel_id)
        message = self._find(channel, ts)
        if message.get("user") != user:
            raise ValueError("only the author can edit a message")
        previous = json.loads(json.dumps(message))
        message["text"] = text
        message["blocks"] = rich_text(text)
        message["edited"] = {"user": user, "ts": self.next_ts(channel.channel_id)}
        delivery = self._emit(channel, self._changed_view(channel, message, previous))
        if wait and delivery is not None:
            await delivery.wait(self._patience())

    async def press_button(
        self, message_ts: str, user: str, action_id: str, *, channel_id: str | None = None
    ) -> Delivery:
        """``user`` clicks the button ``action_id`` on the stored message (its current
        blocks decide whether the button exists and what its value is)."""
        channel = self.room(channel_id)
        message = self._find(channel, message_ts)
        button, block_id = None, None
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == action_id:
                    button, block_id = element, block.get("block_id", "fake")
        if button is None:
            raise ValueError(f"no button {action_id!r} on message {message_ts}")
        member = self.users[user]
        payload: JSON = {
            "type": "block_actions",
            "user": {"id": user, "username": member.name, "name": member.name, "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel.channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": self.views.trigger(user),
            "team": {"id": TEAM_ID, "domain": "empfang-test"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel.channel_id, "name": channel.name},
            "message": _public(message, metadata=False),
            "state": {"values": {}},
            "response_url": f"https://hooks.slack.com/actions/{TEAM_ID}/1/fake",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": button["text"],
                    "value": button.get("value", ""),
                    "style": button.get("style"),
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.deliver_interaction(payload)

    async def deliver_interaction(self, payload: JSON) -> Delivery:
        """Send an interactive payload (button, select, view submission) and wait for it."""
        return await self._deliver("interactive", payload, None).wait(self._patience())

    def _patience(self) -> float:
        return self.ack_timeout * (2 + len(self.retry_delays)) + sum(self.retry_delays) + 5

    # -- reading what happened ----------------------------------------------------------------

    # Each reader looks into one channel: ``channel_id``, default :attr:`channel_id`.

    def channel_messages(self, channel_id: str | None = None) -> list[JSON]:
        return self.room(channel_id).messages

    def roots(self, channel_id: str | None = None) -> list[JSON]:
        """The bot's top-level posts (thread roots), oldest first."""
        return [
            m
            for m in self.channel_messages(channel_id)
            if m.get("user") == BOT_USER and not m.get("parent_user_id")
        ]

    def thread(self, thread_ts: str, channel_id: str | None = None) -> list[JSON]:
        """Replies in a thread (without the root), oldest first."""
        return [
            m
            for m in self.channel_messages(channel_id)
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]

    def bot_texts(self, thread_ts: str, channel_id: str | None = None) -> list[str]:
        return [
            str(m["text"]) for m in self.thread(thread_ts, channel_id) if m.get("user") == BOT_USER
        ]

    def message(self, ts: str, channel_id: str | None = None) -> JSON:
        return self._find(self.room(channel_id), ts)

    def reactions(self, ts: str, channel_id: str | None = None) -> list[str]:
        """The bot's reactions on a message."""
        message = self.message(ts, channel_id)
        return [r["name"] for r in message.get("reactions", []) if BOT_USER in r["users"]]

    def calls(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    def posts(self) -> list[Request]:
        """Successful chat.postMessage calls."""
        return [r for r in self.calls("chat.postMessage") if r.status == 200 and not r.error]

    def wire_text(self) -> str:
        """Everything the bot sent to Slack, as received (query strings and bodies)."""
        return "\n".join(r.raw for r in self.requests)


class _Fault(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.method)
        self.fault = fault


def _public(message: JSON, *, metadata: bool = True) -> JSON:
    """A stored message as the API returns it (a deep copy; metadata only on request)."""
    view: JSON = json.loads(json.dumps(message))
    if not metadata:
        view.pop("metadata", None)
    return view
